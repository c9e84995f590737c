"""Agent hooks run for every tool call: their command skips loading the whole CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import git, run_cli

PROBE = """
import io, runpy, sys
sys.argv = ["ledger", "--ledger", sys.argv[1], "agent", "claude-code"]
sys.stdin = io.TextIOWrapper(io.BytesIO({event!r}.encode()))
try:
    runpy.run_module("ledger", run_name="__main__")
finally:
    loaded = [m for m in ("ledger.cli.main", "ledger.read.query", "ledger.metrics") if m in sys.modules]
    sys.stderr.write("LOADED " + ",".join(loaded) + "\\n")
"""


def test_agent_hook_records_without_loading_the_cli(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    event = json.dumps(
        {
            "session_id": "fast-1",
            "hook_event_name": "UserPromptSubmit",
            "cwd": str(tmp_path),
            "prompt": "add a health check",
            "transcript_path": str(tmp_path / "t.jsonl"),
        }
    )
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(event=event), str(ledger)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "LOADED \n" in proc.stderr
    assert git(ledger, "log", "--format=%s", "refs/heads/sessions/fast-1").splitlines() == [
        "model_inference: Prompt: add a health check"
    ]


def test_closed_streams_never_fail_the_agent(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "--ledger", str(ledger), "agent", "claude-code"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        close_fds=True,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    closed = subprocess.run(
        [
            "sh",
            "-c",
            'exec "$0" -m ledger --ledger "$1" agent claude-code <&- >&-',
            sys.executable,
            str(ledger),
        ],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    assert closed.returncode == 0 and "Traceback" not in closed.stderr, closed.stderr


SPOOL_PROBE = """
import io, runpy, sys
sys.argv = ["ledger", "--ledger", sys.argv[1], "agent", "claude-code"]
sys.stdin = io.TextIOWrapper(io.BytesIO({event!r}.encode()))
try:
    runpy.run_module("ledger", run_name="__main__")
finally:
    heavy = [m for m in ("pygit2", "click", "ledger.write.logger") if m in sys.modules]
    sys.stderr.write("HEAVY " + ",".join(heavy) + "\\n")
"""


def test_the_hook_spools_without_pygit2_or_click(tmp_path: Path) -> None:
    import fcntl
    import os

    ledger = tmp_path / "ledger.git"
    run_cli("--ledger", str(ledger), "agent", "install", "claude-code", cwd=tmp_path)
    target = tmp_path / "a.txt"
    target.write_bytes(b"before\n")
    event = json.dumps(
        {
            "session_id": "spool-1",
            "hook_event_name": "PreToolUse",
            "cwd": str(tmp_path),
            "tool_name": "Write",
            "tool_use_id": "t1",
            "tool_input": {"file_path": str(target), "content": "after\n"},
        }
    )
    spool = ledger / "ledger-agents" / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    for held in (True, False):  # with a drainer running, and with one to start
        lock = os.open(spool / ".drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
        if held:
            fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(
            [sys.executable, "-c", SPOOL_PROBE.format(event=event), str(ledger)],
            capture_output=True,
            text=True,
            check=False,
        )
        os.close(lock)
        assert proc.returncode == 0, proc.stderr
        assert "HEAVY \n" in proc.stderr, proc.stderr
    files = sorted(spool.glob("ev-*.json"))
    if files:  # the one spooled while the lock was held, unless the drainer already ran
        assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
        record = json.loads(files[0].read_text())
        state = record["event"]["_ledger"]["files"][str(target)]
        assert state["exists"] and state["size"] == len(b"before\n")
    assert run_cli("--ledger", str(ledger), "agent", "drain").returncode == 0
    assert not list(spool.glob("ev-*.json"))
