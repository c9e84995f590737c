"""The trust commands are documented: help with an example, and a section in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from tests.conftest import run_cli
except ImportError:  # pragma: no cover
    from conftest import run_cli  # type: ignore[no-redef]

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("command", ["checkpoint", "verify"])
def test_command_has_help_with_example_and_docs(command: str) -> None:
    proc = run_cli(command, "--help")
    assert proc.returncode == 0 and "Example:" in proc.stdout
    cli = (DOCS / "cli.md").read_text()
    assert f"### git ledger {command}\n" in cli.split("## Trust", 1)[1]
    assert f"git ledger {command}" in (DOCS / "trust.md").read_text()
