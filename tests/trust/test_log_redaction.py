"""Every log file the ledger writes goes through secret redaction: tokens planted in errors
that reach each log never appear in it, markers do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ledger import ChangeLogger
from ledger._layout import LOCK_FOLDER, PUSH_PENDING
from ledger._store import LedgerStore
from ledger.capture.spool import note_failure
from ledger.sync.push import background_push
from tests.conftest import git, run_cli

TOKEN = "ghp_" + "Zq7Lm2xR8tY4" * 3
AWS = "AKIA" + "QYLPMN5HHHFPZAM2"
SLACK = "xoxb-" + "1234567890-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"


def ledger_with_entry(path: Path) -> Path:
    ChangeLogger(path, session_id="s", durable=False).log("deployment", "made")
    return path


def assert_redacted(log: Path, *secrets: str) -> str:
    text = log.read_text()
    for secret in secrets:
        assert secret not in text, (log.name, text)
    assert "[REDACTED:" in text, text
    return text


def test_agent_hook_log(tmp_path: Path, ledger_path: Path) -> None:
    """An event the Claude Code adapter does not know is noted with its name: a token there
    reaches the agent's hook log as a marker."""
    event = {"session_id": "sess-1", "hook_event_name": f"Leak {TOKEN} {AWS}", "cwd": "/"}
    proc = run_cli(
        "--ledger", str(ledger_path), "agent", "claude-code", input=json.dumps(event),
        cwd=tmp_path,
    )
    assert proc.returncode == 0
    log = ledger_path / "ledger-agents" / "claude-code.log"
    assert "unknown event" in assert_redacted(log, TOKEN, AWS)


def test_sync_log_of_a_failed_background_push(tmp_path: Path) -> None:
    """A remote written into the config by hand (add refuses it) whose URL path holds a
    token: the failing background push logs the error without the token."""
    ledger = ledger_with_entry(tmp_path / "l.git")
    git(ledger, "config", "remote.central.url", f"{tmp_path}/missing/{TOKEN}/{SLACK}.git")
    (ledger / LOCK_FOLDER).mkdir(mode=0o700, exist_ok=True)
    (ledger / LOCK_FOLDER / PUSH_PENDING).touch()  # what a writer leaves asking for a push
    assert background_push(ledger, "central") != 0
    text = assert_redacted(ledger / "ledger-sync.log", TOKEN, SLACK)
    assert "push central failed" in text


def test_hooks_failure_log(tmp_path: Path) -> None:
    ledger = ledger_with_entry(tmp_path / "l.git")
    try:
        raise ValueError(f"cannot record: Authorization: Bearer {TOKEN}; key {AWS}")
    except ValueError as exc:
        note_failure(ledger, "post-commit", f"not recorded yet: {exc}")
    assert_redacted(ledger / "ledger-hooks.log", TOKEN, AWS)


def test_recovery_log(tmp_path: Path) -> None:
    ledger = ledger_with_entry(tmp_path / "l.git")
    LedgerStore(ledger).record_recovery(f"removed a stale lock named after {TOKEN}")
    text = assert_redacted(ledger / "ledger-recovery.log", TOKEN)
    assert f"pid={os.getpid()}" in text


def test_a_workers_output_and_its_childrens_reach_the_log_redacted(tmp_path: Path) -> None:
    """A background worker's stdout, stderr, an uncaught traceback and a child process's
    output all go through redaction into its log (as ledger-maintenance.log does)."""
    ledger = ledger_with_entry(tmp_path / "l.git")
    log = ledger / "ledger-maintenance.log"
    script = (
        "import os, sys\n"
        "from ledger import _worker\n"
        "def main(argv):\n"
        f"    print('printed {TOKEN}')\n"
        f"    os.system('echo child {AWS} >&2')\n"
        f"    raise RuntimeError('boom {SLACK}')\n"
        "_worker.main = main\n"
        "sys.exit(_worker.run(['maintain', sys.argv[1]]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(ledger)],
        env={**os.environ, "LEDGER_WORKER_LOG": str(log)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    text = assert_redacted(log, TOKEN, AWS, SLACK)
    assert "printed" in text and "child" in text and "RuntimeError: boom" in text
