"""The query index's own layout: lookups by file and repository use their indexes (which
leave out the rows naming none), and a first build leaves the same rows and indexes as one
made entry by entry."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from ledger import ChangeLogger, ChangeType, LogQuery
from ledger.read.filters import Criteria
from ledger.read.index_rows import path_bounds

T0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC)


def _fill(ledger: Path, workdir: Path, sessions: range) -> None:
    for s in sessions:
        log = ChangeLogger(ledger, agent_id="a", session_id=f"s{s}", workdir=workdir,
                           durable=False)
        for n in range(6):
            at = T0 + dt.timedelta(minutes=10 * s + n)
            if n % 3 == 0:
                log.log_file_change(f"src/m{n}.py", ChangeType.FILE_CREATE, None, f"{s}\n",
                                    metadata={"repository": "/src/one"}, timestamp=at)
            else:
                log.log_command(f"make {s}.{n}", "", 0, timestamp=at)


def _dump(ledger: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    conn = sqlite3.connect(ledger / "ledger-query-index.sqlite")
    try:
        rows = sorted(conn.execute("SELECT * FROM entries").fetchall(), key=repr)
        indexes = sorted(conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall())
        return rows, indexes
    finally:
        conn.close()


def test_lookups_by_file_and_repository_use_the_partial_indexes(ledger_path: Path,
                                                                workdir: Path):
    _fill(ledger_path, workdir, range(3))
    LogQuery(ledger_path).stats()
    conn = sqlite3.connect(ledger_path / "ledger-query-index.sqlite")
    try:
        where, args = Criteria(path="src/m0.py").sql_where()
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM entries" + where, args))
        assert "entries_file " in plan + " " and "entries_file_path" in plan, plan
        _, prefix, upper = path_bounds("src/")
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM entries WHERE file >= ? AND file < ?",
            (prefix, upper)))
        assert "entries_file" in plan, plan
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM entries WHERE repo_root = ?", ("/src/one",)))
        assert "entries_repo_root" in plan, plan
        unindexed = conn.execute(
            "SELECT COUNT(*) FROM entries INDEXED BY entries_file WHERE file IS NOT NULL"
        ).fetchone()[0]
        assert unindexed == 6  # only the rows naming a file are in the index
    finally:
        conn.close()
    assert len(LogQuery(ledger_path).get_file_history("src/m0.py")) == 3


def test_a_first_build_equals_one_grown_entry_by_entry(tmp_path: Path, workdir: Path):
    grown, built = tmp_path / "grown.git", tmp_path / "built.git"
    for ledger in (grown, built):
        _fill(ledger, workdir, range(2))
    LogQuery(grown).stats()  # a first build of two sessions, then one more added to it
    for ledger in (grown, built):
        _fill(ledger, workdir, range(2, 4))
    LogQuery(grown).stats()
    LogQuery(built).stats()  # everything in one first build
    assert _dump(grown) == _dump(built)
    assert len(_dump(built)[0]) == 24
    assert [name for name, _ in _dump(built)[1]] == sorted(
        ["entries_file", "entries_file_path", "entries_repo_root", "entries_session",
         "entries_ts"])
