"""Every command of the CLI is documented in docs/cli.md."""

from __future__ import annotations

import re
from pathlib import Path

from ledger.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def test_every_command_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        name
        for name in sorted(main.commands)
        if not re.search(rf"git ledger {re.escape(name)}(?![\w-])", text)
    ]
    assert not missing, f"document these commands in docs/cli.md as 'git ledger <name>': {missing}"
