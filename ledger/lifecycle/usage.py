"""How big a ledger is against its budget: sizes, object and pack counts, entry counts.

Everything here reads directories and commit messages only; nothing changes the ledger.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ledger._layout import ARCHIVE_DIR, INDEX_FILE, INDEX_SIDE_FILES
from ledger._upkeep import packs
from ledger.lifecycle.archive import bundles
from ledger.lifecycle.base import StorageBase
from ledger.lifecycle.facts import iso, session_facts

CACHE_FILES = frozenset({INDEX_FILE, *INDEX_SIDE_FILES})


def tree_size(path: Path, skip: frozenset[str] = frozenset()) -> int:
    """Bytes of every file under ``path``; top-level names in ``skip`` left out."""
    total = 0
    stack = [path]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as it:
                for item in it:
                    if here == path and item.name in skip:
                        continue
                    try:
                        if item.is_dir(follow_symlinks=False):
                            stack.append(Path(item.path))
                        else:
                            total += item.stat(follow_symlinks=False).st_size
                    except FileNotFoundError:
                        continue  # removed while we looked (a concurrent repack)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return total


def loose_dirs(ledger: Path) -> Iterator[Path]:
    """The two-hex-digit fan-out folders of loose objects."""
    objects = ledger / "objects"
    with contextlib.suppress(FileNotFoundError), os.scandir(objects) as it:
        for item in it:
            if len(item.name) == 2 and item.is_dir():
                yield Path(item.path)


def loose_objects(ledger: Path) -> tuple[int, int]:
    """Count loose objects and their bytes."""
    count = size = 0
    for folder in loose_dirs(ledger):
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
            for item in it:
                if len(item.name) == 38:
                    with contextlib.suppress(FileNotFoundError):
                        size += item.stat().st_size
                        count += 1
    return count, size


def repository_bytes(ledger: Path) -> int:
    """Bytes the repository takes on disk; the archive and the query cache excluded.

    The query index is a disposable cache rebuilt from the refs: it never counts
    against the budget, so a large index can never make maintenance retire sessions.
    """
    return tree_size(ledger, frozenset({ARCHIVE_DIR, *CACHE_FILES}))


def cache_bytes(ledger: Path) -> int:
    """Bytes of the disposable query index (and its SQLite side files)."""
    return sum((ledger / name).stat().st_size for name in CACHE_FILES if (ledger / name).is_file())


def storage_size(storage: StorageBase) -> dict[str, Any]:
    """The size half of :func:`storage_usage`, without counting entries (cheap)."""
    ledger = storage.ledger_dir
    total = repository_bytes(ledger)
    loose_n, loose_b = loose_objects(ledger)
    pack_n, pack_b = packs(ledger)
    archive = storage.archive_dir
    archive_b = tree_size(archive) if archive.exists() else 0
    mb = total / (1024 * 1024)
    return {
        "ledger_dir": str(ledger),
        "total_size_bytes": total,
        "total_size_mb": mb,
        "max_storage_mb": storage.max_storage_mb,
        "usage_percentage": 100.0 * mb / storage.max_storage_mb,
        "loose_objects": loose_n,
        "loose_size_bytes": loose_b,
        "packs": pack_n,
        "pack_size_bytes": pack_b,
        "archives": len(bundles(archive)),
        "archive_size_mb": archive_b / (1024 * 1024),
        "query_index_mb": cache_bytes(ledger) / (1024 * 1024),
    }


def storage_usage(storage: StorageBase) -> dict[str, Any]:
    """Size against the budget, entries and sessions, loose objects and packs.

    ``total_size_mb`` counts the repository without ``archive/`` (the budget applies to
    the live ledger); the archive's size is ``archive_size_mb``.
    """
    store = storage.store
    repo = store.repo
    sessions = store.sessions()
    entries = 0
    first: int | None = None
    last: int | None = None
    for i, (sid, tip) in enumerate(sessions.items()):
        facts = session_facts(repo, sid, tip)
        entries += facts.entries
        if facts.first is not None:
            first = facts.first if first is None else min(first, facts.first)
        if facts.last is not None:
            last = facts.last if last is None else max(last, facts.last)
        storage._tick("counting", i + 1, len(sessions))
    return {
        **storage_size(storage),
        "entries": entries,
        "sessions": len(sessions),
        "oldest_entry": iso(first),
        "newest_entry": iso(last),
    }


def human(n: int) -> str:
    """A byte count for people: 512 B, 1.5 KB, 3.2 MB."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover
