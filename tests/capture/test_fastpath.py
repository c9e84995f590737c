"""Agent hooks run for every tool call: their command skips loading the whole CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import git

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
    event = json.dumps({
        "session_id": "fast-1", "hook_event_name": "UserPromptSubmit", "cwd": str(tmp_path),
        "prompt": "add a health check", "transcript_path": str(tmp_path / "t.jsonl"),
    })
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(event=event), str(ledger)],
        capture_output=True, text=True, check=False,
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
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, check=False, close_fds=True,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    closed = subprocess.run(
        ["sh", "-c", 'exec "$0" -m ledger --ledger "$1" agent claude-code <&- >&-',
         sys.executable, str(ledger)],
        capture_output=False, stderr=subprocess.PIPE, text=True, check=False,
    )
    assert closed.returncode == 0 and "Traceback" not in closed.stderr, closed.stderr
