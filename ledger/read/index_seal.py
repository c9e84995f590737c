"""The query index's seal: proof that its rows are complete for what it claims to cover.

The index says, per session, which tip commit it has read. Before any answer is taken from
it, the rows are proven to be the ones the ledger's own code wrote for those tips: each
session's row count and a SHA-256 digest of its rows are stored beside its tip, and a keyed
checksum (HMAC-SHA256, the key kept outside the ledger folder: :func:`ledger._state.index_key`)
covers that table. On open the rows are counted and digested again and the checksum is
checked; tips are then checked against the refs by the refresh. Rows deleted, added or
edited, tips or counts altered, the file replaced by another: the check fails and the index
is rebuilt. Cached tip times carry their own keyed checksum; one that does not match is
read from git again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable
from typing import Any

SEAL_KEY = "seal"
"""The meta row holding the keyed checksum of the sessions table."""


def rows_digest(rows: list[tuple[Any, ...]]) -> str:
    """The digest of one session's rows, in the order they were inserted."""
    data = repr(rows).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def session_sums(conn: sqlite3.Connection, session: str) -> tuple[int, str]:
    """(row count, digest) of one session's rows as they stand."""
    rows = conn.execute("SELECT * FROM entries WHERE session=? ORDER BY rowid", (session,))
    found = [tuple(r) for r in rows]
    return len(found), rows_digest(found)


def seal_of(key: bytes, sessions: Iterable[tuple[Any, ...]]) -> str:
    """The keyed checksum of the sessions table's rows."""
    rows = sorted([list(r) for r in sessions], key=lambda r: str(r[0]))
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, b"git-ledger index v1\0" + data, hashlib.sha256).hexdigest()


def write_seal(conn: sqlite3.Connection, key: bytes) -> str:
    """Seal the sessions table as it stands (inside the caller's transaction)."""
    rows = conn.execute("SELECT session, tip, archived, count, digest FROM sessions").fetchall()
    seal = seal_of(key, rows)
    conn.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (SEAL_KEY, seal))
    return seal


def check_seal(conn: sqlite3.Connection, key: bytes) -> tuple[str | None, str]:
    """(the seal, "") when every row is accounted for; (None, what is wrong) otherwise.

    Reads every entry row once, in one read transaction (a consistent snapshot).
    """
    conn.execute("BEGIN")
    try:
        found = conn.execute("SELECT value FROM meta WHERE key=?", (SEAL_KEY,)).fetchone()
        sessions = conn.execute(
            "SELECT session, tip, archived, count, digest FROM sessions"
        ).fetchall()
        if found is None:
            if sessions or conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone():
                return None, "rows without a seal"
            return "", ""  # a new, empty index
        if not hmac.compare_digest(str(found[0]), seal_of(key, sessions)):
            return None, "the sessions table does not match its keyed checksum"
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for row in conn.execute("SELECT * FROM entries ORDER BY rowid"):
            grouped.setdefault(row[1], []).append(row)
        for session, _tip, _archived, count, digest in sessions:
            rows = grouped.pop(session, [])
            if len(rows) != count or rows_digest(rows) != digest:
                return None, f"session {session}: its rows differ from what was indexed"
        if grouped:
            return None, f"rows of sessions it does not cover ({len(grouped)})"
        return str(found[0]), ""
    finally:
        conn.execute("COMMIT")


def tip_mac(key: bytes, tip: bytes, ctime: int) -> bytes:
    """The keyed checksum of one cached tip time."""
    msg = b"git-ledger tip\0" + tip + str(int(ctime)).encode()
    return hmac.new(key, msg, hashlib.sha256).digest()[:16]
