"""The fast path of the index proof: the file is exactly as a proven state left it.

Proving every row (:mod:`ledger.read.index_seal`) costs about half a second at 50,000
entries, and every new process paid it on its first query. After each proof, and after each
write made to a proven index, the index file's device, inode, size, modification and change
times are stamped with the index key (HMAC-SHA256) in ``index.stamp`` beside the key, outside
the ledger folder. An open that finds the file with that exact stamp, and its write-ahead log
empty, skips the row check. Any write to the file by anything else changes its change time
(``st_ctime``), which no user can set back without changing the system clock; a file put in
its place has another inode. Whatever does not match is proven row by row, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import sqlite3
from pathlib import Path

from ledger._state import outside_dir

STAMP_FILE = "index.stamp"
"""Beside the index key: the keyed stamp of the index file as last proven."""


def _stamp(path: Path) -> bytes | None:
    """The file's identity and change times; None while its write-ahead log holds data
    (then only its rows can tell)."""
    try:
        if os.stat(str(path) + "-wal").st_size:
            return None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    fields = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return b"git-ledger index file\0" + ":".join(map(str, fields)).encode()


def _mac(key: bytes, stamp: bytes) -> str:
    return hmac.new(key, stamp, hashlib.sha256).hexdigest()


def stamp_path(ledger: Path) -> Path:
    return outside_dir(ledger) / STAMP_FILE


def is_stamped(key: bytes, ledger: Path, path: Path) -> bool:
    """True when the index file is exactly as stamped after its last proof or write."""
    stamp = _stamp(path)
    if stamp is None:
        return False
    try:
        stored = stamp_path(ledger).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return False
    return hmac.compare_digest(stored, _mac(key, stamp))


def write_stamp(conn: sqlite3.Connection, key: bytes, ledger: Path, path: Path) -> None:
    """Fold the write-ahead log into the file and stamp what it now is. Best effort: without
    a stamp the next open proves every row."""
    try:
        target = stamp_path(ledger)
        target.unlink(missing_ok=True)
    except OSError:
        return
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error:
        return
    stamp = _stamp(path)
    if busy is None or busy[0] or stamp is None:
        return
    tmp = target.with_name(f".{STAMP_FILE}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(_mac(key, stamp) + "\n")
        os.replace(tmp, target)
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
