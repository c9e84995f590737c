"""git ledger enable and git ledger status on a real repository with agents configured,
and the portable hook command: it runs from a shell with only the venv's bin on PATH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.capture.claude_events import FIXTURES, commit, drain, work_repo
from tests.conftest import git, run_cli

BIN = str(Path(sys.executable).parent)  # where pip put the git-ledger command
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = work_repo(tmp_path / "webapp")
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(
        json.dumps({"permissions": {"allow": ["Bash(npm test)"]}, "model": "opus"})
    )
    (repo / ".codex").mkdir()
    (repo / ".github" / "hooks").mkdir(parents=True)
    return repo


def _cli(ledger: Path, repo: Path, *args: str, path: str = f"{BIN}:{SYSTEM_PATH}"
         ) -> subprocess.CompletedProcess[str]:
    return run_cli("--ledger", str(ledger), *args, cwd=repo,
                   env={"PATH": path, "HOME": str(repo.parent / "home")})


def _status(ledger: Path, repo: Path, path: str = f"{BIN}:{SYSTEM_PATH}"
            ) -> tuple[int, dict[str, Any]]:
    proc = _cli(ledger, repo, "status", "--json", path=path)
    assert proc.returncode in (0, 1), proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, data


def test_status_before_enable_names_the_problems(project: Path, ledger_path: Path) -> None:
    code, data = _status(ledger_path, project)
    assert code == 1
    text = "\n".join(data["problems"])
    assert "git hooks not installed" in text
    assert "claude-code is configured here but records nothing" in text
    assert "cursor" not in text  # not configured for this repository: not a problem


def test_enable_installs_git_hooks_and_every_configured_agent(
    project: Path, ledger_path: Path
) -> None:
    proc = _cli(ledger_path, project, "enable", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert sorted(a["agent"] for a in result["agents"]) == ["claude-code", "codex", "copilot-cli"]
    assert "cursor" in result["not_configured"]
    hooks_dir = Path(subprocess.run(["git", "rev-parse", "--git-path", "hooks"], cwd=project,
                                    capture_output=True, text=True, check=True).stdout.strip())
    assert (project / hooks_dir / "post-commit").exists()
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    assert settings["model"] == "opus" and settings["permissions"]["allow"] == ["Bash(npm test)"]
    commands = {h["command"] for groups in settings["hooks"].values()
                for g in groups for h in g["hooks"]}
    assert commands and all(c.startswith("git-ledger ") for c in commands)
    assert not any(BIN in c or "python" in c for c in commands)  # no path inside the venv
    assert (project / ".codex" / "hooks.json").exists()
    assert not (project / ".cursor").exists()
    # Running it again changes nothing it should not.
    again = _cli(ledger_path, project, "enable", "--json")
    assert again.returncode == 0
    assert json.loads((project / ".claude" / "settings.json").read_text()) == settings


def test_the_written_command_runs_with_the_venv_bin_on_path(
    project: Path, ledger_path: Path
) -> None:
    assert _cli(ledger_path, project, "enable").returncode == 0
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    command = settings["hooks"]["SessionStart"][0]["hooks"][0]["command"]
    event = json.loads((FIXTURES / "01_session_start.json").read_text())
    event.update(cwd=str(project), session_id="portable-1")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    # As the agent runs it: a shell, in the project, with the venv's bin on PATH only.
    ran = subprocess.run(["/bin/sh", "-c", command], input=json.dumps(event), text=True,
                         cwd=project, env={**env, "PATH": f"{BIN}:{SYSTEM_PATH}"},
                         capture_output=True, check=False)
    assert ran.returncode == 0, ran.stderr
    drain(ledger_path)
    assert git(ledger_path, "rev-parse", "--verify", "refs/heads/sessions/portable-1").strip()
    # Without git-ledger on PATH the command cannot run, and status says why.
    code, data = _status(ledger_path, project, path=SYSTEM_PATH)
    assert code == 1
    assert any("not on PATH" in p for p in data["problems"])


def test_status_after_enable_shows_where_events_go_and_the_last_event(
    project: Path, ledger_path: Path
) -> None:
    assert _cli(ledger_path, project, "enable").returncode == 0
    event = json.loads((FIXTURES / "01_session_start.json").read_text())
    event.update(cwd=str(project), session_id="status-1")
    proc = run_cli("--ledger", str(ledger_path), "agent", "claude-code",
                   input=json.dumps(event), cwd=project)
    assert proc.returncode == 0
    (project / "a.txt").write_text("a\n")
    commit(project, "A commit the hooks record")
    drain(ledger_path, project)
    code, data = _status(ledger_path, project)
    assert data["problems"] == [] and code == 0
    assert data["ledger_dir"] == str(ledger_path)
    rows = {r["agent"]: r for r in data["agents"]}
    assert rows["claude-code"]["installed"][0]["scope"] == "project"
    assert rows["claude-code"]["last_event"]["event"] == "SessionStart"
    assert rows["cursor"]["installed"] == []
    assert data["agent_spool"] == {"pending": 0, "failed": 0}
    assert {h["state"] for h in data["git_hooks"]["hooks"]} == {"installed"}
    text = _cli(ledger_path, project, "status").stdout
    assert f"events go to: {ledger_path}" in text and "no problems" in text


def test_enable_refuses_an_unknown_agent_in_one_line(project: Path, ledger_path: Path) -> None:
    proc = _cli(ledger_path, project, "enable", "--agent", "notepad")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
