"""Every command of the CLI is documented in docs/cli.md.

Also: The trust commands are documented: help with an example, and a section in docs/cli.md; docs/recipes.md runs as written: each shell block, in order, in a scratch folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.cli.main import load_commands, main
from tests.conftest import fsck_clean, git, run_cli

load_commands()  # commands register when first used; these tests walk them all

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_command_is_documented():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in sorted(main.commands)
        if not re.search(rf"git ledger {re.escape(name)}(?![\w-])", text)
    ]
    assert not missing, f"document these commands in docs/cli.md as 'git ledger <name>': {missing}"


# --- The trust commands are documented: help with an example, and a section in docs/cli.md.


@pytest.mark.parametrize("command", ["checkpoint", "verify"])
def test_command_has_help_with_example_and_docs(command: str) -> None:
    proc = run_cli(command, "--help")
    assert proc.returncode == 0 and "Example:" in proc.stdout
    cli = (DOCS / "cli.md").read_text()
    assert f"### git ledger {command}\n" in cli.split("## Trust", 1)[1]
    assert f"git ledger {command}" in (DOCS / "trust.md").read_text()


# --- docs/recipes.md runs as written: each shell block, in order, in a scratch folder.
RECIPES = DOCS / "recipes.md"


def _shell_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", RECIPES.read_text(), re.S | re.M)


def test_every_recipe_runs_as_written(tmp_path: Path, isolated_git: Path) -> None:
    # `git ledger` and `python3` as a user's machine has them: on PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "git-ledger"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ledger "$@"\n')
    shim.chmod(0o755)
    # python3 is this interpreter's own bin folder first on PATH: a venv's python only knows
    # the venv's packages when started from inside the venv, never through a symlink elsewhere.
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env["PATH"] = os.pathsep.join((str(bin_dir), str(Path(sys.executable).parent), env["PATH"]))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    blocks = _shell_blocks()
    assert len(blocks) >= 8
    for block in blocks:
        proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=scratch,
                              env=env, capture_output=True, text=True, check=False, timeout=120)
        output = f"{block}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        assert proc.returncode == 0, output
        assert "Traceback" not in proc.stderr, proc.stderr
    ledger = isolated_git / ".local" / "share" / "git-ledger" / "ledger.git"
    # What the recipes say they did, checked with git.
    subjects = git(ledger, "log", "--all", "--format=%s")
    for expected in ("agent_decision: Release 1.4.0", "deployment: Deployed 1.4.0 to staging",
                     "git_commit: Commit", "system_command: Executed: ls",
                     "file_update: Restore app/config.yaml"):
        assert expected in subjects, subjects
    assert (scratch / "app" / "config.yaml").read_text() == "debug: true\nport: 8080\n"
    assert (scratch / "git_ledger.prom").read_text().count("git_ledger_") > 5
    assert git(ledger, "for-each-ref", "refs/ledger/checkpoints").strip()
    errors = git(ledger, "log", "--all", "--grep=^Ledger-Level: error", "--format=%s")
    assert "sh -c" in errors
    fsck_clean(ledger)


def test_recipes_are_linked_from_the_readme() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    docs_list = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    for doc in ("recipes", "hooks", "agents", "operations", "trust", "reliability", "undo",
                "cli", "api", "architecture"):
        assert f"(docs/{doc}.md)" in docs_list, doc
    # The two set-up commands stay exactly as the README gives them.
    assert "```sh\npip install . && git ledger demo\n```" in readme
    assert "```sh\npip install '.[test]' && pytest\n```" in readme
