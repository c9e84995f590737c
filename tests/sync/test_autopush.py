"""Automatic capture pushes by itself when the ledger names an auto-push remote."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from ledger import sync
from ledger.write.logger import ChangeLogger
from tests.conftest import git, run_cli


def _wait_for_ref(central: Path, ref: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = git(central, "rev-parse", "--verify", "-q", ref, check=False).strip()
        if out:
            return out
        time.sleep(0.1)
    return ""


def _ledger_with_remote(tmp_path: Path) -> tuple[Path, Path]:
    ledger = tmp_path / "ledger.git"
    ChangeLogger(ledger_dir=ledger, session_id="seed", durable=False).log("api_call", "x")
    central = sync.init_central(tmp_path / "central.git")
    sync.add_remote(ledger, "central", central.as_uri(), auto_push=True)
    return ledger, central


def test_a_drained_commit_is_pushed(tmp_path: Path) -> None:
    ledger, central = _ledger_with_remote(tmp_path)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    env = {"GIT_LEDGER_DIR": str(ledger), "GIT_LEDGER_SESSION": "hooked"}
    assert run_cli("hooks", "install", "--repo", str(work), env=env).returncode == 0
    (work / "a.txt").write_text("hello\n")
    subprocess.run(["git", "-C", str(work), "add", "a.txt"], check=True)
    subprocess.run(
        ["git", "-C", str(work), "commit", "-q", "-m", "first"],
        check=True,
        env={**os.environ, **env},
    )
    drained = run_cli("hooks", "drain", "--wait", env=env)
    assert drained.returncode == 0, drained.stderr
    local = git(ledger, "rev-parse", "refs/heads/sessions/hooked").strip()
    assert _wait_for_ref(central, "refs/heads/sessions/hooked") == local


def test_an_agent_session_end_is_pushed(tmp_path: Path) -> None:
    ledger, central = _ledger_with_remote(tmp_path)
    event = {
        "session_id": "agent-run-1",
        "hook_event_name": "SessionEnd",
        "cwd": str(tmp_path),
        "transcript_path": str(tmp_path / "t.jsonl"),
        "reason": "exit",
    }
    proc = run_cli("--ledger", str(ledger), "agent", "claude-code", input=json.dumps(event))
    assert proc.returncode == 0, proc.stderr
    # The hook spooled the event; its drainer records it, then pushes.
    assert run_cli("--ledger", str(ledger), "agent", "drain").returncode == 0
    sessions = git(ledger, "for-each-ref", "--format=%(refname)", "refs/heads/sessions/")
    ref = next(r for r in sessions.split() if "agent-run-1" in r)
    assert _wait_for_ref(central, ref) == git(ledger, "rev-parse", ref).strip()
