"""A drainer killed mid-way loses no spooled agent event; the next drainer records the rest."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import git, run_cli

EVENTS = 40


def test_killing_the_drainer_loses_no_event(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    assert (
        run_cli("--ledger", str(ledger), "agent", "install", "claude-code", cwd=tmp_path).returncode
        == 0
    )
    spool = ledger / "ledger-agents" / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    # Stand in for a running drainer while the hooks spool, so that none starts on its own.
    lock = os.open(spool / ".drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        for i in range(EVENTS):
            event = {
                "session_id": "kill-1",
                "hook_event_name": "PostToolUse",
                "cwd": str(tmp_path),
                "tool_name": "Bash",
                "tool_use_id": f"t{i}",
                "tool_input": {"command": f"echo {i}"},
                "tool_response": {"stdout": f"{i}\n", "stderr": "", "interrupted": False},
            }
            proc = subprocess.run(
                [sys.executable, "-m", "ledger", "--ledger", str(ledger), "agent", "claude-code"],
                input=json.dumps(event),
                capture_output=True,
                text=True,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
    finally:
        os.close(lock)
    assert len(list(spool.glob("ev-*.json"))) == EVENTS  # acknowledged = on disk

    drainer = subprocess.Popen(
        [sys.executable, "-m", "ledger._worker", "agents", str(ledger)],
        env={**os.environ, "GIT_LEDGER_DRAIN_LINGER": "30"},
    )
    deadline = time.monotonic() + 60
    while len(list(spool.glob("ev-*.json"))) > EVENTS // 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    drainer.send_signal(signal.SIGKILL)  # mid-drain, as a dying machine would
    drainer.wait()
    left = len(list(spool.glob("ev-*.json")))
    assert 0 < left < EVENTS

    assert run_cli("--ledger", str(ledger), "agent", "drain").returncode == 0
    subjects = git(ledger, "log", "--format=%s", "refs/heads/sessions/kill-1").splitlines()
    commands = [s for s in subjects if s.startswith("system_command: Executed: echo ")]
    recorded = {int(s.rsplit(" ", 1)[1]) for s in commands}
    assert recorded == set(range(EVENTS))  # none lost
    assert len(commands) <= EVENTS + 1  # a kill between commit and unlink may repeat one
    assert not list(spool.glob("ev-*.json"))
    assert (
        subprocess.run(
            ["git", "--git-dir", str(ledger), "fsck", "--strict"], capture_output=True
        ).returncode
        == 0
    )
