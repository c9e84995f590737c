"""Before-states of files an agent's tool is about to change, kept until the tool has run.

A "pre" event snapshots the file into a private record in the ledger folder; the matching
"post" event takes it back to record the change with its exact before-state.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger._fs import atomic_write
from ledger._layout import AGENTS_DIR, AGENTS_PENDING_DIR
from ledger._store import LedgerStore
from ledger.capture.agents.settings import JSONDict
from ledger.errors import AgentEventError

MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024


def safe_name(text: str) -> str:
    """``text`` as a file name: kept when plainly safe, otherwise a short hash of it."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", text):
        return text
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Snapshots:
    """Before-states taken at "pre" events, keyed by session and tool call.

    The content is kept (base64) in a private JSON record under
    ``ledger-agents/pending/<agent>/<session>/<call>.json`` until the "post" event of the
    same call takes it; it reaches git only through ``log_file_change``, redacted, never
    as a raw blob.
    """

    def __init__(self, store: LedgerStore, agent: str) -> None:
        self.store = store
        self.agent = agent

    def _path(self, session: str, call: str) -> Path:
        return (
            self.store.path
            / AGENTS_DIR
            / AGENTS_PENDING_DIR
            / safe_name(self.agent)
            / session
            / (safe_name(call) + ".json")
        )

    def take(self, session: str, call: str, file_path: str) -> JSONDict:
        """Store the file's current state and remember it for ``call``."""
        record: JSONDict = {"file_path": file_path, "time": _now()}
        try:
            st = os.lstat(file_path)
        except FileNotFoundError:
            record["exists"] = False
        else:
            record["exists"] = True
            if stat.S_ISLNK(st.st_mode):
                data = os.fsencode(os.readlink(file_path))
                record["symlink"] = True
            elif not stat.S_ISREG(st.st_mode):
                raise AgentEventError(f"{file_path} is not a regular file")
            elif st.st_size > MAX_SNAPSHOT_BYTES:
                data = b""
                record["too_large"] = st.st_size
            else:
                with open(file_path, "rb") as fh:
                    data = fh.read()
            if "too_large" not in record:
                record["data"] = base64.b64encode(data).decode("ascii")
                record["size"] = len(data)
        path = self._path(session, call)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, json.dumps(record).encode(), mode=0o600)
        return record

    def pop(self, session: str, call: str) -> JSONDict | None:
        """The record taken for ``call`` (removed), or None when there is none."""
        path = self._path(session, call)
        try:
            record: JSONDict = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        with contextlib.suppress(OSError):
            path.unlink()
            path.parent.rmdir()  # only when it was the session's last pending call
        return record

    def clear(self, session: str) -> int:
        """Drop the session's snapshots that no post event took (a denied tool call)."""
        folder = self._path(session, "x").parent
        count = 0
        with contextlib.suppress(OSError):
            for item in folder.iterdir():
                with contextlib.suppress(OSError):
                    item.unlink()
                    count += 1
            folder.rmdir()
        return count

    def content(self, record: Mapping[str, Any]) -> bytes | None:
        """The snapshot's bytes (None when the file did not exist or was not kept)."""
        data = record.get("data")
        if isinstance(data, str):
            return base64.b64decode(data)
        blob = record.get("blob")  # a record taken by an earlier version
        return self.store.read_blob(blob) if isinstance(blob, str) else None


def read_current(path: str) -> bytes | None:
    """A file's bytes now (a symlink's target for a link), None when it does not exist."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return os.fsencode(os.readlink(path))
    with open(path, "rb") as fh:
        return fh.read()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
