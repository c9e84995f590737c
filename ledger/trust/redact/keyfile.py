"""The per-ledger HMAC key behind redaction fingerprints: made once, kept out of git.

Read by the redactor; a damaged key stops writes rather than fingerprint with another key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from ledger._layout import KEY_FILE
from ledger.errors import StorageError


def load_key(ledger: Path) -> bytes:
    """The ledger's HMAC key, created (32 random bytes, mode 0600) on first use.

    The key file sits in the ledger folder beside ``config``; git never stores it as an
    object, so clones and pushes do not carry it.
    """
    path = ledger / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    tmp = ledger / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # never replaces a key another writer made first
    except OSError as exc:
        raise StorageError(f"cannot create the redaction key {path}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise StorageError(f"redaction key {path} is damaged (expected 64 hex digits)")
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
    return key
