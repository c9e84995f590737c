"""Codex CLI, Cursor, Copilot CLI and OpenCode: payloads in each agent's documented shape, fed
to the real hook command (the fast path: spooled, then drained), give entries with the exact
before/after bytes; install/uninstall round-trips each agent's own config file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fsck_clean, git, run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENERIC = "/home/dev/projects/webapp"
BEFORE = (FIXTURES / "claude_code" / "dates_before.py").read_bytes()
OLD, NEW = b'"%d/%m/%Y"', b'"%Y-%m-%d"'
REMOTE = "https://ci-bot:ghp_notARealToken1234@example.com/acme/webapp.git"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository with src/dates.py committed and a remote URL holding a token."""
    path = tmp_path / "webapp"
    (path / "src").mkdir(parents=True)
    (path / "src" / "dates.py").write_bytes(BEFORE)
    for args in (
        ["init", "-q", "-b", "main"],
        ["remote", "add", "origin", REMOTE],
        ["add", "-A"],
        ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", "-C", str(path), *args], check=True)
    return path


def fixture(agent: str, name: str, project: Path) -> str:
    return (FIXTURES / agent.replace("-", "_") / name).read_text().replace(GENERIC, str(project))


def hook(agent: str, ledger: Path, project: Path, name: str, env: dict[str, str] | None = None):
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "--ledger", str(ledger), "agent", agent],
        input=fixture(agent, name, project),
        capture_output=True,
        text=True,
        cwd=project,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc


def entries(ledger: Path, session: str) -> list[dict[str, Any]]:
    assert run_cli("--ledger", str(ledger), "agent", "drain").returncode == 0
    out = []
    for cid in git(ledger, "log", "--reverse", "--format=%H", f"sessions/{session}").split():
        if "Ledger-Observation:" in git(ledger, "log", "-1", "--format=%B", cid):
            continue
        out.append({**json.loads(git(ledger, "show", f"{cid}:entry.json")), "id": cid})
    return out


def blob(ledger: Path, oid: str | None) -> bytes:
    assert oid
    return subprocess.run(
        ["git", "--git-dir", str(ledger), "cat-file", "blob", oid], capture_output=True, check=True
    ).stdout


def edit_dates(project: Path) -> bytes:
    path = project / "src" / "dates.py"
    path.write_bytes(path.read_bytes().replace(OLD, NEW))
    return path.read_bytes()


def install(agent: str, ledger: Path, project: Path) -> Path:
    proc = run_cli("--ledger", str(ledger), "agent", "install", agent, "--json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    return Path(json.loads(proc.stdout)["settings"])


def check_repository(entry: dict[str, Any], project: Path) -> None:
    repo = entry["metadata"]["repository"]
    head = subprocess.run(
        ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert repo == {
        "root": str(project),
        "remote": "https://example.com/acme/webapp.git",
        "head": head,
        "branch": "main",
    }


def test_codex_session(project: Path, ledger_path: Path) -> None:
    settings = install("codex", ledger_path, project)
    assert settings == project / ".codex" / "hooks.json"
    for name in ("01_session_start.json", "02_user_prompt_submit.json"):
        hook("codex", ledger_path, project, name)
    hook("codex", ledger_path, project, "03_pre_tool_use_apply_patch.json")
    after = edit_dates(project)  # Codex applies the patch
    (project / "src" / "iso.py").write_text('ISO_DAY = "%Y-%m-%d"\n')
    for name in (
        "04_post_tool_use_apply_patch.json",
        "05_post_tool_use_bash.json",
        "06_post_tool_use_bash_exit1.json",
        "07_stop.json",
    ):
        hook("codex", ledger_path, project, name)
    items = entries(ledger_path, "019ac3f2-5b7e-7d41-9a0c-3e8f1b2d4c6a")
    kinds = [e["change_type"] for e in items]
    assert kinds == [
        "service_start",
        "model_inference",
        "file_update",
        "file_create",
        "system_command",
        "system_command",
        "agent_decision",
    ]
    start, prompt, update, create, ok, bad, stop = items
    assert {e["agent_id"] for e in items} == {"codex"}
    assert blob(ledger_path, update["file_hash_before"]) == BEFORE
    assert blob(ledger_path, update["file_hash_after"]) == after
    assert update["metadata"]["before_from"] == "snapshot"
    assert "*** Update File: src/dates.py" in update["metadata"]["patch"]
    assert create["file_hash_before"] is None
    assert blob(ledger_path, create["file_hash_after"]) == b'ISO_DAY = "%Y-%m-%d"\n'
    assert ok["metadata"]["exit_code"] == 0 and "3 passed" in ok["metadata"]["output"]
    assert bad["metadata"]["exit_code"] == 1 and bad["level"] == "error"
    assert stop["metadata"]["last_assistant_message"].startswith("parse_day now accepts")
    assert prompt["metadata"]["turn_id"] == "turn-1"
    check_repository(update, project)
    assert "ghp_" not in git(ledger_path, "log", "--all", "-p")
    fsck_clean(ledger_path)


def test_cursor_session_rebuilds_the_before_state(project: Path, ledger_path: Path) -> None:
    install("cursor", ledger_path, project)
    hook("cursor", ledger_path, project, "01_before_submit_prompt.json")
    after = edit_dates(project)  # afterFileEdit comes after Cursor edited the file
    for name in ("02_after_file_edit.json", "03_after_shell_execution.json", "04_stop.json"):
        proc = hook("cursor", ledger_path, project, name)
        assert json.loads(proc.stdout) == {"continue": True}
    items = entries(ledger_path, "7c1e9a42-3b6d-4f08-a5e2-9d0b8c7f6e15")
    assert [e["change_type"] for e in items] == [
        "model_inference",
        "file_update",
        "system_command",
        "agent_decision",
    ]
    _, update, shell, _ = items
    assert blob(ledger_path, update["file_hash_before"]) == BEFORE
    assert blob(ledger_path, update["file_hash_after"]) == after
    assert update["metadata"]["before_rebuilt_from_edits"] is True
    assert update["metadata"]["generation_id"] == "e4b2d8f0-1a3c-4e5b-9f7d-6c8a0b2e4d61"
    assert shell["metadata"]["command"] == "python -m pytest -q tests/test_dates.py"
    assert shell["metadata"]["exit_code"] == 0 and "3 passed" in shell["metadata"]["output"]
    check_repository(shell, project)
    fsck_clean(ledger_path)


def test_copilot_cli_session(project: Path, ledger_path: Path) -> None:
    settings = install("copilot-cli", ledger_path, project)
    config = json.loads(settings.read_text())
    assert config["version"] == 1 and "preToolUse" in config["hooks"]
    names = sorted(p.name for p in (FIXTURES / "copilot_cli").glob("*.json"))
    for name in names:
        event = name.split("_")[1].removesuffix(".json")
        # the env each hook entry sets, as Copilot CLI would run it
        env = config["hooks"][event][0]["env"]
        hook("copilot-cli", ledger_path, project, name, env)
        if event == "preToolUse":
            after = edit_dates(project)
    items = entries(ledger_path, "b3f0c2d4-8e1a-4c6b-9d2f-7a5e3c1b0d98")
    assert [e["change_type"] for e in items] == [
        "service_start",
        "model_inference",
        "file_update",
        "system_command",
        "system_command",
        "service_stop",
    ]
    _, _, update, ok, bad, _ = items
    assert blob(ledger_path, update["file_hash_before"]) == BEFORE
    assert blob(ledger_path, update["file_hash_after"]) == after
    assert update["metadata"]["agent_tool"] == "edit"
    assert ok["metadata"]["exit_code"] == 0 and bad["metadata"]["exit_code"] == 1
    assert bad["level"] == "error"
    fsck_clean(ledger_path)


def test_opencode_session(project: Path, ledger_path: Path) -> None:
    plugin = install("opencode", ledger_path, project)
    assert plugin == project / ".opencode" / "plugins" / "git-ledger.js"
    text = plugin.read_text()
    assert '"tool.execute.before"' in text and "agent opencode" in text
    hook("opencode", ledger_path, project, "01_session_created.json")
    hook("opencode", ledger_path, project, "02_tool_execute_before_edit.json")
    after = edit_dates(project)
    for name in (
        "03_tool_execute_after_edit.json",
        "04_tool_execute_after_bash.json",
        "05_session_idle.json",
    ):
        hook("opencode", ledger_path, project, name)
    items = entries(ledger_path, "ses_5f2a9c1e8ffeYb3QkL0r7TmN2x")
    assert [e["change_type"] for e in items] == [
        "service_start",
        "file_update",
        "system_command",
        "agent_decision",
    ]
    _, update, shell, _ = items
    assert blob(ledger_path, update["file_hash_before"]) == BEFORE
    assert blob(ledger_path, update["file_hash_after"]) == after
    assert update["metadata"]["old_string"] == OLD.decode()
    assert shell["metadata"]["exit_code"] == 0
    fsck_clean(ledger_path)


OTHERS = {
    "codex": {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]}},
    "cursor": {"version": 1, "hooks": {"afterFileEdit": [{"command": "./format.sh"}]}},
    "copilot-cli": None,
    "opencode": None,
}


@pytest.mark.parametrize("agent", sorted(OTHERS))
def test_install_and_uninstall_round_trip(agent: str, project: Path, ledger_path: Path) -> None:
    first = install(agent, ledger_path, project)
    first.unlink()
    other = OTHERS[agent]
    if other is not None:
        first.write_text(json.dumps(other, indent=2) + "\n")
    install(agent, ledger_path, project)
    install(agent, ledger_path, project)  # twice: still one set of ours
    text = first.read_text()
    assert "git-ledger" in text and str(sys.prefix) not in text  # the git-ledger on PATH
    proc = run_cli("agent", "uninstall", agent, "--json", cwd=project)
    assert proc.returncode == 0 and json.loads(proc.stdout)["removed"] > 0
    if other is None:
        assert not first.exists()
    else:
        assert json.loads(first.read_text()) == other
