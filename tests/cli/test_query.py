"""The reading commands as a user runs them: tables, --json, exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, LogLevel
from tests.conftest import git, run_cli

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    path = root / "ledger.git"
    a = ChangeLogger(path, agent_id="alpha", session_id="s-alpha", workdir=root, durable=False)
    b = ChangeLogger(path, agent_id="beta", session_id="s-beta", workdir=root, durable=False)
    a.log_file_change("api/main.py", ChangeType.FILE_CREATE, None, "one\n",
                      timestamp=NOW - dt.timedelta(days=3))
    b.log_file_change("api/main.py", ChangeType.FILE_UPDATE, "one\n", "two\n",
                      timestamp=NOW - dt.timedelta(hours=5))
    a.log_command("make deploy", "database migration failed", 1,
                  timestamp=NOW - dt.timedelta(hours=1))
    b.log(ChangeType.DEPLOYMENT, "Deployed v2", {"environment": "prod"},
          level=LogLevel.CRITICAL, timestamp=NOW - dt.timedelta(minutes=10))
    return path


def cli(ledger: Path, *args: str):
    return run_cli("--ledger", str(ledger), *args)


def json_lines(text: str) -> list[dict]:
    """A listing's JSON array, or the JSON lines of a one-object command (show, stats)."""
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines()]


def test_recent_table_and_json(ledger: Path):
    proc = cli(ledger, "recent", "--hours", "2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["TIME", "ID", "SESSION", "AGENT", "TYPE", "LEVEL", "DESCRIPTION"]
    assert len(lines) == 3 and "Deployed v2" in lines[1] and "make deploy" in lines[2]
    # Columns line up: every row starts its ID where the header does.
    start = lines[0].index("ID")
    assert all(len(row[start:].split()[0]) == 12 for row in lines[1:])
    rows = json_lines(cli(ledger, "recent", "--hours", "2", "--json").stdout)
    assert [r["description"] for r in rows] == ["Deployed v2", "Executed: make deploy"]
    ids = git(ledger, "log", "--all", "--since=2.hours.ago", "--format=%H").split()
    assert sorted(r["id"] for r in rows) == sorted(ids)


def test_recent_nothing_found_exits_1(ledger: Path):
    proc = cli(ledger, "recent", "--hours", "0.001")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "No entries" in proc.stderr
    proc = cli(ledger, "recent", "--hours", "0.001", "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout) == []  # jq reads an empty result


def test_search_flags(ledger: Path):
    proc = cli(ledger, "search", "--type", "file_update", "--type", "file_create",
               "--file", "api/", "--start-date", "7d", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [r["change_type"] for r in json_lines(proc.stdout)] == ["file_update", "file_create"]
    proc = cli(ledger, "search", "--text", "DATABASE", "--level", "error", "--json")
    assert [r["description"] for r in json_lines(proc.stdout)] == ["Executed: make deploy"]
    proc = cli(ledger, "search", "--session", "s-beta", "--agent", "beta", "--limit", "1",
               "--json")
    assert [r["description"] for r in json_lines(proc.stdout)] == ["Deployed v2"]
    day = (NOW - dt.timedelta(hours=5)).strftime("%Y-%m-%d")
    proc = cli(ledger, "search", "--start-date", day, "--end-date", day, "--type", "file_update")
    assert proc.returncode == 0 and "Updated api/main.py" in proc.stdout
    proc = cli(ledger, "search", "--text", "database", "--verbose")
    assert proc.returncode == 0
    assert '"exit_code": 1' in proc.stdout and "session: s-alpha" in proc.stdout
    assert cli(ledger, "search", "--text", "no-such-text").returncode == 1


@pytest.mark.parametrize(
    "args",
    [
        ["search", "--type", "teleport"],
        ["search", "--start-date", "last tuesday"],
        ["search", "--end-date", "2025-13-45"],
        ["search", "--limit", "0"],
        ["recent", "--hours", "-1"],
        ["search", "--session", "../escape"],
        ["audit", "not-a-date"],
        ["audit", "7d", "--format", "pdf"],
    ],
)
def test_usage_errors_exit_2_without_traceback(ledger: Path, args: list[str]):
    proc = cli(ledger, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_missing_ledger_is_one_line(tmp_path: Path):
    proc = run_cli("--ledger", str(tmp_path / "none.git"), "recent")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no ledger" in proc.stderr
    assert not (tmp_path / "none.git").exists()


def test_file_history_show_and_session(ledger: Path):
    proc = cli(ledger, "file-history", "api/main.py", "--verbose")
    assert proc.returncode == 0, proc.stderr
    assert "+++ b/api/main.py" in proc.stdout and "-one\n+two" in proc.stdout
    rows = json_lines(cli(ledger, "file-history", "api/main.py", "--json").stdout)
    assert [r["session_id"] for r in rows] == ["s-alpha", "s-beta"]
    assert cli(ledger, "file-history", "nope.py").returncode == 1

    shown = cli(ledger, "show", rows[1]["id"][:8])
    assert shown.returncode == 0 and rows[1]["id"] in shown.stdout
    assert "-one\n+two" in shown.stdout
    data = json_lines(cli(ledger, "show", rows[1]["id"], "--json").stdout)[0]
    assert (data["before_state"], data["after_state"]) == ("one\n", "two\n")
    assert "+two" in data["diff"]
    missing = cli(ledger, "show", "0000000")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr

    proc = cli(ledger, "session", "s-alpha")
    assert proc.returncode == 0 and "SESSION" not in proc.stdout.splitlines()[1]
    assert proc.stdout.index("Created api/main.py") < proc.stdout.index("make deploy")
    assert cli(ledger, "session", "s-nobody").returncode == 1


def test_sessions_and_stats(ledger: Path):
    rows = json_lines(cli(ledger, "sessions", "--json").stdout)
    assert [(r["session_id"], r["entries"], r["errors"]) for r in rows] == [
        ("s-beta", 2, 1), ("s-alpha", 2, 1),
    ]
    table = cli(ledger, "sessions").stdout.splitlines()
    assert table[0].split() == ["SESSION", "AGENT", "FIRST", "LAST", "ENTRIES", "ERRORS"]
    stats = json_lines(cli(ledger, "stats", "--json").stdout)[0]
    assert (stats["total_entries"], stats["sessions"], stats["agents"]) == (4, 2, 2)
    assert stats["by_level"] == {"info": 2, "error": 1, "critical": 1}
    assert stats["storage"]["total_size_bytes"] > 0
    assert stats["storage"]["max_storage_mb"] == 500
    text = cli(ledger, "stats")
    assert text.returncode == 0 and "file_update" in text.stdout
    assert "Storage:" in text.stdout and "of 500 MB" in text.stdout


def test_audit_and_patterns(ledger: Path, tmp_path: Path):
    out = tmp_path / "audit.json"
    proc = cli(ledger, "audit", "7d", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar outside a terminal
    report = json.loads(out.read_text())
    assert report["summary"]["total_entries"] == 4
    assert report["integrity"]["fsck"]["ok"] is True
    md = cli(ledger, "audit", "2h", "--format", "markdown", "--no-fsck")
    assert md.returncode == 0 and md.stdout.startswith("# Audit report")
    html = cli(ledger, "audit", "2h", "--format", "html", "--no-fsck")
    assert html.returncode == 0 and html.stdout.lstrip().lower().startswith("<!doctype html")
    proc = cli(ledger, "patterns", "--start-date", "7d", "--json")
    data = json_lines(proc.stdout)[0]
    assert data["total_entries"] == 4 and data["failing_commands"][0]["command"] == "make deploy"
    assert cli(ledger, "patterns", "--start-date", "7d").returncode == 0
    assert cli(ledger, "patterns", "--end-date", "2001-01-01").returncode == 1


def test_import_command_is_idempotent(tmp_path: Path):
    path = tmp_path / "ledger.git"
    src = tmp_path / "log.jsonl"
    src.write_text(json.dumps({
        "id": "a1b2c3d4e5f6g7h8", "timestamp": "2025-11-05T17:30:45.123456+00:00",
        "session_id": "abc123def456", "agent_id": "prime-spark-agent",
        "change_type": "agent_decision", "description": "Chose plan B", "level": "info",
        "metadata": {"decision": "B", "reasoning": "cheaper"},
    }) + "\n")
    first = run_cli("--ledger", str(path), "import", str(src), "--json")
    assert first.returncode == 0, first.stderr
    assert json_lines(first.stdout)[0]["imported"] == 1
    again = run_cli("--ledger", str(path), "import", str(src))
    assert again.returncode == 0 and "Imported 0 entries" in again.stdout
    found = run_cli("--ledger", str(path), "search", "--text", "cheaper", "--json")
    assert json_lines(found.stdout)[0]["metadata"]["imported_id"] == "a1b2c3d4e5f6g7h8"
    src.write_text("[{]")
    bad = run_cli("--ledger", str(path), "import", str(src))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_help_texts_carry_examples():
    for name in ("recent", "search", "file-history", "session", "show", "sessions", "audit",
                 "stats", "patterns", "import"):
        proc = run_cli(name, "--help")
        assert proc.returncode == 0 and "Example:" in proc.stdout, name
        assert f"git ledger {name}" in proc.stdout, name


def test_unrecordable_paths_are_refused_not_searched(ledger: Path):
    for bad in ("../x", "a/.git/config"):
        proc = cli(ledger, "file-history", bad)
        assert proc.returncode == 2, proc
        assert proc.stderr.startswith("git-ledger: error:") and proc.stderr.count("\n") == 1
    missing = cli(ledger, "show", "deadbeef00")
    assert missing.returncode == 1 and missing.stderr.startswith("git-ledger: error:")
