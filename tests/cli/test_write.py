"""Recording from a shell: git ledger log, run and demo, as a user runs them.

Also: git ledger run passes on a command's fate as a shell would.
"""

from __future__ import annotations

from pathlib import Path

from ledger._store import LedgerStore
from tests.conftest import fsck_clean, git, run_cli


def test_log_records_an_entry_and_prints_its_id(ledger_path: Path) -> None:
    proc = run_cli(
        "--ledger",
        str(ledger_path),
        "log",
        "--type",
        "deployment",
        "-m",
        "Deployed v1.4",
        "--level",
        "warning",
        "--meta",
        "env=prod",
        "--meta",
        "version=1.4",
        "--session",
        "shell-1",
        "--agent",
        "deploy-bot",
        cwd=ledger_path.parent,  # outside any git work tree: no repository to name
    )
    assert proc.returncode == 0, proc.stderr
    entry_id = proc.stdout.strip()
    assert len(entry_id) == 12  # one id length everywhere; --full prints all 40
    assert git(ledger_path, "rev-parse", "sessions/shell-1").strip()[:12] == entry_id
    entry = LedgerStore(ledger_path).get_entry(entry_id)
    assert entry.metadata == {"env": "prod", "version": "1.4"}
    assert entry.agent_id == "deploy-bot" and entry.level.value == "warning"


def test_log_usage_errors_exit_2_without_traceback(ledger_path: Path) -> None:
    bad_type = run_cli("--ledger", str(ledger_path), "log", "--type", "nope", "-m", "x")
    assert bad_type.returncode == 2 and "Traceback" not in bad_type.stderr
    bad_meta = run_cli(
        "--ledger", str(ledger_path), "log", "--type", "api_call", "-m", "x", "--meta", "novalue"
    )
    assert bad_meta.returncode == 2 and "KEY=VALUE" in bad_meta.stderr
    bad_session = run_cli(
        "--ledger",
        str(ledger_path),
        "log",
        "--type",
        "api_call",
        "-m",
        "x",
        "--session",
        "../escape",
    )
    assert bad_session.returncode == 2 and "invalid session id" in bad_session.stderr
    assert "Traceback" not in bad_session.stderr


def test_run_records_the_command_and_passes_its_exit_code(ledger_path: Path) -> None:
    proc = run_cli(
        "--ledger",
        str(ledger_path),
        "run",
        "--session",
        "r1",
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    )
    assert proc.returncode == 3
    assert proc.stdout == "out\n" and proc.stderr == "err\n"
    entry = next(LedgerStore(ledger_path).walk_session("r1"))
    assert entry.change_type.value == "system_command"
    assert entry.metadata["command"] == "sh -c 'echo out; echo err >&2; exit 3'"
    assert entry.metadata["output"] == "out\n" and entry.metadata["stderr"] == "err\n"
    assert entry.metadata["exit_code"] == 3 and entry.level.value == "error"
    assert entry.metadata["duration_seconds"] >= 0


def test_run_of_a_missing_program(ledger_path: Path) -> None:
    proc = run_cli(
        "--ledger", str(ledger_path), "run", "--session", "r2", "--", "no-such-program-xyz"
    )
    assert proc.returncode == 127 and "cannot run" in proc.stderr
    assert next(LedgerStore(ledger_path).walk_session("r2")).metadata["exit_code"] == 127


def test_demo_on_the_default_ledger(isolated_git: Path) -> None:
    proc = run_cli("demo")
    assert proc.returncode == 0, proc.stderr
    ledger = isolated_git / ".local" / "share" / "git-ledger" / "ledger.git"
    assert f"Ledger: {ledger}" in proc.stdout
    assert "git --git-dir=" in proc.stdout
    log = git(ledger, "log", "--all", "--format=%s")
    for kind in (
        "file_create:",
        "file_update:",
        "file_delete:",
        "system_command:",
        "api_call:",
        "agent_decision:",
        "deployment:",
    ):
        assert kind in log
    diff = git(ledger, "log", "-p", "--all", "--", "files/app/main.py")
    assert '+    if request.path == "/healthz":' in diff
    fsck_clean(ledger)


def test_python_m_ledger_and_help_examples() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0 and "Examples:" in proc.stdout
    for cmd in ("log", "run", "demo"):
        sub = run_cli(cmd, "--help")
        assert sub.returncode == 0 and "Example:" in sub.stdout, cmd
    version = run_cli("--version")
    assert version.returncode == 0 and "git-ledger" in version.stdout


# --- git ledger run passes on a command's fate as a shell would.


def test_run_of_a_command_killed_by_a_signal_exits_128_plus_the_signal(
    ledger_path: Path,
) -> None:
    proc = run_cli(
        "--ledger", str(ledger_path), "run", "--session", "k1", "--", "sh", "-c", "kill -9 $$"
    )
    assert proc.returncode == 137  # as sh reports it, not 256 - 9
    entry = next(LedgerStore(ledger_path).walk_session("k1"))
    assert entry.metadata["exit_code"] == -9 and entry.level.value == "error"
    fsck_clean(ledger_path)
