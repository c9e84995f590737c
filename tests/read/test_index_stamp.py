"""The index proof's fast path: a new reader skips the row check only for the file exactly as
a proof left it; any other write to the file (even with its mtime put back) means the full
proof, and the edit cannot hide an entry."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest

import ledger.read.index as index_module
from ledger import ChangeLogger, ChangeType, LogQuery
from ledger._layout import INDEX_FILE
from ledger.read.index_stamp import stamp_path
from tests.conftest import git

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.git"
    for n, sid in enumerate(["s-one", "s-two"]):
        log = ChangeLogger(path, agent_id=f"a{n}", session_id=sid, workdir=tmp_path,
                           durable=False)
        log.log_file_change("api/main.py", ChangeType.FILE_UPDATE, f"v{n}\n", f"v{n + 1}\n",
                            timestamp=NOW - dt.timedelta(minutes=30 - n))
        log.log_command(f"deploy-{sid} --prod", "ok", 0,
                        timestamp=NOW - dt.timedelta(minutes=20 - n))
    assert LogQuery(path).stats()["total_entries"] == 4  # builds, proves and stamps
    return path


@pytest.fixture
def proofs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts full proofs (every row read and digested) made by this process."""
    calls: list[int] = []
    real = index_module.check_seal

    def counting(conn: sqlite3.Connection, key: bytes):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(conn, key)

    monkeypatch.setattr(index_module, "check_seal", counting)
    return calls


def found(ledger: Path) -> list[str]:
    return [e.id for e in LogQuery(ledger).query(search_text="deploy-s-two")]


def test_a_new_reader_of_the_stamped_file_skips_the_row_check(ledger: Path, proofs: list[int]):
    assert stamp_path(ledger).is_file()
    assert len(found(ledger)) == 1 and proofs == []
    # A write of ours (tip times remembered by a windowed query) keeps the stamp valid.
    assert len(LogQuery(ledger).get_recent_changes(hours=2)) == 4
    assert len(found(ledger)) == 1 and proofs == []
    # So does a refresh after a new entry.
    ChangeLogger(ledger, session_id="s-two", durable=False).log_command("deploy-s-two again",
                                                                        "ok", 0)
    assert len(found(ledger)) == 2
    assert len(found(ledger)) == 2 and proofs == []


def test_an_edit_with_the_mtime_put_back_is_still_proven_and_caught(
    ledger: Path, proofs: list[int]
):
    path = ledger / INDEX_FILE
    before = os.stat(path)
    conn = sqlite3.connect(path)
    with conn:
        assert conn.execute("DELETE FROM entries WHERE text LIKE '%deploy-s-two%'").rowcount == 1
    conn.close()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    ids = found(ledger)
    assert proofs == [1]  # the stamp no longer matched: every row was proven, and failed
    expected = git(ledger, "log", "--branches=sessions/*", "--grep=deploy-s-two",
                   "--format=%H").split()
    assert ids == expected and len(ids) == 1


def test_a_forged_stamp_is_not_believed(ledger: Path, proofs: list[int]):
    conn = sqlite3.connect(ledger / INDEX_FILE)
    with conn:
        conn.execute("UPDATE entries SET text = 'nothing' WHERE text LIKE '%deploy-s-two%'")
    conn.close()
    stamp_path(ledger).write_text("0" * 64 + "\n")
    assert len(found(ledger)) == 1 and proofs == [1]
