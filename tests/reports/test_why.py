"""git ledger why: from git blame in a real repository to the agent session that wrote a line
(edits recorded through the Claude Code hook, fixture payloads), and "no agent entry" for a
line a person wrote; why COMMIT finds the git-hook entry and the session's edits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.capture.claude_events import commit, drain, prompt, work_repo, write_file
from tests.conftest import run_cli

PROMPT = "Make parse_day accept ISO dates."
HUMAN = "# notes by a person\n"
AGENT = "def parse_day(text):\n    return datetime.strptime(text, \"%Y-%m-%d\")\n"


@pytest.fixture
def project(tmp_path: Path, ledger_path: Path) -> tuple[Path, str, str]:
    repo = work_repo(tmp_path / "webapp", "https://github.com/acme/webapp.git")
    proc = run_cli("--ledger", str(ledger_path), "hooks", "install", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    (repo / "dates.py").write_text(HUMAN)
    human_commit = commit(repo, "Start the notes")
    prompt(ledger_path, repo, "sess-why", PROMPT)
    write_file(ledger_path, repo, "sess-why", "dates.py", HUMAN + AGENT, "toolu_w1")
    agent_commit = commit(repo, "Accept ISO dates")
    # Another repository with a file of the same name and the same line: never the answer.
    other = work_repo(tmp_path / "other", "https://github.com/acme/other.git")
    write_file(ledger_path, other, "sess-other", "dates.py", AGENT, "toolu_o1")
    drain(ledger_path, repo)
    return repo, human_commit, agent_commit


def _why(ledger: Path, cwd: Path, target: str) -> dict[str, Any]:
    proc = run_cli("--ledger", str(ledger), "why", target, "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_an_agent_line_names_its_session_agent_and_prompt(
    project: tuple[Path, str, str], ledger_path: Path
) -> None:
    repo, _human, agent_commit = project
    data = _why(ledger_path, repo, "dates.py:3")
    assert data["text"] == "    return datetime.strptime(text, \"%Y-%m-%d\")"
    assert data["commit"]["commit"] == agent_commit
    assert data["written_by"] == "agent"
    [row] = data["entries"]
    assert row["session_id"] == "sess-why"
    assert row["agent_id"] == "claude-code"
    assert row["prompt"] == PROMPT
    proc = run_cli("--ledger", str(ledger_path), "why", "dates.py:2", cwd=repo)
    assert "session sess-why" in proc.stdout and f"prompt: {PROMPT}" in proc.stdout


def test_a_human_line_has_no_agent_entry(
    project: tuple[Path, str, str], ledger_path: Path
) -> None:
    repo, human_commit, _ = project
    data = _why(ledger_path, repo, "dates.py:1")
    assert data["written_by"] == "person" and data["entries"] == []
    assert data["commit"]["commit"] == human_commit
    assert data["answer"].startswith("no agent entry")
    proc = run_cli("--ledger", str(ledger_path), "why", str(repo / "dates.py") + ":1",
                   cwd=ledger_path.parent)
    author = subprocess.run(["git", "log", "-1", "--format=%an", human_commit], cwd=repo,
                            capture_output=True, text=True, check=True).stdout.strip()
    assert f"no agent entry: written by {author}" in proc.stdout


def test_an_uncommitted_human_edit_is_no_agent_entry(
    project: tuple[Path, str, str], ledger_path: Path
) -> None:
    repo, _, _ = project
    with (repo / "dates.py").open("a") as fh:
        fh.write("# typed by hand\n")
    data = _why(ledger_path, repo, "dates.py:4")
    assert data["commit"] is None and data["written_by"] == "person"


def test_why_commit_finds_the_hook_entry_and_the_edits(
    project: tuple[Path, str, str], ledger_path: Path
) -> None:
    repo, human_commit, agent_commit = project
    data = _why(ledger_path, repo, "HEAD")
    assert data["target"] == agent_commit
    assert data["hook_entry"] is not None
    assert [r["session_id"] for r in data["entries"]] == ["sess-why"]
    assert data["entries"][0]["prompt"] == PROMPT
    first = _why(ledger_path, repo, human_commit[:10])
    assert first["hook_entry"] is not None and first["entries"] == []
    assert first["answer"].startswith("no agent entry")


@pytest.mark.parametrize("target", ["dates.py:0", "missing.py:3", "no-such-rev", "--all"])
def test_bad_targets_are_one_line_errors(
    project: tuple[Path, str, str], ledger_path: Path, target: str
) -> None:
    repo, _, _ = project
    proc = run_cli("--ledger", str(ledger_path), "why", "--", target, cwd=repo)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
