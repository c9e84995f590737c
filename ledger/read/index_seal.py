"""Keyed checksums that prove the query index complete against git.

Each session row of the index carries the number of entry rows it holds, a digest of them
(the sum of a keyed hash of every row, so rows can be added one by one) and a keyed checksum
binding the session, its tip, whether it is an archived copy, the count and the digest. The
key lives outside the ledger folder (:mod:`ledger._statedir`), so an edit of the index file
cannot forge them. On open the rows are counted and hashed again: rows deleted, added, or
edited (text, times, paths), a session row altered, or the file replaced all disagree, and the
index is rebuilt from git rather than trusted. Tip times carry their own checksum.
"""

from __future__ import annotations

import hmac
import sqlite3

from ledger._statedir import mac

_MOD = 1 << 256
_SEP = "||char(31)||"
ROW_SQL = _SEP.join(
    [
        "id", "session", "ts", "type", "level", "agent", "quote(file)", "quote(file_path)",
        "text", "session_id", "drift", "quote(extra)",
    ]
)
"""One entry row as the text its keyed hash is taken of (rendered by SQLite)."""


def _fold(key: bytes, rows: sqlite3.Cursor) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    digest = hmac.digest
    for session, text in rows:
        count, total = out.get(session, (0, 0))
        value = int.from_bytes(digest(key, text.encode("utf-8", "surrogatepass"), "sha256"))
        out[session] = (count + 1, (total + value) % _MOD)
    return out


def row_digests(
    conn: sqlite3.Connection, key: bytes, session: str | None = None
) -> dict[str, tuple[int, int]]:
    """Session -> (entry rows, digest of them), of one session or all."""
    sql = f"SELECT session, {ROW_SQL} FROM entries"
    if session is None:
        return _fold(key, conn.execute(sql))
    return _fold(key, conn.execute(sql + " WHERE session=?", (session,)))


def session_mac(key: bytes, session: str, tip: str, archived: int, count: int, digest: str) -> str:
    return mac(key, "session", session, tip, int(archived), count, digest)


def seal_session(
    conn: sqlite3.Connection, key: bytes, session: str, tip: str, archived: int
) -> None:
    """Store the session row with its count, digest and checksum (inside a transaction)."""
    count, total = row_digests(conn, key, session).get(session, (0, 0))
    digest = f"{total:064x}"
    conn.execute(
        "INSERT OR REPLACE INTO sessions VALUES(?, ?, ?, ?, ?, ?)",
        (session, tip, archived, count, digest, session_mac(key, session, tip, archived,
                                                            count, digest)),
    )


def disagreement(conn: sqlite3.Connection, key: bytes) -> str | None:
    """Why the index cannot be trusted (one line), or None when its rows prove out.

    Reads one snapshot of the index (a read transaction): a writer's commit in between is
    not a disagreement.
    """
    conn.execute("BEGIN")
    try:
        return _disagreement(conn, key)
    finally:
        conn.execute("COMMIT")


def _disagreement(conn: sqlite3.Connection, key: bytes) -> str | None:
    rows = conn.execute("SELECT session, tip, archived, count, digest, mac FROM sessions")
    claimed: dict[str, tuple[int, str]] = {}
    for session, tip, archived, count, digest, seal in rows:
        if not hmac.compare_digest(
            str(seal), session_mac(key, session, tip, archived, count, digest)
        ):
            return f"the index's record of session {session} fails its checksum"
        claimed[session] = (int(count), str(digest))
    actual = {s: (n, f"{d:064x}") for s, (n, d) in row_digests(conn, key).items()}
    for session in claimed.keys() | actual.keys():
        have = actual.get(session, (0, f"{0:064x}"))
        want = claimed.get(session)
        if want is None:
            return f"the index holds {have[0]} rows of session {session} it has no record of"
        if have[0] != want[0]:
            return f"the index holds {have[0]} of the {want[0]} rows of session {session}"
        if have[1] != want[1]:
            return f"rows of session {session} in the index were edited"
    return None


def tip_mac(key: bytes, tip: bytes, ctime: int) -> str:
    return mac(key, "tip", tip.hex(), int(ctime))

