"""No edit of the query index can make a query omit an entry: the real CLI on a real ledger.

Each test builds the index with a first query, then edits the SQLite file as an attacker
with write access to the ledger folder would (rows deleted, times altered, text edited,
tip times zeroed, the sessions table re-counted, the file replaced by another ledger's),
and checks every answer is still complete; ``verify`` reports the index as a warning.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, LogLevel
from ledger._layout import INDEX_FILE
from tests.conftest import run_cli

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def build(path: Path, root: Path, *, full: bool = True) -> Path:
    a = ChangeLogger(path, agent_id="alpha", session_id="s-alpha", workdir=root, durable=False)
    a.log_file_change("api/main.py", ChangeType.FILE_CREATE, None, "one\n",
                      timestamp=NOW - dt.timedelta(hours=3))
    if full:
        b = ChangeLogger(path, agent_id="beta", session_id="s-beta", workdir=root,
                         durable=False)
        b.log_file_change("api/main.py", ChangeType.FILE_UPDATE, "one\n", "two\n",
                          timestamp=NOW - dt.timedelta(hours=1))
        a.log_command("make deploy", "database migration failed", 1,
                      timestamp=NOW - dt.timedelta(minutes=50))
        b.log(ChangeType.DEPLOYMENT, "Deployed v2", {"environment": "prod"},
              level=LogLevel.CRITICAL, timestamp=NOW - dt.timedelta(minutes=10))
    return path


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = build(tmp_path / "ledger.git", tmp_path)
    assert cli(path, "stats").returncode == 0  # builds the index
    assert cli(path, "recent", "--hours", "5").returncode == 0  # caches tip times
    assert (path / INDEX_FILE).exists()
    return path


def cli(ledger: Path, *args: str):
    return run_cli("--ledger", str(ledger), *args)


def rows(ledger: Path, *args: str) -> list[dict]:
    proc = cli(ledger, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    return json.loads(text) if text.startswith("[") else [json.loads(x) for x in text.splitlines()]


def tamper(ledger: Path, *statements: str) -> None:
    conn = sqlite3.connect(ledger / INDEX_FILE, isolation_level=None)
    try:
        for sql in statements:
            conn.execute(sql)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def assert_complete(ledger: Path) -> None:
    found = rows(ledger, "search", "--text", "database")
    assert [r["metadata"]["command"] for r in found] == ["make deploy"]
    assert len(rows(ledger, "file-history", "api/main.py")) == 2
    counts = {r["session_id"]: r["entries"] for r in rows(ledger, "sessions")}
    assert counts == {"s-alpha": 2, "s-beta": 2}
    stats = rows(ledger, "stats")[0]
    assert (stats["total_entries"], stats["sessions"], stats["agents"]) == (4, 2, 2)
    assert len(rows(ledger, "recent", "--hours", "5")) == 4


def verify_notes(ledger: Path) -> list[dict]:
    proc = cli(ledger, "verify", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["ok"], proc.stdout
    return [n for n in report["unvouched"] if n["code"] == "index-untrusted"]


def test_untouched_index_is_complete_and_verify_is_quiet(ledger: Path):
    assert_complete(ledger)
    assert verify_notes(ledger) == []


def test_deleted_rows_do_not_hide_entries(ledger: Path):
    tamper(ledger, "DELETE FROM entries WHERE text LIKE '%database%' OR type='file_update'")
    assert verify_notes(ledger)  # verify names (and deletes) the edited index
    assert cli(ledger, "stats").returncode == 0  # rebuilt; now edit the rebuilt one
    tamper(ledger, "DELETE FROM entries WHERE text LIKE '%database%' OR type='file_update'")
    assert_complete(ledger)


def test_deleted_rows_with_counts_rewritten(ledger: Path):
    """Re-counting the sessions table to match does not help without the key."""
    tamper(
        ledger,
        "DELETE FROM entries WHERE text LIKE '%database%'",
        "UPDATE sessions SET count = count - 1 WHERE session = 's-alpha'",
    )
    assert_complete(ledger)


def test_altered_times_do_not_hide_entries(ledger: Path):
    tamper(ledger, "UPDATE entries SET ts = 0")
    assert_complete(ledger)
    day = (NOW - dt.timedelta(minutes=50)).date().isoformat()
    assert len(rows(ledger, "search", "--text", "database", "--start-date", day)) == 1


def test_zeroed_tip_times_do_not_empty_recent(ledger: Path):
    tamper(ledger, "UPDATE tip_times SET ctime = 0")
    assert len(rows(ledger, "recent", "--hours", "2")) == 3
    assert len(rows(ledger, "recent", "--hours", "2", "--limit", "1")) == 1


def test_edited_text_does_not_hide_an_entry(ledger: Path):
    tamper(ledger, "UPDATE entries SET text = 'make deploy' WHERE text LIKE '%database%'")
    assert_complete(ledger)


def test_verify_reports_an_edited_index(ledger: Path):
    tamper(ledger, "UPDATE entries SET file = 'elsewhere.py' WHERE file = 'api/main.py'")
    notes = verify_notes(ledger)
    assert len(notes) == 1 and "cannot be trusted" in notes[0]["message"]
    assert not (ledger / INDEX_FILE).exists()
    assert_complete(ledger)
    assert verify_notes(ledger) == []


def test_index_replaced_by_another_ledgers(ledger: Path, tmp_path: Path):
    other = build(tmp_path / "other.git", tmp_path, full=False)
    assert cli(other, "stats").returncode == 0
    tamper(other, "PRAGMA journal_mode=DELETE")
    shutil.copyfile(other / INDEX_FILE, ledger / INDEX_FILE)
    for suffix in ("-wal", "-shm"):
        (ledger / (INDEX_FILE + suffix)).unlink(missing_ok=True)
    assert_complete(ledger)


def test_garbage_in_place_of_the_index(ledger: Path):
    for suffix in ("-wal", "-shm"):
        (ledger / (INDEX_FILE + suffix)).unlink(missing_ok=True)
    (ledger / INDEX_FILE).write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    assert_complete(ledger)
