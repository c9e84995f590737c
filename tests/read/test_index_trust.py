"""The query index cannot hide an entry: each attack on the SQLite file, through the real CLI.

A real ledger, its index built by a real query, then edited with SQLite as an attacker would:
every answer stays complete (checked against `git log`), and `verify` names the tampering as
a warning without failing.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType
from ledger._layout import INDEX_FILE
from tests.conftest import git, run_cli

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.git"
    for n, sid in enumerate(["s-one", "s-two", "s-three"]):
        log = ChangeLogger(path, agent_id=f"agent-{n}", session_id=sid, workdir=tmp_path,
                           durable=False)
        log.log_file_change("api/main.py", ChangeType.FILE_UPDATE, f"v{n}\n", f"v{n + 1}\n",
                            timestamp=NOW - dt.timedelta(minutes=30 - n))
        log.log_command(f"deploy-{sid} --prod", "ok", 0,
                        timestamp=NOW - dt.timedelta(minutes=20 - n))
    # Build the index the way a user does, and remember the tips' times.
    assert cli(path, "stats").returncode == 0
    assert cli(path, "recent", "--hours", "2").returncode == 0
    return path


def cli(ledger: Path, *args: str):
    return run_cli("--ledger", str(ledger), *args)


def answers(ledger: Path) -> dict[str, object]:
    def js(*args: str) -> object:
        proc = cli(ledger, *args, "--json")
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout
        if text.startswith("["):
            return json.loads(text)
        return [json.loads(line) for line in text.splitlines()]

    return {
        "search": sorted(r["id"] for r in js("search", "--text", "deploy-s-two")),
        "history": sorted(r["id"] for r in js("file-history", "api/main.py")),
        "sessions": sorted((r["session_id"], r["entries"]) for r in js("sessions")),
        "stats": js("stats"),
        "recent": sorted(r["id"] for r in js("recent", "--hours", "2")),
    }


def edit(ledger: Path, *statements: str) -> None:
    conn = sqlite3.connect(ledger / INDEX_FILE)
    with conn:
        for sql in statements:
            assert conn.execute(sql).rowcount > 0, sql
    conn.close()


def expected(ledger: Path) -> dict[str, object]:
    all_ids = git(ledger, "log", "--branches=sessions/*", "--invert-grep",
                  "--grep=^Ledger-Observation:", "--format=%H").split()
    return {"entries": len(all_ids)}


def check_complete(ledger: Path, before: dict[str, object]) -> None:
    after = answers(ledger)
    assert after["search"] == before["search"] and len(before["search"]) == 1  # type: ignore[arg-type]
    assert after["history"] == before["history"] and len(before["history"]) == 3  # type: ignore[arg-type]
    assert after["sessions"] == before["sessions"]
    assert after["recent"] == before["recent"] and len(before["recent"]) == 6  # type: ignore[arg-type]
    stats = after["stats"]
    assert isinstance(stats, list | dict)
    total = (stats[0] if isinstance(stats, list) else stats)["total_entries"]
    assert total == expected(ledger)["entries"] == 6


def verify_warns(ledger: Path) -> str:
    proc = cli(ledger, "verify", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    notes = [n for n in report["unvouched"] if n["code"] == "index-untrusted"]
    assert len(notes) == 1, report
    return str(notes[0]["message"])


def test_deleted_rows_cannot_hide_entries(ledger: Path):
    before = answers(ledger)
    edit(ledger, "DELETE FROM entries WHERE text LIKE '%deploy-s-two%'",
         "DELETE FROM entries WHERE file = 'api/main.py' AND session = 's-one'")
    assert "rows of session" in verify_warns(ledger)
    check_complete(ledger, before)
    # The rebuilt index proves out again: verify is quiet.
    report = json.loads(cli(ledger, "verify", "--json").stdout)
    assert not [n for n in report["unvouched"] if n["code"] == "index-untrusted"]


def test_deleted_rows_with_forged_counts_are_caught(ledger: Path):
    before = answers(ledger)
    edit(ledger, "DELETE FROM entries WHERE session = 's-two'",
         "UPDATE sessions SET count = 0 WHERE session = 's-two'")
    assert "checksum" in verify_warns(ledger)
    check_complete(ledger, before)


def test_tip_times_zero_cannot_empty_recent(ledger: Path):
    before = answers(ledger)
    edit(ledger, "UPDATE tip_times SET ctime = 0")
    check_complete(ledger, before)


def test_edited_text_cannot_hide_an_entry(ledger: Path):
    before = answers(ledger)
    edit(ledger, "UPDATE entries SET text = 'nothing here' WHERE text LIKE '%deploy-s-two%'")
    assert "edited" in verify_warns(ledger)
    check_complete(ledger, before)


def test_replaced_index_file_is_not_trusted(ledger: Path, tmp_path: Path):
    before = answers(ledger)
    # An older copy of the index, with one entry's row removed, put back in place.
    copy = tmp_path / "copy.sqlite"
    shutil.copy(ledger / INDEX_FILE, copy)
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute("DELETE FROM entries WHERE text LIKE '%deploy-s-two%'")
    conn.close()
    for side in ("-wal", "-shm"):
        (ledger / (INDEX_FILE + side)).unlink(missing_ok=True)
    shutil.copy(copy, ledger / INDEX_FILE)
    check_complete(ledger, before)


def test_an_index_from_another_ledger_is_not_trusted(ledger: Path, tmp_path: Path):
    before = answers(ledger)
    other = tmp_path / "other.git"
    log = ChangeLogger(other, agent_id="x", session_id="s-two", workdir=tmp_path, durable=False)
    log.log_command("harmless", "ok", 0)
    assert cli(other, "stats").returncode == 0
    (ledger / INDEX_FILE).unlink()
    shutil.copy(other / INDEX_FILE, ledger / INDEX_FILE)
    check_complete(ledger, before)
