"""The ledger's state kept outside its folder: ``$XDG_STATE_HOME/git-ledger/<ledger id>/``.

Whoever can rewrite the ledger folder can rewrite anything kept in it; what verify last
accepted, and the key that seals the query index, also live here, in the user's own state
directory (``~/.local/state`` by default). The ledger id is derived from the ledger's real
path, so that no file inside the folder can point it elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

INDEX_KEY_FILE = "index.key"
"""The secret key of the query index's seal."""
ANCHOR_FILE = "anchor.json"
"""The last verified state: checkpoint sequence, per-session tips and counts."""
LEDGER_NAME_FILE = "ledger-path"
"""The ledger's path, for whoever looks into the folder."""

_KEY_LEN = 32
_process_keys: dict[str, bytes] = {}


def state_root() -> Path:
    """``$XDG_STATE_HOME/git-ledger`` (``~/.local/state/git-ledger`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "git-ledger"


def ledger_id(ledger: str | os.PathLike[str]) -> str:
    """A stable name for the ledger at this path: its folder name and a hash of its real path."""
    real = os.path.realpath(os.fspath(ledger))
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:20]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(real).name)[:40]
    return f"{name or 'ledger'}-{digest}"


def outside_dir(ledger: str | os.PathLike[str], *, create: bool = False) -> Path:
    """The ledger's folder under the state root (made private, 0700, when ``create``)."""
    path = state_root() / ledger_id(ledger)
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        note = path / LEDGER_NAME_FILE
        if not note.exists():
            note.write_text(os.path.realpath(os.fspath(ledger)) + "\n", encoding="utf-8")
    return path


def index_key(ledger: str | os.PathLike[str]) -> bytes:
    """The key that seals this ledger's query index, kept outside the ledger folder.

    Made on first use (0600). When the state directory cannot be written, a key for this
    process only: an index sealed by another process is then rebuilt, never trusted.
    """
    real = os.path.realpath(os.fspath(ledger))
    try:
        path = outside_dir(ledger, create=True) / INDEX_KEY_FILE
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = b""
        if len(key) == _KEY_LEN:
            return key
        fresh = secrets.token_bytes(_KEY_LEN)
        tmp = path.with_name(f".{INDEX_KEY_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(fresh)
        try:
            if key:  # damaged: replace it (an index sealed with it is rebuilt)
                os.replace(tmp, path)
            else:
                os.link(tmp, path)  # the first writer wins; the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        key = path.read_bytes()
        if len(key) == _KEY_LEN:
            return key
    except OSError:
        pass
    return _process_keys.setdefault(real, secrets.token_bytes(_KEY_LEN))
