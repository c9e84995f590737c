"""The trust anchor kept outside the ledger folder: reading it and moving it forward.

Everything inside the ledger folder (checkpoint chain, ``ledger-state/``, the ledger's git
config) can be rewritten by whoever can write the folder. So the last verified state is
also kept in the user's state directory (:func:`ledger._state.outside_dir`): the newest
checkpoint's sequence and id, every session's tip and entry count, and whether signatures
were being checked. ``checkpoint`` and a clean ``verify`` move it forward, never back
(:mod:`ledger.trust.anchor` is verify's check against it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pygit2

from ledger._fs import atomic_write
from ledger._state import ANCHOR_FILE, outside_dir

ANCHOR_FORMAT = 1


def anchor_path(ledger: Path) -> Path:
    """Where the ledger's outside anchor lives."""
    return outside_dir(ledger) / ANCHOR_FILE


def read_anchor(ledger: Path) -> dict[str, Any] | None:
    """The outside anchor, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(anchor_path(ledger).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), dict):
        return None
    return data


def _descends(repo: pygit2.Repository, tip: str, old: str) -> bool:
    if tip == old:
        return True
    try:
        return bool(repo.descendant_of(pygit2.Oid(hex=tip), pygit2.Oid(hex=old)))
    except (KeyError, ValueError, pygit2.GitError):
        return False


def _extends(
    repo: pygit2.Repository,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    archived_tips: Callable[[], Mapping[str, Any]],
) -> bool:
    """True when ``new`` only moves ``old`` forward (sessions grow or are archived)."""
    if int(new["sequence"]) < int(old.get("sequence", 0)):
        return False
    archived: Mapping[str, Any] | None = None
    for sid, mark in old["sessions"].items():
        now = new["sessions"].get(sid)
        if now is None:
            archived = archived_tips() if archived is None else archived
            if sid not in archived:
                return False
        elif now["entries"] < mark["entries"] or not _descends(repo, now["tip"], mark["tip"]):
            return False
    return True


def save_anchor(
    repo: pygit2.Repository,
    ledger: Path,
    sequence: int,
    checkpoint: str | None,
    sessions: Mapping[str, tuple[str, int]],
    *,
    signing: bool,
    archived: Callable[[], Mapping[str, Any]],
) -> bool:
    """Move the outside anchor forward to this state; False (anchor kept) if it would go back.

    Raises OSError when the state directory cannot be written.
    """
    new = {
        "format": ANCHOR_FORMAT,
        "ledger": str(ledger),
        "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sequence": sequence,
        "checkpoint": checkpoint,
        "signing": signing,
        "sessions": {s: {"tip": t, "entries": n} for s, (t, n) in sorted(sessions.items())},
    }
    old = read_anchor(ledger)
    if old is not None:
        if not _extends(repo, old, new, archived):
            return False
        new["signing"] = signing or bool(old.get("signing"))
    outside_dir(ledger, create=True)
    data = json.dumps(new, indent=1, sort_keys=True).encode() + b"\n"
    atomic_write(anchor_path(ledger), data, mode=0o600)
    return True


