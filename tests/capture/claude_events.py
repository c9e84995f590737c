"""Drive the real Claude Code hook (``git ledger agent claude-code``) with payloads in the
documented format of tests/fixtures/claude_code, against real work repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claude_code"


def payload(name: str, session: str, cwd: Path, **changes: Any) -> dict[str, Any]:
    """A fixture event moved to ``cwd`` and ``session``, with fields replaced."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    data.update(session_id=session, cwd=str(cwd), **changes)
    return data


def send(ledger: Path, data: dict[str, Any], cwd: Path) -> None:
    proc = run_cli("--ledger", str(ledger), "agent", "claude-code", input=json.dumps(data), cwd=cwd)
    assert proc.returncode == 0, proc.stderr


def prompt(ledger: Path, repo: Path, session: str, text: str) -> None:
    send(ledger, payload("02_user_prompt_submit.json", session, repo, prompt=text), repo)


def write_file(ledger: Path, repo: Path, session: str, rel: str, text: str, call: str) -> None:
    """The agent writes ``text`` to ``repo/rel``: PreToolUse, the write, PostToolUse."""
    path = repo / rel
    tool_input = {"file_path": str(path), "content": text}
    pre = payload("03_pre_write.json", session, repo, tool_input=tool_input, tool_use_id=call)
    send(ledger, pre, repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    response = {"type": "update", "filePath": str(path), "content": text,
                "structuredPatch": [], "originalFile": None}
    post = payload("04_post_write.json", session, repo, tool_input=tool_input,
                   tool_response=response, tool_use_id=call)
    send(ledger, post, repo)


def drain(ledger: Path, *repos: Path) -> None:
    """Record what the agents' hooks spooled, and what git's hooks spooled in ``repos``."""
    proc = run_cli("--ledger", str(ledger), "agent", "drain")
    assert proc.returncode == 0, proc.stderr
    for repo in repos:
        proc = run_cli("--ledger", str(ledger), "hooks", "drain", "--wait", "--repo", str(repo))
        assert proc.returncode == 0, proc.stderr


def work_repo(path: Path, remote: str | None = None) -> Path:
    """A real git repository with one commit by a person."""
    path.mkdir(parents=True)
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "Pat Person"],
                 ["config", "user.email", "pat@example.com"]):
        subprocess.run(["git", *args], cwd=path, check=True)
    if remote:
        subprocess.run(["git", "remote", "add", "origin", remote], cwd=path, check=True)
    return path


def commit(repo: Path, message: str) -> str:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()
