"""Maintenance runs: retire idle sessions, pack and prune, and keep the ledger within its budget.

Also the background worker that writers start through ``ledger._upkeep``.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from typing import Any

import pygit2

from ledger._config import config_bool
from ledger._git import git_executable, run_git
from ledger._layout import SESSION_REF_PREFIX
from ledger.errors import InvalidInputError, MaintenanceBusyError
from ledger.lifecycle.archive import OldSession, retire
from ledger.lifecycle.base import StorageBase
from ledger.lifecycle.facts import session_facts
from ledger.lifecycle.packing import add_retired, compress
from ledger.lifecycle.reflogs import COMPACT_KEY, compact_reflogs
from ledger.lifecycle.usage import human, loose_objects, repository_bytes


def old_sessions(storage: StorageBase, max_age_days: float) -> list[OldSession]:
    """Sessions whose newest entry is older than ``max_age_days``, oldest first."""
    repo = storage.store.repo
    cutoff = time.time() - max_age_days * 86400
    out: list[OldSession] = []
    for sid, tip in storage.store.sessions().items():
        commit = repo[pygit2.Oid(raw=tip)]
        if isinstance(commit, pygit2.Commit) and commit.commit_time < cutoff:
            out.append((sid, tip, commit.commit_time))
    out.sort(key=lambda item: item[2])
    return out


def maintenance(
    storage: StorageBase, dry_run: bool = False, *, lock_timeout: float = 0.0, full: bool = False
) -> dict[str, Any]:
    """Archive and retire idle sessions, then pack what is new and prune.

    Routine runs pack only new objects and roll small packs up geometrically; ``full``
    repacks everything into one pack, every delta found anew. Returns (and prints, unless
    quiet) ``compressed`` (loose objects packed), ``archived`` (sessions written to the
    bundle), ``deleted_old`` (session refs removed), ``archive`` (the bundle's path or
    None), ``full_repack``, ``reflog_lines_compacted``, ``bytes_before``/``bytes_after``.
    """
    git_executable()
    storage.store.repo  # noqa: B018  (raises LedgerNotFoundError early)
    with storage.maintenance_lock(lock_timeout):
        old = old_sessions(storage, storage.max_log_age_days)
        why = f"older than {storage.max_log_age_days:g} days"
        return _maintain(storage, old, dry_run, why, full)


def _maintain(
    storage: StorageBase, old: list[OldSession], dry_run: bool, why: str, full: bool = False
) -> dict[str, Any]:
    ledger = storage.ledger_dir
    before = repository_bytes(ledger)
    loose_n, _ = loose_objects(ledger)
    result: dict[str, Any] = {
        "dry_run": dry_run,
        "compressed": loose_n,
        "archived": 0,
        "archived_entries": 0,
        "deleted_old": 0,
        "archive": None,
        "sessions_archived": [],
        "sessions_skipped": [],
        "bytes_before": before,
        "bytes_after": before,
        "loose_after": loose_n,
    }
    if dry_run:
        _dry_run(storage, old, result, why)
        return result
    if old:
        retire(storage, old, result)
        # The retired sessions' objects leave the packs at the next full repack.
        add_retired(ledger, os.path.getsize(result["archive"]))
    result["reflog_lines_compacted"] = _compact(storage)
    storage._tick("packing", 0, None)
    packs_removed, loose_removed, result["full_repack"] = compress(storage, full, fresh=full)
    storage._tick("packing", 1, 1)
    after = repository_bytes(ledger)
    left = loose_objects(ledger)[0]
    result["bytes_after"] = after
    result["compressed"] = max(0, loose_n - left)
    result["loose_after"] = left
    result["packs_removed"] = packs_removed
    result["loose_removed"] = loose_removed
    storage._say(
        f"Packed {result['compressed']} loose objects"
        + (" and repacked everything" if result["full_repack"] else " (new objects only)")
        + (f" ({left} unreachable ones wait out the prune grace)" if left else "")
        + f"; removed {packs_removed} superseded pack(s) and {loose_removed} loose "
        f"object file(s) from {ledger / 'objects'}"
        + (f"; compacted {result['reflog_lines_compacted']} fast-forward reflog line(s)"
           if result["reflog_lines_compacted"] else "")
        + f"; repository {human(before)} -> {human(after)}"
    )
    return result


def _compact(storage: StorageBase) -> int:
    """Compact the sessions' plain fast-forward reflog runs (``ledger.compactReflogs``,
    default on); the number of lines removed. A value that is no boolean is refused."""
    if not config_bool(storage.store.repo.config, COMPACT_KEY, True, InvalidInputError):
        return 0
    return compact_reflogs(storage.store)[0]


def _dry_run(storage: StorageBase, old: list[OldSession], result: dict[str, Any], why: str) -> None:
    """Fill in what a run would do, without doing it."""
    repo = storage.store.repo
    result["archived"] = result["deleted_old"] = len(old)
    result["sessions_archived"] = [sid for sid, _, _ in old]
    result["archived_entries"] = sum(session_facts(repo, sid, tip).entries for sid, tip, _ in old)
    storage._say(
        f"Dry run: would pack {result['compressed']} loose objects and archive then remove "
        f"{len(old)} session(s) {why}"
        + (f": {', '.join(sid for sid, _, _ in old[:10])}" if old else "")
        + (" …" if len(old) > 10 else "")
    )


# -- quota ------------------------------------------------------------------------------------
def enforce_storage_quota(storage: StorageBase, archive: bool = True) -> dict[str, Any]:
    """Retire the oldest sessions until the repository is under ``max_storage_mb``.

    Sessions are archived to a verified bundle first unless ``archive=False``. Space of
    objects younger than the prune grace is reclaimed by a later run.
    """
    git_executable()
    ledger = storage.ledger_dir
    budget = storage.max_storage_mb * 1024 * 1024
    removed: list[str] = []
    archives: list[str] = []
    with storage.maintenance_lock():
        before = repository_bytes(ledger)
        compress(storage, full=True)
        size = repository_bytes(ledger)
        while size > budget:
            candidates = old_sessions(storage, 0)
            if not candidates:
                break
            # Retire a slice at a time: the oldest quarter (at least one session).
            chunk = candidates[: max(1, len(candidates) // 4)]
            if archive:
                removed += _archive_chunk(storage, chunk, archives)
            else:
                removed += _delete_chunk(storage, chunk)
            compress(storage, full=True)
            new_size = repository_bytes(ledger)
            storage._tick("quota", len(removed), None)
            if new_size >= size and not candidates[len(chunk) :]:
                break
            size = new_size
    storage._say(
        f"Storage {human(before)} -> {human(size)} (budget {human(int(budget))}); "
        f"retired {len(removed)} session(s)"
    )
    return {
        "bytes_before": before,
        "bytes_after": size,
        "max_storage_bytes": int(budget),
        "under_budget": size <= budget,
        "sessions_removed": removed,
        "archives": archives,
    }


def _archive_chunk(storage: StorageBase, chunk: list[OldSession], archives: list[str]) -> list[str]:
    """Retire the sessions through a bundle; the ones retired (the bundle added to archives)."""
    result: dict[str, Any] = {
        "sessions_archived": [],
        "sessions_skipped": [],
        "archived_entries": 0,
        "deleted_old": 0,
    }
    retire(storage, chunk, result)
    archives.append(result["archive"])
    return list(result["sessions_archived"])


def _delete_chunk(storage: StorageBase, chunk: list[OldSession]) -> list[str]:
    """Delete the sessions' refs without archiving them; the ones deleted."""
    store = storage.store
    removed: list[str] = []
    for sid, tip, _ in chunk:
        with store.session_lock(sid):
            if store.tip(sid) != tip:
                continue
            run_git(storage.ledger_dir, "update-ref", "-d", SESSION_REF_PREFIX + sid, tip.hex())
        removed.append(sid)
    storage._say(
        f"Deleted {len(chunk)} session(s) without archiving: "
        + ", ".join(sid for sid, _, _ in chunk)
    )
    return removed


# -- the background worker --------------------------------------------------------------------
def background_maintenance(ledger_dir: str) -> int:
    """The worker ``ledger._upkeep`` starts: one maintenance run, reported to its log."""
    storage = StorageBase(ledger_dir)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    buf = io.StringIO()
    storage._echo = lambda text: print(text, file=buf)
    try:
        maintenance(storage)
    except MaintenanceBusyError:
        return 0
    except Exception as exc:  # a background run reports to its log, never to a writer
        print(f"{stamp} pid={os.getpid()} automatic maintenance failed: {exc}")
        return 1
    for line in buf.getvalue().splitlines():
        print(f"{stamp} pid={os.getpid()} {line}")
    return 0
