"""CLI command ``demo``: record a scripted agent session and show it."""

from __future__ import annotations

import shlex

import click

from ledger._words import plural
from ledger.cli.common import ledger_dir, print_table, style
from ledger.demo import run_demo


@click.command("demo")
@click.pass_context
def demo_cmd(ctx: click.Context) -> None:
    """Record a realistic scripted agent session, then show what was recorded.

    The agent creates, updates and deletes files in a temporary workspace, runs a
    command, calls an API and makes decisions; each action becomes a commit.

    \b
    Example:
      git ledger demo
    """
    logger, entries = run_demo(ledger_dir(ctx))
    click.echo(f"Recorded {plural(len(entries), 'entry')} in session {logger.session_id}")
    click.echo(f"Ledger: {logger.ledger_dir}\n")
    print_table(
        ["ID", "TYPE", "LEVEL", "DESCRIPTION"],
        [(e.short_id, e.change_type.value, e.level.value, e.description) for e in entries],
    )
    git = f"git --git-dir={shlex.quote(str(logger.ledger_dir))}"
    click.echo("\nInspect it with git:")
    click.echo(style(f"  {git} log --stat {logger.branch}", fg="cyan"))
    file_entry = next(e for e in entries if e.change_type.value == "file_update")
    click.echo(style(f"  {git} show {file_entry.short_id} -- files/", fg="cyan"))
    click.echo(style(f"  {git} log -p --all -- files/app/main.py", fg="cyan"))


def register(group: click.Group) -> None:
    """Add ``demo``."""
    group.add_command(demo_cmd)
