"""Is maintenance due? The writers' cheap check, and the start of a background run.

Low-level on purpose: writers call it after every few writes, so it reads a directory or
two and never imports the lifecycle package that does the actual work.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pygit2

from ledger._background import start_worker
from ledger._git import git_executable
from ledger._layout import AUTO_STAMP, LOCK_FOLDER, MAINTENANCE_LOG
from ledger.errors import LedgerError, StorageError

# Like gc.auto: writers start maintenance once about this many loose objects pile up.
AUTO_CONFIG_KEY = "ledger.autoMaintenance"
DEFAULT_AUTO_THRESHOLD = 6700
AUTO_PACK_LIMIT = 50
AUTO_MIN_INTERVAL_SECONDS = 60.0
DEFAULT_COMPRESS_AFTER_DAYS: float = 7
# git gc --auto samples this one fan-out folder: 1/256 of the loose objects.
SAMPLE_FOLDER = "17"


def packs(ledger: Path) -> tuple[int, int]:
    """Count packs and their bytes (pack plus index)."""
    count = size = 0
    folder = ledger / "objects" / "pack"
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
        for item in it:
            if item.name.startswith("pack-") and item.name.endswith((".pack", ".idx")):
                with contextlib.suppress(FileNotFoundError):
                    size += item.stat().st_size
                    count += item.name.endswith(".pack")
    return count, size


def estimate_loose_objects(ledger: Path) -> int:
    """Estimate the loose object count from one fan-out folder, the way ``gc --auto`` does."""
    try:
        names = os.listdir(ledger / "objects" / SAMPLE_FOLDER)
    except FileNotFoundError:
        return 0
    return 256 * sum(1 for n in names if len(n) == 38)


def auto_threshold(ledger: Path) -> int:
    """The loose-object threshold: ``git config ledger.autoMaintenance`` or the default."""
    try:
        config = pygit2.Repository(str(ledger)).config
    except pygit2.GitError as exc:
        raise StorageError(f"cannot open ledger at {ledger}: {exc}") from exc
    try:
        value = config[AUTO_CONFIG_KEY]
    except KeyError:
        return DEFAULT_AUTO_THRESHOLD
    try:
        return int(str(value))
    except ValueError:
        return DEFAULT_AUTO_THRESHOLD


def needs_maintenance(
    ledger: Path,
    compress_after_days: float = DEFAULT_COMPRESS_AFTER_DAYS,
    threshold: int | None = None,
) -> bool:
    """True when loose objects or packs pile up (the writers' automatic trigger).

    Like ``git gc --auto``: the loose count is estimated from one fan-out folder; also
    due with more than 50 packs, or when a sampled loose object is older than
    ``compress_after_days``. ``git config ledger.autoMaintenance N`` sets the
    threshold (0 turns the automatic trigger off).
    """
    loose = estimate_loose_objects(ledger)
    many_packs = packs(ledger)[0] > AUTO_PACK_LIMIT
    stale = False
    cutoff = time.time() - compress_after_days * 86400
    folder = ledger / "objects" / SAMPLE_FOLDER
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
        for item in it:
            with contextlib.suppress(FileNotFoundError):
                if item.stat().st_mtime < cutoff:
                    stale = True
                    break
    if not (loose or many_packs or stale):
        return False  # the common case reads no config
    limit = auto_threshold(ledger) if threshold is None else threshold
    if limit <= 0:
        return False
    return loose >= limit or many_packs or stale


def maybe_start_maintenance(ledger_dir: Path) -> bool:
    """Called by writers: start maintenance in the background when objects pile up.

    Cheap (one directory listing) when nothing is due. When due, starts a detached
    maintenance worker that takes the maintenance lock without waiting and exits if
    another run holds it. Returns True when a run was started. Never raises.
    """
    try:
        if not needs_maintenance(ledger_dir):
            return False
        stamp = ledger_dir / LOCK_FOLDER / AUTO_STAMP
        with contextlib.suppress(FileNotFoundError):
            if time.time() - stamp.stat().st_mtime < AUTO_MIN_INTERVAL_SECONDS:
                return False  # one was started a moment ago
        git_executable()  # no git, no maintenance: the writer goes on regardless
        stamp.parent.mkdir(mode=0o700, exist_ok=True)
        stamp.touch()
        return start_worker("maintain", str(ledger_dir), log=ledger_dir / MAINTENANCE_LOG)
    except (OSError, LedgerError, ValueError):
        return False
