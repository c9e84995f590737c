"""Coding-agent adapters: Claude Code hook events recorded, settings merged and unmerged.

Also: Claude Code snapshots: a before-state never reaches a git object unredacted.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fsck_clean, git, run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude_code"
GENERIC_WORKSPACE = "/home/dev/projects/webapp"
SESSION = "3f6c2a1e-8b4d-4e0a-9c7f-2d1b5e8a9f10"


def event(name: str, workspace: Path) -> str:
    return (FIXTURES / name).read_text().replace(GENERIC_WORKSPACE, str(workspace))


def feed(
    ledger: Path,
    name: str,
    workspace: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = run_cli(
        "--ledger",
        str(ledger),
        "agent",
        "claude-code",
        "-v",
        input=event(name, workspace),
        cwd=workspace,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr  # never blocks the agent
    return proc


def entries(ledger: Path, session: str = SESSION) -> list[dict[str, Any]]:
    ids = git(ledger, "log", "--reverse", "--format=%H", f"refs/heads/sessions/{session}")
    out = []
    for cid in ids.split():
        if "Ledger-Observation:" in git(ledger, "log", "-1", "--format=%B", cid):
            continue
        data = json.loads(git(ledger, "show", f"{cid}:entry.json"))
        data["id"] = cid
        out.append(data)
    return out


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "webapp"
    (path / "src").mkdir(parents=True)
    (path / "src" / "dates.py").write_text((FIXTURES / "dates_before.py").read_text())
    return path


def tool_input(name: str, workspace: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event(name, workspace))["tool_input"]
    return data


def test_a_recorded_session_has_exact_file_states(workspace: Path, ledger_path: Path) -> None:
    feed(ledger_path, "01_session_start.json", workspace)
    feed(ledger_path, "02_user_prompt_submit.json", workspace)
    # Write: the snapshot sees no file; the tool creates it.
    feed(ledger_path, "03_pre_write.json", workspace)
    write = tool_input("03_pre_write.json", workspace)
    Path(write["file_path"]).parent.mkdir(parents=True)
    Path(write["file_path"]).write_text(write["content"])
    feed(ledger_path, "04_post_write.json", workspace)
    # Edit: the snapshot holds the old content; the tool changes it.
    feed(ledger_path, "05_pre_edit.json", workspace)
    edit = tool_input("05_pre_edit.json", workspace)
    dates = Path(edit["file_path"])
    before_edit = dates.read_text()
    dates.write_text(before_edit.replace(edit["old_string"], edit["new_string"]))
    feed(ledger_path, "06_post_edit.json", workspace)
    feed(ledger_path, "07_post_bash.json", workspace)
    feed(ledger_path, "08_post_bash_failure.json", workspace)
    feed(ledger_path, "09_post_webfetch.json", workspace)
    feed(ledger_path, "10_post_mcp.json", workspace)
    feed(ledger_path, "11_pre_multiedit.json", workspace)
    multi = tool_input("11_pre_multiedit.json", workspace)
    slug = Path(multi["file_path"])
    text = slug.read_text()
    for change in multi["edits"]:
        text = text.replace(change["old_string"], change["new_string"])
    slug.write_text(text)
    feed(ledger_path, "12_post_multiedit.json", workspace)
    feed(ledger_path, "13_session_end.json", workspace)

    items = entries(ledger_path)
    assert [e["change_type"] for e in items] == [
        "service_start",
        "model_inference",
        "file_create",
        "file_update",
        "system_command",
        "system_command",
        "api_call",
        "api_call",
        "file_update",
        "service_stop",
    ]
    assert {e["agent_id"] for e in items} == {"claude-code"}
    start, prompt, create, update, ok, bad, fetch, mcp, multi_entry, end = items
    assert start["metadata"]["source"] == "startup"
    assert start["metadata"]["model"] == "claude-sonnet-4-5-20250929"
    assert prompt["metadata"]["prompt"].startswith("The date parser test fails")
    assert create["file_path"] == str(workspace / "src/util/slug.py")
    assert create["file_hash_before"] is None
    assert git(ledger_path, "cat-file", "-p", create["file_hash_after"]) == write["content"]

    assert update["metadata"]["before_from"] == "snapshot"
    assert update["metadata"]["tool_use_id"] == "toolu_01AbC3dEf4GhI5jKl6MnO7pQ"
    assert git(ledger_path, "cat-file", "-p", update["file_hash_before"]) == before_edit
    assert git(ledger_path, "cat-file", "-p", update["file_hash_after"]) == dates.read_text()
    diff = git(ledger_path, "show", update["id"], "--", "files/src/dates.py")
    assert '-    return datetime.strptime(text, "%d/%m/%Y")' in diff
    assert '+    return datetime.strptime(text, "%Y-%m-%d")' in diff

    assert ok["metadata"]["command"] == "python -m pytest -q tests/test_dates.py"
    assert ok["metadata"]["exit_code"] == 0 and "3 passed" in ok["metadata"]["output"]
    assert ok["level"] == "info"
    assert bad["metadata"]["exit_code"] == 1 and bad["level"] == "error"
    assert "no-unused-vars" in bad["metadata"]["stderr"]
    assert fetch["metadata"]["endpoint"] == "https://docs.python.org/3/library/datetime.html"
    assert fetch["metadata"]["status_code"] == 200 and fetch["metadata"]["method"] == "GET"
    assert mcp["metadata"]["endpoint"] == "mcp://github/create_issue"
    assert mcp["metadata"]["request_data"]["title"] == "Date parser rejects ISO dates"
    assert "issues/42" in mcp["metadata"]["response_data"][0]["text"]
    assert git(ledger_path, "cat-file", "-p", multi_entry["file_hash_before"]) == write["content"]
    assert git(ledger_path, "cat-file", "-p", multi_entry["file_hash_after"]) == slug.read_text()
    assert end["metadata"]["reason"] == "prompt_input_exit"
    # Every snapshot was taken up by its PostToolUse.
    assert not list((ledger_path / "ledger-agents" / "pending").rglob("*.json"))
    fsck_clean(ledger_path)


def test_without_a_snapshot_the_tool_response_gives_the_before_state(
    workspace: Path, ledger_path: Path
) -> None:
    edit = tool_input("06_post_edit.json", workspace)
    dates = Path(edit["file_path"])
    original = dates.read_text()
    dates.write_text(original.replace(edit["old_string"], edit["new_string"]))
    feed(ledger_path, "06_post_edit.json", workspace)
    (entry,) = entries(ledger_path)
    assert entry["metadata"]["before_from"] == "tool_response"
    assert git(ledger_path, "cat-file", "-p", entry["file_hash_before"]) == original


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("not_json.txt", "malformed event: event is not JSON"),
        ("missing_session.json", "malformed event: event has no 'session_id'"),
        ("unknown_event.json", "unknown event 'Notification'"),
    ],
)
def test_bad_and_unknown_events_are_noted_and_never_block(
    workspace: Path, ledger_path: Path, name: str, expected: str
) -> None:
    proc = feed(ledger_path, name, workspace)
    assert proc.stdout == ""  # stdout would be read by the agent
    log = (ledger_path / "ledger-agents" / "claude-code.log").read_text()
    assert expected in log
    if ledger_path.exists() and (ledger_path / "refs").exists():
        assert git(ledger_path, "for-each-ref", "refs/heads/sessions/") == ""


def test_an_unusable_ledger_does_not_block_the_agent(workspace: Path, tmp_path: Path) -> None:
    broken = tmp_path / "not-a-ledger"
    broken.write_text("a file where the ledger should be")
    proc = run_cli(
        "--ledger", str(broken), "agent", "claude-code", input=event("07_post_bash.json", workspace)
    )
    assert proc.returncode == 0
    assert proc.stderr.startswith("git-ledger: not recorded:")
    assert len(proc.stderr.splitlines()) == 1


def test_snapshots_of_denied_tool_calls_are_dropped_at_session_end(
    workspace: Path, ledger_path: Path
) -> None:
    feed(ledger_path, "05_pre_edit.json", workspace)  # the user then denies the edit
    pending = ledger_path / "ledger-agents" / "pending" / "claude-code" / SESSION
    assert len(list(pending.glob("*.json"))) == 1
    feed(ledger_path, "13_session_end.json", workspace)
    assert not pending.exists()
    (end,) = entries(ledger_path)
    assert end["metadata"]["abandoned_snapshots"] == 1


def test_session_start_exports_the_session_for_git_hooks(
    workspace: Path, ledger_path: Path, tmp_path: Path
) -> None:
    env_file = tmp_path / "claude-env"
    feed(ledger_path, "01_session_start.json", workspace, env={"CLAUDE_ENV_FILE": str(env_file)})
    assert env_file.read_text() == (
        f"export GIT_LEDGER_SESSION={SESSION}\nexport GIT_LEDGER_AGENT=claude-code\n"
    )


def test_session_ids_that_are_not_valid_refs_are_made_valid(
    workspace: Path, ledger_path: Path
) -> None:
    raw = json.loads(event("07_post_bash.json", workspace))
    raw["session_id"] = "../weird session.lock"
    proc = run_cli("--ledger", str(ledger_path), "agent", "claude-code", input=json.dumps(raw))
    assert proc.returncode == 0 and proc.stderr == ""
    from ledger.capture.sessions import session_id_from

    expected = session_id_from("../weird session.lock")
    assert git(ledger_path, "for-each-ref", "--format=%(refname)").strip() == (
        f"refs/heads/sessions/{expected}"
    )


# -- settings --------------------------------------------------------------------------------
OTHER_SETTINGS: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm run test:*)"]},
    "hooks": {
        "PostToolUse": [
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "ruff format"}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


def test_install_merges_and_uninstall_removes_only_ours(workspace: Path, ledger_path: Path) -> None:
    settings = workspace / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(OTHER_SETTINGS, indent=2))
    for _ in range(2):  # a second install replaces our entries instead of adding more
        proc = run_cli(
            "--ledger",
            str(ledger_path),
            "agent",
            "install",
            "claude-code",
            "--project",
            cwd=workspace,
        )
        assert proc.returncode == 0, proc.stderr
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and data["permissions"] == OTHER_SETTINGS["permissions"]
    hooks = data["hooks"]
    assert set(hooks) == {
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "SessionStart",
        "SessionEnd",
        "UserPromptSubmit",
        "Stop",
    }
    assert hooks["PostToolUse"][0] == OTHER_SETTINGS["hooks"]["PostToolUse"][0]
    ours = [
        h
        for groups in hooks.values()
        for g in groups
        for h in g["hooks"]
        if h["command"].endswith("agent claude-code")
    ]
    assert len(ours) == 6
    assert hooks["PreToolUse"][0]["matcher"] == "Write|Edit|MultiEdit|NotebookEdit"
    assert "mcp__.*" in hooks["PostToolUse"][1]["matcher"]

    # The command written there works as Claude Code would run it.
    command = ours[0]["command"]
    done = subprocess.run(
        ["sh", "-c", command],
        input=event("07_post_bash.json", workspace),
        text=True,
        capture_output=True,
        cwd=workspace,
    )
    assert done.returncode == 0, done.stderr
    assert [e["change_type"] for e in entries(ledger_path)] == ["system_command"]

    proc = run_cli("agent", "uninstall", "claude-code", "--json", cwd=workspace)
    assert json.loads(proc.stdout)["removed"] == 6
    assert json.loads(settings.read_text()) == OTHER_SETTINGS


def test_user_scope_and_a_broken_settings_file(
    workspace: Path, ledger_path: Path, isolated_git: Path
) -> None:
    proc = run_cli(
        "--ledger", str(ledger_path), "agent", "install", "claude-code", "--user", cwd=workspace
    )
    assert proc.returncode == 0, proc.stderr
    user_settings = isolated_git / ".claude" / "settings.json"
    assert "SessionStart" in json.loads(user_settings.read_text())["hooks"]
    assert not (workspace / ".claude").exists()
    run_cli("agent", "uninstall", "claude-code", "--user", cwd=workspace)
    assert json.loads(user_settings.read_text()) == {}

    broken = workspace / ".claude" / "settings.json"
    broken.parent.mkdir()
    broken.write_text('{"hooks": {')
    proc = run_cli("agent", "install", "claude-code", cwd=workspace)
    assert proc.returncode == 3
    assert "is not valid JSON" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert broken.read_text() == '{"hooks": {'


def test_commits_made_by_the_agent_land_in_its_session(
    workspace: Path, ledger_path: Path, tmp_path: Path
) -> None:
    """With git hooks installed, a commit run by Claude's Bash joins the Claude session."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(workspace)], check=True)
    run_cli("--ledger", str(ledger_path), "hooks", "install", "--repo", str(workspace))
    env_file = tmp_path / "claude-env"
    feed(ledger_path, "01_session_start.json", workspace, env={"CLAUDE_ENV_FILE": str(env_file)})
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines()
    )
    env = {**os.environ, **exported, "GIT_LEDGER_DRAIN_LINGER": "0"}
    subprocess.run(["git", "-C", str(workspace), "add", "-A"], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(workspace), "commit", "-q", "-m", "Agent work"], check=True, env=env
    )
    run_cli("--ledger", str(ledger_path), "hooks", "drain", "--wait", "--repo", str(workspace))
    types = [e["change_type"] for e in entries(ledger_path)]
    assert types[0] == "service_start" and types[-1] == "git_commit"


# --- Claude Code snapshots: a before-state never reaches a git object unredacted.


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
