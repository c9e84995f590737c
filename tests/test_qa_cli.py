"""The command line as a user meets it: help, documentation, and one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger import ChangeLogger
from ledger.errors import InvalidInputError
from ledger.metrics import LogMetrics

try:
    from tests.conftest import fsck_clean, git, run_cli
except ImportError:  # pragma: no cover
    from conftest import fsck_clean, git, run_cli  # type: ignore[no-redef]

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _fenced_blocks_balanced(text: str) -> bool:
    fences = [line for line in text.splitlines() if line.startswith("```")]
    # An opening fence carries a language or is bare; closing fences are bare. Walk them.
    inside = False
    for fence in fences:
        if inside:
            if fence.strip() != "```":
                return False  # an opening fence where a closing one was due
            inside = False
        else:
            inside = True
    return not inside


@pytest.mark.parametrize("doc", [*sorted(p.name for p in DOCS.glob("*.md")), "../README.md"])
def test_every_code_block_in_the_docs_is_closed(doc: str) -> None:
    text = (DOCS / doc).read_text()
    assert _fenced_blocks_balanced(text), f"{doc} has a code block that is never closed"


def test_health_refuses_a_window_that_is_not_positive(ledger_path: Path) -> None:
    ChangeLogger(ledger_dir=ledger_path, agent_id="a").log("deployment", "Deployed")
    with pytest.raises(InvalidInputError, match="window_hours"):
        LogMetrics(ledger_path).get_health_status(window_hours=-5)
    proc = run_cli("--ledger", str(ledger_path), "metrics", "health", "--window-hours", "0")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "git-ledger: error: window_hours must be positive"
    assert "CRITICAL" not in proc.stdout  # bad input is not a verdict on the ledger
    fsck_clean(ledger_path)


def test_log_and_run_record_into_the_session_from_the_environment(ledger_path: Path) -> None:
    env = {"GIT_LEDGER_SESSION": "script-1", "GIT_LEDGER_AGENT": "deploy-script"}
    logged = run_cli("--ledger", str(ledger_path), "log", "--type", "deployment",
                     "-m", "Deployed v1.4", "--meta", "env=prod", env=env)
    assert logged.returncode == 0, logged.stderr
    ran = run_cli("--ledger", str(ledger_path), "run", "--", "sh", "-c", "echo out; exit 4",
                  env=env)
    assert ran.returncode == 4 and ran.stdout == "out\n"
    subjects = git(ledger_path, "log", "--format=%s%x09%an", "sessions/script-1").splitlines()
    assert subjects == [
        "system_command: Executed: sh -c 'echo out; exit 4'\tdeploy-script",
        "deployment: Deployed v1.4\tdeploy-script",
    ]
    assert git(ledger_path, "rev-parse", "sessions/script-1~1").strip() == logged.stdout.strip()
    fsck_clean(ledger_path)


def test_docs_cli_names_every_top_level_command() -> None:
    from ledger.cli import main

    text = (DOCS / "cli.md").read_text()
    headings = set(re.findall(r"^### git ledger (\S+)", text, re.M))
    assert set(main.commands) <= headings


def test_tables_end_without_trailing_blanks(ledger_path: Path, workdir: Path) -> None:
    (workdir / "notes.txt").write_text("one\n")
    logger = ChangeLogger(ledger_dir=ledger_path, agent_id="a", session_id="s1")
    with logger.track_file(str(workdir / "notes.txt")):
        (workdir / "notes.txt").write_text("two\n")
    proc = run_cli("--ledger", str(ledger_path), "revert", "s1", "--dry-run",
                   "--workdir", str(workdir), cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("ACTION", "write"))]
    assert len(rows) == 2  # the header (NOTE) and the row, whose NOTE is empty
    assert all(row == row.rstrip() for row in rows)
