"""Every capture path ends up in a real OTLP/HTTP receiver as one trace per session: the six
agents' documented hook payloads, git's own hooks on a real commit, `git ledger run` and the
Python API. Each entry arrives once, as a span with its GenAI operation, linked back to a
commit that `git cat-file` opens; failed commands are marked as errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger import ChangeLogger, ChangeType
from tests.capture.test_githooks import commit_file, install, make_repo
from tests.capture.test_githooks import drain as drain_git
from tests.capture.test_more_agents import (
    BEFORE,
    edit_dates,
    entries,
    hook,
    project,  # noqa: F401 (a fixture)
)
from tests.conftest import git, run_cli

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
from tests.read.otlp_receiver import Receiver

AGENTS = {
    "claude-code": [
        "01_session_start.json",
        "02_user_prompt_submit.json",
        "05_pre_edit.json",
        "06_post_edit.json",
        "07_post_bash.json",
        "08_post_bash_failure.json",
        "13_session_end.json",
    ],
    "gemini-cli": [
        "01_session_start.json",
        "02_before_agent.json",
        "03_before_tool_replace.json",
        "04_after_tool_replace.json",
        "05_after_tool_shell.json",
        "06_after_tool_shell_exit1.json",
        "09_session_end.json",
    ],
    "codex": [
        "01_session_start.json",
        "02_user_prompt_submit.json",
        "03_pre_tool_use_apply_patch.json",
        "04_post_tool_use_apply_patch.json",
        "05_post_tool_use_bash.json",
        "06_post_tool_use_bash_exit1.json",
        "07_stop.json",
    ],
    "cursor": [
        "01_before_submit_prompt.json",
        "02_after_file_edit.json",
        "03_after_shell_execution.json",
        "04_stop.json",
    ],
    "copilot-cli": [
        "01_sessionStart.json",
        "02_userPromptSubmitted.json",
        "03_preToolUse_edit.json",
        "04_postToolUse_edit.json",
        "05_postToolUse_bash.json",
        "06_postToolUse_bash_failure.json",
        "07_sessionEnd.json",
    ],
    "opencode": [
        "01_session_created.json",
        "02_tool_execute_before_edit.json",
        "03_tool_execute_after_edit.json",
        "04_tool_execute_after_bash.json",
        "05_session_idle.json",
    ],
}


PRE_EDIT = {
    "05_pre_edit.json",
    "03_before_tool_replace.json",
    "03_pre_tool_use_apply_patch.json",
    "03_preToolUse_edit.json",
    "02_tool_execute_before_edit.json",
}


def _sessions(ledger: Path) -> list[str]:
    out = git(ledger, "for-each-ref", "--format=%(refname:lstrip=3)", "refs/heads/sessions/")
    return out.split()


@pytest.fixture
def recorded(tmp_path: Path, ledger_path: Path, project: Path) -> dict[str, list[dict[str, Any]]]:  # noqa: F811
    """Sessions written through every capture path, each with its entries (observations out)."""
    for agent, names in AGENTS.items():
        (project / "src" / "dates.py").write_bytes(BEFORE)
        for name in names:
            if name == "02_after_file_edit.json":
                edit_dates(project)  # Cursor reports an edit after it made it
            hook(agent, ledger_path, project, name)
            if name in PRE_EDIT:
                edit_dates(project)  # the agent's tool edits the file between its hooks
    repo = make_repo(tmp_path / "service")
    install(ledger_path, repo)
    commit_file(repo, "app.py", "print('hello')\n", "add app")
    drain_git(ledger_path, repo)
    proc = run_cli(
        "--ledger", str(ledger_path), "run", "--session", "wrapped", "--", "sh", "-c", "exit 3"
    )
    assert proc.returncode == 3, proc.stderr
    logger = ChangeLogger(ledger_path, agent_id="bot", session_id="api")
    logger.log(ChangeType.DEPLOYMENT, "deploy 1.2", metadata={"environment": "prod"})
    return {s: entries(ledger_path, s) for s in _sessions(ledger_path)}


def test_every_capture_path_is_one_trace_per_session(
    ledger_path: Path, recorded: dict[str, list[dict[str, Any]]]
) -> None:
    # six agents, the git hooks' day session, the wrapped command and the API session
    assert len(recorded) >= 9, sorted(recorded)
    assert all(recorded.values()), {s: len(e) for s, e in recorded.items()}
    with Receiver() as rx:
        proc = run_cli("--ledger", str(ledger_path), "export", "--otlp-endpoint", rx.url)
        assert proc.returncode == 0, proc.stderr
    by_entry = rx.by_entry()
    assert len(by_entry) == sum(len(e) for e in recorded.values())  # each entry exactly once
    for session, items in recorded.items():
        spans = [by_entry[e["id"]] for e in items]
        assert len({s["trace_id"] for s in spans}) == 1, session
        roots = [
            s
            for s in rx.spans
            if s["trace_id"] == spans[0]["trace_id"]
            and s["attributes"].get("gen_ai.operation.name") == "invoke_agent"
        ]
        assert len(roots) == 1 and roots[0]["attributes"]["gen_ai.conversation.id"] == session
        for entry, span in zip(items, spans, strict=True):
            assert span["attributes"]["gen_ai.operation.name"], entry
            assert span["attributes"]["ledger.change_type"] == entry["change_type"]
            assert git(ledger_path, "cat-file", "-t", entry["id"]).strip() == "commit"
            failed = entry["change_type"] == "system_command" and entry["level"] == "error"
            assert (span["status"] == 2) == (entry["level"] in ("error", "critical")), entry
            if failed:
                assert span["attributes"]["error.type"].startswith("exit_code_")
    assert len(rx.spans) == len(by_entry) + len(recorded)
