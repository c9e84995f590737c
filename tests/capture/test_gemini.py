"""The Gemini CLI adapter, fed documented Gemini CLI hook events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import fsck_clean, git, run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GENERIC_WORKSPACE = "/home/dev/projects/webapp"
SESSION = "b7e41c2a-5f3d-4a9e-8c21-6d0f3e9a7b54"


def event(name: str, workspace: Path) -> str:
    text = (FIXTURES / "gemini_cli" / name).read_text()
    return text.replace(GENERIC_WORKSPACE, str(workspace))


def feed(ledger: Path, name: str, workspace: Path) -> None:
    proc = run_cli(
        "--ledger", str(ledger), "agent", "gemini-cli", input=event(name, workspace), cwd=workspace
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {}  # Gemini CLI parses the hook's stdout as JSON
    assert proc.stderr == ""


def entries(ledger: Path) -> list[dict[str, Any]]:
    run_cli("--ledger", str(ledger), "agent", "drain")  # hooks spool; record before reading
    ids = git(ledger, "log", "--reverse", "--format=%H", f"refs/heads/sessions/{SESSION}")
    out = []
    for cid in ids.split():
        if "Ledger-Observation:" in git(ledger, "log", "-1", "--format=%B", cid):
            continue
        data = json.loads(git(ledger, "show", f"{cid}:entry.json"))
        data["id"] = cid
        out.append(data)
    return out


def test_a_gemini_session_is_recorded(tmp_path: Path, ledger_path: Path) -> None:
    workspace = tmp_path / "webapp"
    (workspace / "src").mkdir(parents=True)
    dates = workspace / "src" / "dates.py"
    dates.write_text((FIXTURES / "claude_code" / "dates_before.py").read_text())
    before = dates.read_text()
    for name in ("01_session_start.json", "02_before_agent.json", "03_before_tool_replace.json"):
        feed(ledger_path, name, workspace)
    change = json.loads(event("03_before_tool_replace.json", workspace))["tool_input"]
    dates.write_text(before.replace(change["old_string"], change["new_string"]))
    for name in (
        "04_after_tool_replace.json",
        "05_after_tool_shell.json",
        "06_after_tool_shell_exit1.json",
        "07_after_tool_web_fetch.json",
        "08_after_tool_mcp_error.json",
        "09_session_end.json",
    ):
        feed(ledger_path, name, workspace)

    items = entries(ledger_path)
    assert [e["change_type"] for e in items] == [
        "service_start",
        "model_inference",
        "file_update",
        "system_command",
        "system_command",
        "api_call",
        "api_call",
        "service_stop",
    ]
    assert {e["agent_id"] for e in items} == {"gemini-cli"}
    start, prompt, edit, ok, lint, fetch, mcp, end = items
    assert start["description"] == "Gemini CLI session started (startup)"
    assert prompt["metadata"]["prompt"].startswith("Make parse_day")
    assert edit["metadata"]["before_from"] == "snapshot"
    assert git(ledger_path, "cat-file", "-p", edit["file_hash_before"]) == before
    assert git(ledger_path, "cat-file", "-p", edit["file_hash_after"]) == dates.read_text()
    assert '+    return datetime.strptime(text, "%Y-%m-%d")' in git(
        ledger_path, "show", edit["id"], "--", "files/src/dates.py"
    )
    assert ok["metadata"]["exit_code"] == 0 and "3 passed" in ok["metadata"]["output"]
    assert lint["metadata"]["exit_code"] == 1 and lint["level"] == "error"
    assert "F401" in lint["metadata"]["output"]
    assert fetch["metadata"]["endpoint"] == "https://docs.python.org/3/library/datetime.html"
    assert mcp["metadata"]["endpoint"] == "mcp://github/create_issue"
    assert mcp["level"] == "error" and mcp["metadata"]["error"] == "Bad credentials"
    assert end["metadata"]["reason"] == "exit"
    fsck_clean(ledger_path)


def test_gemini_settings_are_merged_and_unmerged(tmp_path: Path, ledger_path: Path) -> None:
    workspace = tmp_path / "webapp"
    settings = workspace / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True)
    original = {
        "theme": "GitHub",
        "hooks": {
            "disabled": ["secret-scanner"],
            "AfterTool": [
                {"matcher": "write_file", "hooks": [{"type": "command", "command": "prettier -w"}]}
            ],
        },
    }
    settings.write_text(json.dumps(original))
    proc = run_cli("--ledger", str(ledger_path), "agent", "install", "gemini-cli", cwd=workspace)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(settings.read_text())
    assert data["theme"] == "GitHub" and data["hooks"]["disabled"] == ["secret-scanner"]
    assert set(data["hooks"]) == {
        "disabled",
        "BeforeTool",
        "AfterTool",
        "SessionStart",
        "SessionEnd",
        "BeforeAgent",
    }
    ours = data["hooks"]["AfterTool"][1]["hooks"][0]
    assert ours["timeout"] == 30000 and ours["command"].endswith("agent gemini-cli")
    proc = run_cli("agent", "uninstall", "gemini-cli", cwd=workspace)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(settings.read_text()) == original
