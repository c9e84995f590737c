"""Keyed checksums that prove the query index complete against git.

Each session row of the index carries the number of entry rows it holds, a digest of them
(the sum of a keyed hash of every row, so rows can be added one by one) and a keyed checksum
binding the session, its tip, whether it is an archived copy, the count and the digest. The
key lives outside the ledger folder (:mod:`ledger._statedir`), so an edit of the index file
cannot forge them. On open the rows are counted and hashed again: rows deleted, added, or
edited (text, times, paths), a session row altered, or the file replaced all disagree, and the
index is rebuilt from git rather than trusted. Tip times carry their own checksum.

Hashing every row costs about a second at 50,000 entries, so after each proof or write the
index file's inode, size and change times are sealed with the key too; an open that finds the
file exactly as sealed skips the row check. Any other write to the file changes its ctime.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import sqlite3
from pathlib import Path

from ledger._statedir import mac, write_private

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



# -- the fast path: the file is exactly as a proven state left it ---------------------------------
def _stamp(path: Path) -> str | None:
    """The index file's identity and change times; None while its write-ahead log holds data
    (then only the rows can tell)."""
    try:
        wal = os.stat(str(path) + "-wal")
        if wal.st_size:
            return None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def is_sealed(key: bytes, path: Path, seal: Path) -> bool:
    """True when the index file is unchanged since its rows were last proven or written by
    this package (its inode, size and change times carry our keyed checksum): the check of
    every row can be skipped. Change times cannot be set back without changing the clock."""
    stamp = _stamp(path)
    if stamp is None:
        return False
    try:
        stored = seal.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return False
    return hmac.compare_digest(stored, mac(key, "index-file", stamp))


def write_seal(conn: sqlite3.Connection, key: bytes, path: Path, seal: Path) -> None:
    """Fold the write-ahead log into the file and seal what it now is (best effort: without a
    seal the next open checks every row)."""
    with contextlib.suppress(OSError):
        seal.unlink(missing_ok=True)
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error:
        return
    if busy is None or busy[0]:
        return
    stamp = _stamp(path)
    if stamp is None:
        return
    with contextlib.suppress(OSError):
        write_private(seal, (mac(key, "index-file", stamp) + "\n").encode("ascii"))
