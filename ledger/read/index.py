"""A disposable accelerator for queries that would otherwise read every entry.

Full-text search, one file's history and per-session figures need every entry of the
ledger; walking a million commits takes seconds. This index is a SQLite file beside the
refs (``ledger-query-index.sqlite`` in the ledger directory), in the spirit of git's
commit-graph: derived from the git data only, keyed by each session's tip commit, brought
up to date from the refs before every use (new commits are read from the new tip down to
the indexed one; a session whose ref was rewritten or deleted is re-read or dropped), and
safe to delete at any time. Whatever it returns is read back from git and checked again,
and before it answers at all its rows are proven complete for the tips it covers
(:mod:`ledger.read.index_seal`): an index that was edited is rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import hmac
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pygit2

from ledger._graph import first_parents, is_observation
from ledger._layout import INDEX_FILE
from ledger._state import index_key
from ledger._store import LedgerStore
from ledger.read.index_rows import ROW_MARKS, entry_row
from ledger.read.index_seal import check_seal, session_sums, tip_mac, write_seal
from ledger.read.index_stamp import is_stamped, write_stamp

SCHEMA_VERSION = "8"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(
    session TEXT PRIMARY KEY, tip TEXT NOT NULL, archived INTEGER NOT NULL DEFAULT 0,
    count INTEGER NOT NULL, digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tip_times(
    tip BLOB PRIMARY KEY, ctime INTEGER NOT NULL, mac BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS entries(
    id TEXT NOT NULL,
    session TEXT NOT NULL,
    ts INTEGER NOT NULL,
    type TEXT NOT NULL,
    level TEXT NOT NULL,
    agent TEXT NOT NULL,
    file TEXT,
    file_path TEXT,
    text TEXT NOT NULL,
    session_id TEXT NOT NULL,
    drift INTEGER NOT NULL,
    extra TEXT,
    repo_root TEXT,
    repo_remote TEXT
);
"""
# Built after the rows on a first build (dense, and faster than keeping them up to date
# while inserting). Most entries name no file and no repository: those are left out of the
# indexes that look them up (``x = ?`` and ranges imply ``x IS NOT NULL``, so SQLite
# still uses them).
_INDEXES = {
    "entries_ts": "entries(ts)",
    "entries_session": "entries(session, ts)",
    "entries_file": "entries(file) WHERE file IS NOT NULL",
    "entries_file_path": "entries(file_path) WHERE file_path IS NOT NULL",
    "entries_repo_root": "entries(repo_root) WHERE repo_root IS NOT NULL",
}
# Dropped during a first build; entries_session stays (each session's sums read it).
_AFTER_ROWS = tuple(name for name in _INDEXES if name != "entries_session")


def _create_indexes(conn: sqlite3.Connection) -> None:
    for name, on in _INDEXES.items():
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")


Progress = Callable[[int, int], None]
Sources = Callable[[], dict[str, tuple[bytes, bool]]]
"""What the index covers: each key's tip and whether it is an archived copy."""
LIVE_SQL = "session IN (SELECT session FROM sessions WHERE archived = 0)"
"""Restricts a query on ``entries`` to live sessions."""


class QueryIndex:
    """The accelerator of one ledger; every method returns None when it cannot be used."""

    def __init__(
        self, store: LedgerStore, sources: Sources | None = None, *, live_only: bool = False
    ) -> None:
        self.store = store
        self.path: Path = store.path / INDEX_FILE
        self.sources = sources or self._live
        self.live_only = live_only
        self._key: bytes | None = None
        self._trusted: str | None = None  # the seal this object last proved
        self.distrusted: str | None = None  # why the index was last found edited

    @property
    def key(self) -> bytes:
        """The key of the seal (kept outside the ledger folder)."""
        if self._key is None:
            self._key = index_key(self.store.path)
        return self._key

    def _live(self) -> dict[str, tuple[bytes, bool]]:
        return {s: (t, False) for s, t in self.store.sessions().items()}

    @contextlib.contextmanager
    def session(self, progress: Progress | None = None) -> Iterator[sqlite3.Connection | None]:
        """An up-to-date connection (brought level with the refs first), or None."""
        conn = self._proven()
        if conn is None:
            yield None
            return
        try:
            try:
                self._refresh(conn, progress)
            except (sqlite3.Error, OSError):
                yield None
                return
            yield conn
        finally:
            conn.close()

    def _proven(self) -> sqlite3.Connection | None:
        """A connection to an index whose rows are proven complete (rebuilt if they are not)."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='seal'").fetchone()
            if self._trusted is not None and row is not None and row[0] == self._trusted:
                return conn
            if row is not None and is_stamped(self.key, self.store.path, self.path):
                self._trusted = str(row[0])  # the file as a proof left it: no need to re-read
                return conn
            seal, why = check_seal(conn, self.key)
        except sqlite3.Error as exc:
            seal, why = None, f"unreadable ({exc})"
        if seal is not None:
            self._trusted = seal
            write_stamp(conn, self.key, self.store.path, self.path)
            return conn
        self.distrusted = why
        conn.close()
        if not self.drop():
            return None
        return self._connect()

    def check(self) -> str | None:
        """Why the index cannot be trusted as it stands, or None (no index is fine)."""
        if not self.path.exists():
            return None
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=600)
        except sqlite3.Error as exc:
            return f"unreadable ({exc})"
        try:
            version = conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()
            if version is None or version[0] != SCHEMA_VERSION:
                return None  # another version: it is rebuilt on first use, never read
            conn.isolation_level = None
            seal, why = check_seal(conn, self.key)
            return None if seal is not None else why
        except sqlite3.Error as exc:
            return f"unreadable ({exc})"
        finally:
            conn.close()

    def tip_times(self, tips: Iterable[bytes]) -> dict[bytes, int] | None:
        """The commit time of each tip commit, remembered by commit id (which fixes it).

        Lets a query skip sessions older than its window without reading their tips.
        Returns None when the index cannot be used.
        """
        wanted = set(tips)
        conn = self._connect()
        if conn is None:
            return None
        try:
            key = self.key
            known: dict[bytes, int] = {
                tip: ctime
                for tip, ctime, mac in conn.execute("SELECT tip, ctime, mac FROM tip_times")
                if isinstance(tip, bytes) and isinstance(ctime, int)
                and isinstance(mac, bytes) and hmac.compare_digest(mac, tip_mac(key, tip, ctime))
            }
            missing = wanted - known.keys()
            if missing:
                repo = self.store.repo
                rows: list[tuple[bytes, int]] = []
                for tip in missing:
                    commit = repo.get(pygit2.Oid(raw=tip))
                    if isinstance(commit, pygit2.Commit):
                        rows.append((tip, commit.commit_time))
                known.update(rows)
                stamped = is_stamped(key, self.store.path, self.path)
                conn.execute("BEGIN IMMEDIATE")
                if len(known) > 2 * len(wanted) + 1000:  # forget tips that moved on
                    conn.execute("DELETE FROM tip_times")
                    rows = [(t, known[t]) for t in wanted if t in known]
                conn.executemany(
                    "INSERT OR REPLACE INTO tip_times VALUES(?, ?, ?)",
                    [(t, c, tip_mac(key, t, c)) for t, c in rows],
                )
                conn.execute("COMMIT")
                if stamped:  # proven before this write of ours: still proven after it
                    write_stamp(conn, key, self.store.path, self.path)
            return {t: known[t] for t in wanted if t in known}
        except sqlite3.Error:
            return None
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection | None:
        for _attempt in range(2):
            try:
                conn = sqlite3.connect(self.path, timeout=600, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=OFF")  # a lost index is rebuilt, not trusted
                conn.executescript(_SCHEMA)
                row = conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()
                if row is None:
                    conn.execute(
                        "INSERT OR IGNORE INTO meta VALUES('version', ?)", (SCHEMA_VERSION,)
                    )
                    _create_indexes(conn)
                elif row[0] != SCHEMA_VERSION:
                    raise sqlite3.DatabaseError("index from another version")
                return conn
            except (sqlite3.Error, OSError):
                with contextlib.suppress(Exception):
                    conn.close()
                if not self.drop():
                    return None
        return None

    def drop(self) -> bool:
        """Delete the index files; True when they are gone."""
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        except OSError:
            return False
        return True

    def _refresh(self, conn: sqlite3.Connection, progress: Progress | None) -> None:
        """Bring the index level with its sources (live only: leave archived rows be)."""
        scope = (0,) if self.live_only else (0, 1)
        tips = {k: (t.hex(), int(a)) for k, (t, a) in self.sources().items() if a in scope}
        query = "SELECT session, tip, archived FROM sessions"
        rows = conn.execute(query).fetchall()
        if {k: (t, a) for k, t, a in rows if a in scope} == tips:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            known = {k: (t, a) for k, t, a in conn.execute(query).fetchall()}
            for key in [k for k, (_, a) in known.items() if a in scope and k not in tips]:
                conn.execute("DELETE FROM entries WHERE session=?", (key,))
                conn.execute("DELETE FROM sessions WHERE session=?", (key,))
            repo = self.store.repo
            changed = [(k, t) for k, t in tips.items() if known.get(k) != t]
            first = not known
            if first:
                for name in _AFTER_ROWS:
                    conn.execute(f"DROP INDEX IF EXISTS {name}")
            for done, (key, (tip, archived)) in enumerate(changed, 1):
                old = known[key][0] if key in known else None
                new_rows, reached = self._rows(repo, key, tip, old)
                if old is not None and not reached:
                    conn.execute("DELETE FROM entries WHERE session=?", (key,))
                conn.executemany(f"INSERT INTO entries VALUES({ROW_MARKS})", new_rows)
                count, digest = session_sums(conn, key)
                conn.execute(
                    "INSERT OR REPLACE INTO sessions VALUES(?, ?, ?, ?, ?)",
                    (key, tip, archived, count, digest),
                )
                if progress is not None:
                    progress(done, len(changed))
            if first:
                _create_indexes(conn)
            self._trusted = write_seal(conn, self.key)
            conn.execute("COMMIT")
        except BaseException:
            self._trusted = None
            conn.execute("ROLLBACK")
            raise
        write_stamp(conn, self.key, self.store.path, self.path)  # proven, then our write

    def _rows(
        self, repo: pygit2.Repository, session: str, tip: str, stop: str | None
    ) -> tuple[list[tuple[Any, ...]], bool]:
        rows: list[tuple[Any, ...]] = []
        for commit in first_parents(repo, tip):
            if stop is not None and str(commit.id) == stop:
                return rows, True
            if not is_observation(commit):
                row = entry_row(commit, session)
                if row is not None:
                    rows.append(row)
        return rows, False
