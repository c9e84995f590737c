"""The manual page docs/git-ledger.1 lists every command, and git's --help opens it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ledger.cli.main import load_commands, main

load_commands()  # commands register when first used; these tests walk them all

MANPAGE = Path(__file__).resolve().parents[2] / "docs" / "git-ledger.1"


def _paths(command: click.Command, path: tuple[str, ...] = ()) -> list[str]:
    if not isinstance(command, click.Group):
        return [" ".join(("git ledger", *path))]
    out: list[str] = []
    for name, sub in sorted(command.commands.items()):
        if not sub.hidden:
            out += _paths(sub, (*path, name))
    return out


def test_manpage_lists_every_command() -> None:
    text = MANPAGE.read_text(encoding="utf-8").replace("\\-", "-")
    missing = [p for p in _paths(main) if f"\\fB{p}\\fR" not in text]
    assert not missing, f"add these commands to docs/git-ledger.1: {missing}"


@pytest.mark.skipif(shutil.which("man") is None, reason="no man here")
def test_git_ledger_help_opens_the_manual(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    first = [str(bin_dir)]
    if not (bin_dir.parent / "share" / "man" / "man1" / "git-ledger.1").exists():
        # An editable install leaves data files out: lay the page out as `pip install .`
        # does, next to a bin folder on PATH, which is where man looks.
        prefix = tmp_path / "prefix"
        (prefix / "bin").mkdir(parents=True)
        (prefix / "share" / "man" / "man1").mkdir(parents=True)
        shutil.copy(MANPAGE, prefix / "share" / "man" / "man1" / "git-ledger.1")
        first.insert(0, str(prefix / "bin"))
    env = {k: v for k, v in os.environ.items() if k not in ("MANPATH", "MANOPT")}
    env.update(PATH=os.pathsep.join((*first, env.get("PATH", ""))), MANPAGER="cat",
               PAGER="cat", MANWIDTH="80", HOME=str(tmp_path))
    proc = subprocess.run(["git", "ledger", "--help"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "git-ledger - a git-native change ledger" in proc.stdout.replace("‐", "-")
    assert "git ledger verify" in proc.stdout
