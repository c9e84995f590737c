"""CLI commands: undo (see docs/cli.md)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this area's commands to the main group (none yet)."""
