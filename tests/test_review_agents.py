"""Claude Code snapshots: a before-state never reaches a git object unredacted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import fsck_clean, run_cli


def hook(ledger: Path, workspace: Path, payload: dict[str, object]) -> None:
    proc = run_cli(
        "--ledger", str(ledger), "agent", "claude-code", input=json.dumps(payload), cwd=workspace
    )
    assert proc.returncode == 0, proc.stderr


def test_a_pre_tool_snapshot_stores_no_secret(tmp_path: Path, ledger_path: Path) -> None:
    workspace = tmp_path / "proj"
    workspace.mkdir()
    secrets = {".env": "opaqueEnvValue5150", "settings.py": "opaqueSettingValue6160"}
    (workspace / ".env").write_text(f"API_KEY={secrets['.env']}\n")
    (workspace / "settings.py").write_text(f'token = "{secrets["settings.py"]}"\n')
    for name in secrets:
        event = {
            "session_id": "snap-1",
            "cwd": str(workspace),
            "tool_name": "Edit",
            "tool_use_id": f"toolu_{name.strip('.').replace('.', '_')}",
            "tool_input": {"file_path": str(workspace / name), "old_string": "", "new_string": ""},
        }
        hook(ledger_path, workspace, {**event, "hook_event_name": "PreToolUse"})
        with open(workspace / name, "a") as fh:
            fh.write("DEBUG=1\n")
        hook(ledger_path, workspace, {**event, "hook_event_name": "PostToolUse"})

    stored = subprocess.run(
        ["git", "-C", str(ledger_path), "cat-file", "--batch-all-objects", "--batch"],
        check=True,
        capture_output=True,
    ).stdout
    for secret in secrets.values():
        assert secret.encode() not in stored
    log = subprocess.run(
        ["git", "-C", str(ledger_path), "log", "--format=%s", "refs/heads/sessions/snap-1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Updated .env (Edit)" in log and "Updated settings.py (Edit)" in log
    assert not list((ledger_path / "ledger-agents" / "pending").rglob("*.json"))
    fsck_clean(ledger_path)


def test_a_malformed_first_event_does_not_spoil_a_new_ledger(
    tmp_path: Path, ledger_path: Path
) -> None:
    assert not ledger_path.exists()
    proc = run_cli("--ledger", str(ledger_path), "agent", "claude-code", input="not json")
    assert proc.returncode == 0 and "malformed event" in proc.stderr
    hook(
        ledger_path,
        tmp_path,
        {
            "hook_event_name": "PostToolUse",
            "session_id": "first-1",
            "cwd": str(tmp_path),
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
            "tool_response": {"stdout": "a\n", "stderr": "", "interrupted": False},
        },
    )
    log = subprocess.run(
        ["git", "-C", str(ledger_path), "log", "--format=%s", "refs/heads/sessions/first-1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Executed: ls" in log
    assert "malformed event" in (ledger_path / "ledger-agents" / "claude-code.log").read_text()
    fsck_clean(ledger_path)
