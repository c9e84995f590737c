"""The user's state directory for one ledger: trust anchors kept outside the ledger folder.

``$XDG_STATE_HOME/git-ledger/<ledger id>/`` (``~/.local/state`` when unset). The ledger id is
the folder's name and a digest of its resolved path, so nothing inside the folder (which an
attacker of the ledger may rewrite) chooses where its anchors live. Two things live here: the
key of the query index's checksums and the last verified state (:mod:`ledger.trust.anchor`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
from pathlib import Path

INDEX_KEY = "index.key"
"""The secret key of the query index's checksums."""
INDEX_SEAL = "index.seal"
"""The keyed stamp of the query index file as last proven."""
ANCHOR_FILE = "verified.json"
"""The last verified state: checkpoint sequence, per-session tips and counts."""


def ledger_id(ledger: Path) -> str:
    """A stable name for the ledger at this path."""
    real = os.path.realpath(ledger)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(real.rstrip("/")) or "ledger")
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:16]
    return f"{name[:40]}-{digest}"


def state_dir(ledger: Path) -> Path:
    """Where this ledger's outside anchors live (not created here).

    Raises OSError when there is no home directory to put it in.
    """
    base = os.environ.get("XDG_STATE_HOME") or ""
    try:
        root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    except RuntimeError as exc:  # no $HOME and no passwd entry
        raise OSError(f"no state directory: {exc}") from exc
    return root / "git-ledger" / ledger_id(ledger)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only (raises OSError)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def index_key(ledger: Path) -> bytes | None:
    """The ledger's index key, created on first use; None when the state dir is unusable."""
    try:
        path = state_dir(ledger) / INDEX_KEY
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:  # exclusive create: two first users never end up with different keys
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
            fh.flush()
            os.fsync(fh.fileno())
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) == 32 else None


def mac(key: bytes, *parts: object) -> str:
    """A keyed checksum of ``parts`` (hex)."""
    text = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return hmac.new(key, text, hashlib.sha256).hexdigest()
