"""LogStorage: the ledger's size over time — packing, rotation into bundles, quota, export.

Compression is git's own packing (delta compression of file states); rotation archives
sessions idle longer than ``max_log_age_days`` into a verified git bundle under the ledger's
``archive/`` folder before their refs are deleted. The git CLI runs here (repack, prune,
bundle) and never on the write path; writers only ever start it in the background.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import json
import mmap
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import pygit2

from ledger._background import start_worker
from ledger._fs import maintenance_lock
from ledger._git import git_executable, run_git
from ledger._graph import first_parents, is_observation
from ledger._layout import (
    ARCHIVE_DIR,
    AUTO_STAMP,
    INDEX_FILE,
    LOCK_FOLDER,
    MAINTENANCE_LOG,
    SESSION_REF_PREFIX,
)
from ledger._names import validate_session_id
from ledger._store import LedgerStore
from ledger.entry import T_AGENT, T_LEVEL, T_TYPE, Entry, parse_trailers
from ledger.errors import (
    ArchiveError,
    ArchiveNotFoundError,
    InvalidInputError,
    LedgerNotFoundError,
    MaintenanceBusyError,
    StorageError,
)
from ledger.location import resolve_ledger_dir

MAINTENANCE_STATE = "ledger-maintenance.json"
PACK_WINDOW = 250  # git gc --aggressive's window and depth
PACK_DEPTH = 50
# Like gc.auto: writers start maintenance once about this many loose objects pile up.
AUTO_CONFIG_KEY = "ledger.autoMaintenance"
DEFAULT_AUTO_THRESHOLD = 6700
AUTO_PACK_LIMIT = 50
AUTO_MIN_INTERVAL_SECONDS = 60.0
# Unreachable objects younger than this survive pruning: an in-flight writer may have
# written them and not yet published the ref that reaches them.
DEFAULT_PRUNE_GRACE_SECONDS = 14 * 86400  # git's gc.pruneExpire default
TEMP_GRACE_SECONDS = 3600
EXPORT_FORMATS = ("json", "jsonl", "csv")
CSV_FIELDS = [
    "id",
    "timestamp",
    "session_id",
    "agent_id",
    "change_type",
    "level",
    "description",
    "file_path",
    "file_hash_before",
    "file_hash_after",
    "metadata",
]
FILTER_KEYS = frozenset(
    {"change_types", "levels", "session_id", "agent_id", "file_path", "search_text"}
)

Progress = Callable[[str, int, int | None], None]
Echo = Callable[[str], None]


# -- sizes and counts -----------------------------------------------------------------------
def _tree_size(path: Path, skip: frozenset[str] = frozenset()) -> int:
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


def _loose_dirs(ledger: Path) -> Iterator[Path]:
    objects = ledger / "objects"
    with contextlib.suppress(FileNotFoundError), os.scandir(objects) as it:
        for item in it:
            if len(item.name) == 2 and item.is_dir():
                yield Path(item.path)


def loose_objects(ledger: Path) -> tuple[int, int]:
    """Count loose objects and their bytes."""
    count = size = 0
    for folder in _loose_dirs(ledger):
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
            for item in it:
                if len(item.name) == 38:
                    with contextlib.suppress(FileNotFoundError):
                        size += item.stat().st_size
                        count += 1
    return count, size


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


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _pack_stats(pack_dir: Path) -> dict[str, os.stat_result]:
    out: dict[str, os.stat_result] = {}
    with contextlib.suppress(FileNotFoundError), os.scandir(pack_dir) as it:
        for item in it:
            if item.name.startswith("pack-") and item.name.endswith(".pack"):
                st = _stat(Path(item.path))
                if st is not None and (pack_dir / item.name).with_suffix(".idx").exists():
                    out[item.name] = st
    return out


class _PackIndex:
    """Membership test on a pack's v2 ``.idx`` by binary search (nothing loaded whole)."""

    def __init__(self, pack: Path) -> None:
        self.data: mmap.mmap | bytes = b""
        with contextlib.suppress(OSError, ValueError), open(pack.with_suffix(".idx"), "rb") as f:
            self.data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if self.data[:8] != b"\xfftOc\x00\x00\x00\x02":
            self.data = b""

    def names(self) -> Iterator[bytes]:
        """Every object id in the pack."""
        if not self.data:
            return
        count = int.from_bytes(self.data[8 + 255 * 4 : 8 + 256 * 4], "big")
        base = 8 + 1024
        for i in range(count):
            yield bytes(self.data[base + 20 * i : base + 20 * i + 20])

    def within(self, others: Iterable[_PackIndex]) -> bool:
        """True when every object of this pack is in one of ``others``."""
        if not self.data:
            return False
        others = list(others)
        return all(any(oid in other for other in others) for oid in self.names())

    def __contains__(self, oid: bytes) -> bool:
        if not self.data:
            return False
        fan = 8
        hi = int.from_bytes(self.data[fan + 4 * oid[0] : fan + 4 * oid[0] + 4], "big")
        lo = (
            int.from_bytes(self.data[fan + 4 * (oid[0] - 1) : fan + 4 * oid[0]], "big")
            if oid[0]
            else 0
        )
        base = fan + 1024
        while lo < hi:
            mid = (lo + hi) // 2
            here = self.data[base + 20 * mid : base + 20 * mid + 20]
            if here == oid:
                return True
            if here < oid:
                lo = mid + 1
            else:
                hi = mid
        return False


def estimate_loose_objects(ledger: Path) -> int:
    """Estimate the loose object count from one fan-out folder, the way ``gc --auto`` does."""
    try:
        names = os.listdir(ledger / "objects" / "17")
    except FileNotFoundError:
        return 0
    return 256 * sum(1 for n in names if len(n) == 38)


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


# -- walking the graph cheaply ------------------------------------------------------------
@dataclasses.dataclass
class SessionFacts:
    """What a walk of one session's commit messages tells without reading any blob."""

    session_id: str
    tip: str
    entries: int = 0
    first: int | None = None
    last: int | None = None
    counts: dict[tuple[str, str, str], int] = dataclasses.field(default_factory=dict)


def session_facts(
    repo: pygit2.Repository, session_id: str, tip: bytes, stop_at: bytes | None = None
) -> SessionFacts:
    """Count a session's entries by (type, level, agent) from commit trailers alone."""
    facts = SessionFacts(session_id, tip.hex())
    for commit in first_parents(repo, tip):
        if stop_at is not None and bytes(commit.id.raw) == stop_at:
            break
        if is_observation(commit):
            continue
        trailers = parse_trailers(commit.message)
        key = (
            trailers.get(T_TYPE, "unknown"),
            trailers.get(T_LEVEL, "unknown"),
            trailers.get(T_AGENT, commit.author.name),
        )
        facts.counts[key] = facts.counts.get(key, 0) + 1
        facts.entries += 1
        when = commit.commit_time
        facts.last = when if facts.last is None else max(facts.last, when)
        facts.first = when if facts.first is None else min(facts.first, when)
    return facts


# -- the class ------------------------------------------------------------------------------
_CACHE_FILES = frozenset({INDEX_FILE, *(INDEX_FILE + s for s in ("-wal", "-shm", "-journal"))})


class LogStorage:
    """Storage management for one ledger: usage, maintenance, rotation, quota and export.

    Args:
        ledger_dir: the ledger (resolved like ChangeLogger's; ``log_dir`` is the seed's name).
        max_log_age_days: sessions whose last entry is older than this are archived.
        max_storage_mb: the size budget of the repository (the archive folder excluded).
        compress_after_days: loose objects older than this make writers start maintenance
            even below the loose-object threshold.
        prune_grace_seconds: unreachable objects younger than this are never pruned, so
            objects of an in-flight writer survive.
        quiet: do not print what maintenance did.
        progress: called as ``progress(stage, done, total)`` during long work.
    """

    def __init__(
        self,
        ledger_dir: str | os.PathLike[str] | None = None,
        max_log_age_days: float = 30,
        max_storage_mb: float = 500,
        compress_after_days: float = 7,
        *,
        prune_grace_seconds: int = DEFAULT_PRUNE_GRACE_SECONDS,
        quiet: bool = False,
        progress: Progress | None = None,
        echo: Echo | None = None,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if max_log_age_days < 0 or max_storage_mb <= 0 or compress_after_days < 0:
            raise InvalidInputError(
                "max_log_age_days and compress_after_days must be >= 0, max_storage_mb > 0"
            )
        if prune_grace_seconds < 0:
            raise InvalidInputError("prune_grace_seconds must be >= 0")
        self.ledger_dir = resolve_ledger_dir(ledger_dir if ledger_dir is not None else log_dir)
        self.max_log_age_days = max_log_age_days
        self.max_storage_mb = max_storage_mb
        self.compress_after_days = compress_after_days
        self.prune_grace_seconds = prune_grace_seconds
        self.quiet = quiet
        self.progress = progress
        self._echo = echo
        self._store: LedgerStore | None = None

    # -- basics ------------------------------------------------------------------------
    @property
    def store(self) -> LedgerStore:
        """The ledger (LedgerNotFoundError when there is none yet)."""
        if self._store is None:
            # Durable: restore writes refs; reads pay nothing for it.
            self._store = LedgerStore(self.ledger_dir)
        return self._store

    @property
    def archive_dir(self) -> Path:
        """Where retired sessions' bundles go: ``<ledger>/archive``."""
        return self.ledger_dir / ARCHIVE_DIR

    def _say(self, text: str) -> None:
        if self.quiet:
            return
        if self._echo is not None:
            self._echo(text)
        else:
            print(text)

    def _tick(self, stage: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def repository_bytes(self) -> int:
        """Bytes the repository takes on disk; the archive and the query cache excluded.

        The query index is a disposable cache rebuilt from the refs: it never counts
        against the budget, so a large index can never make maintenance retire sessions.
        """
        return _tree_size(self.ledger_dir, frozenset({ARCHIVE_DIR, *_CACHE_FILES}))

    def cache_bytes(self) -> int:
        """Bytes of the disposable query index (and its SQLite side files)."""
        return sum(
            (self.ledger_dir / name).stat().st_size
            for name in _CACHE_FILES
            if (self.ledger_dir / name).is_file()
        )

    # -- usage ----------------------------------------------------------------------------
    def get_storage_usage(self) -> dict[str, Any]:
        """Size against the budget, entries and sessions, loose objects and packs.

        ``total_size_mb`` counts the repository without ``archive/`` (the budget applies to
        the live ledger); the archive's size is ``archive_size_mb``.
        """
        store = self.store
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
            self._tick("counting", i + 1, len(sessions))
        return {
            **self.get_storage_size(),
            "entries": entries,
            "sessions": len(sessions),
            "oldest_entry": _iso(first),
            "newest_entry": _iso(last),
        }

    def get_storage_size(self) -> dict[str, Any]:
        """The size half of :meth:`get_storage_usage`, without counting entries (cheap)."""
        total = self.repository_bytes()
        loose_n, loose_b = loose_objects(self.ledger_dir)
        pack_n, pack_b = packs(self.ledger_dir)
        archive_b = _tree_size(self.archive_dir) if self.archive_dir.exists() else 0
        mb = total / (1024 * 1024)
        return {
            "ledger_dir": str(self.ledger_dir),
            "total_size_bytes": total,
            "total_size_mb": mb,
            "max_storage_mb": self.max_storage_mb,
            "usage_percentage": 100.0 * mb / self.max_storage_mb,
            "loose_objects": loose_n,
            "loose_size_bytes": loose_b,
            "packs": pack_n,
            "pack_size_bytes": pack_b,
            "archives": len(self._bundles()),
            "archive_size_mb": archive_b / (1024 * 1024),
            "query_index_mb": self.cache_bytes() / (1024 * 1024),
        }

    def needs_maintenance(self, threshold: int | None = None) -> bool:
        """True when loose objects or packs pile up (the writers' automatic trigger).

        Like ``git gc --auto``: the loose count is estimated from one fan-out folder; also
        due with more than 50 packs, or when a sampled loose object is older than
        ``compress_after_days``. ``git config ledger.autoMaintenance N`` sets the
        threshold (0 turns the automatic trigger off).
        """
        loose = estimate_loose_objects(self.ledger_dir)
        many_packs = packs(self.ledger_dir)[0] > AUTO_PACK_LIMIT
        stale = False
        cutoff = time.time() - self.compress_after_days * 86400
        folder = self.ledger_dir / "objects" / "17"
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
            for item in it:
                with contextlib.suppress(FileNotFoundError):
                    if item.stat().st_mtime < cutoff:
                        stale = True
                        break
        if not (loose or many_packs or stale):
            return False  # the common case reads no config
        limit = self._auto_threshold() if threshold is None else threshold
        if limit <= 0:
            return False
        return loose >= limit or many_packs or stale

    def _auto_threshold(self) -> int:
        try:
            value = self.store.repo.config[AUTO_CONFIG_KEY]
        except KeyError:
            return DEFAULT_AUTO_THRESHOLD
        try:
            return int(str(value))
        except ValueError:
            return DEFAULT_AUTO_THRESHOLD

    # -- locking --------------------------------------------------------------------------
    @contextlib.contextmanager
    def maintenance_lock(self, timeout: float = 0.0) -> Iterator[None]:
        """Hold the ledger's maintenance lock (a kernel flock: it dies with its holder)."""
        with maintenance_lock(self.ledger_dir, timeout):
            yield

    # -- maintenance ----------------------------------------------------------------------
    def _old_sessions(self, max_age_days: float) -> list[tuple[str, bytes, int]]:
        repo = self.store.repo
        cutoff = time.time() - max_age_days * 86400
        out: list[tuple[str, bytes, int]] = []
        for sid, tip in self.store.sessions().items():
            commit = repo[pygit2.Oid(raw=tip)]
            if isinstance(commit, pygit2.Commit) and commit.commit_time < cutoff:
                out.append((sid, tip, commit.commit_time))
        out.sort(key=lambda item: item[2])
        return out

    def maintenance(self, dry_run: bool = False, *, lock_timeout: float = 0.0) -> dict[str, Any]:
        """Archive and retire idle sessions, then pack loose objects and prune.

        Returns (and prints, unless quiet) ``compressed`` (loose objects packed),
        ``archived`` (sessions written to the bundle), ``deleted_old`` (session refs
        removed), ``archive`` (the bundle's path or None), ``bytes_before``/``bytes_after``.
        """
        git_executable()
        self.store.repo  # noqa: B018  (raises LedgerNotFoundError early)
        with self.maintenance_lock(lock_timeout):
            old = self._old_sessions(self.max_log_age_days)
            return self._maintain(old, dry_run, f"older than {self.max_log_age_days:g} days")

    def _maintain(
        self, old: list[tuple[str, bytes, int]], dry_run: bool, why: str
    ) -> dict[str, Any]:
        before = self.repository_bytes()
        loose_n, _ = loose_objects(self.ledger_dir)
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
            repo = self.store.repo
            result["archived"] = result["deleted_old"] = len(old)
            result["sessions_archived"] = [sid for sid, _, _ in old]
            result["archived_entries"] = sum(
                session_facts(repo, sid, tip).entries for sid, tip, _ in old
            )
            self._say(
                f"Dry run: would pack {loose_n} loose objects and archive then remove "
                f"{len(old)} session(s) {why}"
                + (f": {', '.join(sid for sid, _, _ in old[:10])}" if old else "")
                + (" …" if len(old) > 10 else "")
            )
            return result
        if old:
            self._retire(old, result)
        self._tick("packing", 0, None)
        packs_removed, loose_removed = self._compress()
        self._tick("packing", 1, 1)
        after = self.repository_bytes()
        left = loose_objects(self.ledger_dir)[0]
        result["bytes_after"] = after
        result["compressed"] = max(0, loose_n - left)
        result["loose_after"] = left
        result["packs_removed"] = packs_removed
        result["loose_removed"] = loose_removed
        self._say(
            f"Packed {result['compressed']} loose objects"
            + (f" ({left} unreachable ones wait out the prune grace)" if left else "")
            + f"; removed {packs_removed} superseded pack(s) and {loose_removed} loose "
            f"object file(s) from {self.ledger_dir / 'objects'}"
            + f"; repository {_human(before)} -> {_human(after)}"
        )
        return result

    def _retire(self, old: list[tuple[str, bytes, int]], result: dict[str, Any]) -> None:
        """Bundle the sessions, verify the bundle, then delete each unchanged ref."""
        bundle, manifest = self._write_bundle(old)
        result["archive"] = str(bundle)
        for i, (sid, tip, _) in enumerate(old):
            with self.store.session_lock(sid):
                if self.store.tip(sid) != tip:
                    # A writer appended after we looked: the session is alive again.
                    result["sessions_skipped"].append(sid)
                    continue
                run_git(self.ledger_dir, "update-ref", "-d", SESSION_REF_PREFIX + sid, tip.hex())
            result["deleted_old"] += 1
            result["sessions_archived"].append(sid)
            result["archived_entries"] += manifest["sessions"][sid]["entries"]
            self._tick("retiring", i + 1, len(old))
        result["archived"] = len(result["sessions_archived"])
        self._say(
            f"Archived {result['archived']} session(s) ({result['archived_entries']} entries) "
            f"to {bundle} and removed their refs"
            + (f": {', '.join(result['sessions_archived'][:10])}" if result["archived"] else "")
            + (" …" if result["archived"] > 10 else "")
        )
        if result["sessions_skipped"]:
            self._say(
                f"Kept {len(result['sessions_skipped'])} session(s) that received new entries "
                f"during maintenance: {', '.join(result['sessions_skipped'])}"
            )

    def _write_bundle(self, old: list[tuple[str, bytes, int]]) -> tuple[Path, dict[str, Any]]:
        repo = self.store.repo
        self.archive_dir.mkdir(mode=0o700, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        final = self.archive_dir / f"sessions-{stamp}.bundle"
        manifest: dict[str, Any] = {"created": dt.datetime.now(dt.UTC).isoformat(), "sessions": {}}
        for sid, tip, _ in old:
            facts = session_facts(repo, sid, tip)
            manifest["sessions"][sid] = {
                "tip": tip.hex(),
                "entries": facts.entries,
                "first_entry": _iso(facts.first),
                "last_entry": _iso(facts.last),
            }
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".bundle", dir=self.archive_dir)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            # The bundle names each session by its ref; a ref that moved on since we
            # looked is bundled at its newer tip and then kept (see _retire).
            revs = "\n".join(SESSION_REF_PREFIX + sid for sid, _, _ in old) + "\n"
            self._tick("archiving", 0, len(old))
            tmp.unlink()
            run_git(self.ledger_dir, "bundle", "create", "-q", str(tmp), "--stdin", input=revs)
            self._verify_bundle(tmp, {SESSION_REF_PREFIX + sid: tip for sid, tip, _ in old})
            manifest_path = final.with_suffix(".json")
            manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        return final, manifest

    def _verify_bundle(self, bundle: Path, expected: Mapping[str, bytes]) -> dict[str, str]:
        """``git bundle verify`` it and check it holds each ref at (or past) the tip wanted."""
        proc = run_git(self.ledger_dir, "bundle", "verify", "-q", str(bundle), check=False)
        if proc.returncode != 0:
            raise ArchiveError(f"archive {bundle} failed git bundle verify: {proc.stderr.strip()}")
        heads = self._bundle_heads(bundle)
        repo = self.store.repo
        for ref, tip in expected.items():
            got = heads.get(ref)
            if got is None:
                raise ArchiveError(f"archive {bundle} lacks {ref}")
            got_raw = bytes.fromhex(got)
            if got_raw != tip and not repo.descendant_of(
                pygit2.Oid(raw=got_raw), pygit2.Oid(raw=tip)
            ):
                raise ArchiveError(f"archive {bundle} holds {ref} at {got}, not {tip.hex()}")
        return heads

    def _bundle_heads(self, bundle: Path) -> dict[str, str]:
        proc = run_git(self.ledger_dir, "bundle", "list-heads", str(bundle), check=False)
        if proc.returncode != 0:
            raise ArchiveError(f"cannot read archive {bundle}: {proc.stderr.strip()}")
        heads: dict[str, str] = {}
        for line in proc.stdout.splitlines():
            oid, _, ref = line.partition(" ")
            if ref:
                heads[ref] = oid
        return heads

    def _compress(self) -> tuple[int, int]:
        """Pack every reachable object into one delta-compressed pack, then drop the rest.

        ``git pack-objects`` does the packing; the clean-up is ours because git's
        ``prune-packed``/``prune`` remove emptied fan-out folders, which races a libgit2
        writer that has just created one to put a loose object in. An old pack goes once
        its reachable objects are in the new pack; a pack younger than the prune grace
        goes only if the new pack holds every object in it (maintenance's own packs that
        nobody touched since count as old). A loose object goes when a pack has it or it
        is older than the grace.
        """
        pack_dir = self.ledger_dir / "objects" / "pack"
        pack_dir.mkdir(exist_ok=True)
        self._clean_temp(pack_dir)
        ours = self._our_packs()
        before = _pack_stats(pack_dir)
        keep = {name for name in before if (pack_dir / name).with_suffix(".keep").exists()}
        args = [
            "pack-objects",
            "--all",
            "--reflog",
            "--indexed-objects",
            "--non-empty",
            "--delta-base-offset",
            "--keep-true-parents",
            "--honor-pack-keep",
            "-q",
            # Deltas found once are reused, so a wide window costs only new objects.
            f"--window={PACK_WINDOW}",
            f"--depth={PACK_DEPTH}",
        ]
        out = run_git(self.ledger_dir, *args, str(pack_dir / "pack"), input="").stdout
        made = {f"pack-{line.strip()}.pack" for line in out.split() if line.strip()}
        packs_removed = loose_removed = 0
        new_indexes = [_PackIndex(pack_dir / name) for name in sorted(made)]
        for name in sorted(set(before) - keep - made):
            st = _stat(pack_dir / name)
            if st is None:
                continue
            if self._young(name, st, ours) and not _PackIndex(pack_dir / name).within(new_indexes):
                # It holds unreachable objects and is young: an in-flight writer's batch,
                # or an old pack a writer just reused an object from. Keep it whole.
                continue
            for suffix in (".idx", ".rev", ".bitmap", ".pack"):
                with contextlib.suppress(FileNotFoundError):
                    (pack_dir / name).with_suffix(suffix).unlink()
            packs_removed += 1
        indexes = [_PackIndex(pack_dir / name) for name in sorted(_pack_stats(pack_dir))]
        cutoff = time.time() - self.prune_grace_seconds
        for folder in _loose_dirs(self.ledger_dir):
            with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
                for item in it:
                    if len(item.name) != 38:
                        continue
                    oid = bytes.fromhex(folder.name + item.name)
                    packed = any(oid in idx for idx in indexes)
                    st = _stat(Path(item.path))
                    if st is not None and (packed or st.st_mtime < cutoff):
                        # Never rmdir the folder: a writer may be about to use it.
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(item.path)
                            loose_removed += 1
        now = _pack_stats(pack_dir)
        self._remember_packs({name: now[name].st_mtime_ns for name in made if name in now})
        return packs_removed, loose_removed

    def _clean_temp(self, pack_dir: Path) -> None:
        """Remove temporary files a killed writer, git or maintenance left behind."""
        cutoff = time.time() - TEMP_GRACE_SECONDS
        leftovers = [*pack_dir.glob("tmp_*"), *pack_dir.glob(".tmp-*")]
        if self.archive_dir.is_dir():
            leftovers += self.archive_dir.glob(".tmp-*")
        for path in leftovers:
            st = _stat(path)
            if st is not None and st.st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def _young(self, name: str, st: os.stat_result, ours: Mapping[str, int]) -> bool:
        if ours.get(name) == st.st_mtime_ns:
            return False  # written by maintenance and never freshened by a writer
        return st.st_mtime >= time.time() - self.prune_grace_seconds

    def _our_packs(self) -> dict[str, int]:
        try:
            data = json.loads((self.ledger_dir / MAINTENANCE_STATE).read_text())
            return {str(k): int(v) for k, v in data.get("packs", {}).items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _remember_packs(self, packs_made: Mapping[str, int]) -> None:
        path = self.ledger_dir / MAINTENANCE_STATE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"packs": dict(packs_made)}, sort_keys=True) + "\n")
        os.replace(tmp, path)

    # -- quota ----------------------------------------------------------------------------
    def enforce_storage_quota(self, archive: bool = True) -> dict[str, Any]:
        """Retire the oldest sessions until the repository is under ``max_storage_mb``.

        Sessions are archived to a verified bundle first unless ``archive=False``. Space of
        objects younger than the prune grace is reclaimed by a later run.
        """
        git_executable()
        budget = self.max_storage_mb * 1024 * 1024
        removed: list[str] = []
        archives: list[str] = []
        with self.maintenance_lock():
            before = self.repository_bytes()
            self._compress()
            size = self.repository_bytes()
            while size > budget:
                candidates = self._old_sessions(0)
                if not candidates:
                    break
                # Retire a slice at a time: the oldest quarter (at least one session).
                chunk = candidates[: max(1, len(candidates) // 4)]
                if archive:
                    result: dict[str, Any] = {
                        "sessions_archived": [],
                        "sessions_skipped": [],
                        "archived_entries": 0,
                        "deleted_old": 0,
                    }
                    self._retire(chunk, result)
                    removed += result["sessions_archived"]
                    archives.append(result["archive"])
                else:
                    for sid, tip, _ in chunk:
                        with self.store.session_lock(sid):
                            if self.store.tip(sid) != tip:
                                continue
                            run_git(
                                self.ledger_dir,
                                "update-ref",
                                "-d",
                                SESSION_REF_PREFIX + sid,
                                tip.hex(),
                            )
                        removed.append(sid)
                    self._say(
                        f"Deleted {len(chunk)} session(s) without archiving: "
                        + ", ".join(sid for sid, _, _ in chunk)
                    )
                self._compress()
                new_size = self.repository_bytes()
                self._tick("quota", len(removed), None)
                if new_size >= size and not candidates[len(chunk) :]:
                    break
                size = new_size
        result_out = {
            "bytes_before": before,
            "bytes_after": size,
            "max_storage_bytes": int(budget),
            "under_budget": size <= budget,
            "sessions_removed": removed,
            "archives": archives,
        }
        self._say(
            f"Storage {_human(before)} -> {_human(size)} (budget {_human(int(budget))}); "
            f"retired {len(removed)} session(s)"
        )
        return result_out

    # -- archives -------------------------------------------------------------------------
    def _bundles(self) -> list[Path]:
        if not self.archive_dir.is_dir():
            return []
        return sorted(p for p in self.archive_dir.glob("*.bundle") if not p.name.startswith("."))

    def list_archives(self) -> list[dict[str, Any]]:
        """Every bundle in ``archive/``: path, size, creation time and sessions."""
        out = []
        for bundle in self._bundles():
            manifest_path = bundle.with_suffix(".json")
            sessions: dict[str, Any] = {}
            created = None
            if manifest_path.exists():
                with contextlib.suppress(OSError, ValueError):
                    data = json.loads(manifest_path.read_text())
                    sessions = dict(data.get("sessions") or {})
                    created = data.get("created")
            if not sessions:
                sessions = {
                    ref[len(SESSION_REF_PREFIX) :]: {"tip": oid}
                    for ref, oid in self._bundle_heads(bundle).items()
                    if ref.startswith(SESSION_REF_PREFIX)
                }
            out.append(
                {
                    "bundle": str(bundle),
                    "name": bundle.name,
                    "size_bytes": bundle.stat().st_size,
                    "created": created,
                    "sessions": len(sessions),
                    "entries": sum(int(s.get("entries") or 0) for s in sessions.values()),
                    "session_ids": sorted(sessions),
                    "first_entry": min(
                        (s["first_entry"] for s in sessions.values() if s.get("first_entry")),
                        default=None,
                    ),
                    "last_entry": max(
                        (s["last_entry"] for s in sessions.values() if s.get("last_entry")),
                        default=None,
                    ),
                }
            )
        return out

    def _find_bundle(self, bundle: str | os.PathLike[str]) -> Path:
        path = Path(os.fspath(bundle))
        for candidate in (path, self.archive_dir / path.name):
            if candidate.is_file():
                return candidate.absolute()
        raise ArchiveNotFoundError(f"no archive {bundle} (looked in {self.archive_dir} too)")

    def restore_archive(self, bundle: str | os.PathLike[str]) -> dict[str, Any]:
        """Bring a bundle's sessions back as session refs; refs never move backwards.

        A session absent from the ledger is recreated; one already at or past the bundled
        tip is left alone; one that the bundled tip extends is moved forward; one whose
        history differs (a new session reused the id) is restored as ``<id>.restored-N``.
        """
        git_executable()
        path = self._find_bundle(bundle)
        store = self.store
        with self.maintenance_lock(timeout=30.0):
            heads = self._verify_bundle(path, {})
            proc = run_git(self.ledger_dir, "bundle", "unbundle", str(path), check=False)
            if proc.returncode != 0:
                raise ArchiveError(f"cannot unbundle {path}: {proc.stderr.strip()}")
            repo = store.repo
            restored: list[str] = []
            present: list[str] = []
            renamed: dict[str, str] = {}
            for ref, hexid in sorted(heads.items()):
                if not ref.startswith(SESSION_REF_PREFIX):
                    continue
                sid = validate_session_id(ref[len(SESSION_REF_PREFIX) :])
                new = bytes.fromhex(hexid)
                target = sid
                with store.session_lock(sid):
                    current = store.tip(sid)
                    if current == new or (
                        current is not None
                        and repo.descendant_of(pygit2.Oid(raw=current), pygit2.Oid(raw=new))
                    ):
                        present.append(sid)
                        continue
                    forward = current is None or repo.descendant_of(
                        pygit2.Oid(raw=new), pygit2.Oid(raw=current)
                    )
                    if forward and store.compare_and_swap(
                        sid, new, current, "ledger: restore archive"
                    ):
                        restored.append(sid)
                        continue
                for n in range(1, 1000):
                    target = validate_session_id(f"{sid[:110]}.restored-{n}")
                    if store.tip(target) is None:
                        break
                with store.session_lock(target):
                    if store.compare_and_swap(target, new, None, "ledger: restore archive"):
                        renamed[sid] = target
                        restored.append(target)
        self._say(
            f"Restored {len(restored)} session(s) from {path}"
            + (f"; {len(present)} already present" if present else "")
            + "".join(f"; {a} restored as {b}" for a, b in renamed.items())
        )
        return {"bundle": str(path), "restored": restored, "present": present, "renamed": renamed}

    # -- export ---------------------------------------------------------------------------
    def iter_entries(
        self,
        start_date: dt.datetime | dt.date | str | None = None,
        end_date: dt.datetime | dt.date | str | None = None,
        **filters: Any,
    ) -> Iterator[Entry]:
        """Entries matching the filters, newest first, streamed from the commit graph.

        The filters are :meth:`LogQuery.query`'s (change_types, levels, session_id,
        agent_id, file_path, search_text) and match exactly as they do there.
        """
        from ledger.read.query import LogQuery  # deferred: query imports storage's neighbours

        unknown = set(filters) - FILTER_KEYS
        if unknown:
            raise InvalidInputError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        query = LogQuery(self.ledger_dir, use_index=False)
        return query.iter_query(start_date=start_date, end_date=end_date, **filters)

    def export_logs(
        self,
        output_file: str | os.PathLike[str],
        start_date: dt.datetime | dt.date | str | None = None,
        end_date: dt.datetime | dt.date | str | None = None,
        format: str = "json",
        include_states: bool = False,
        **filters: Any,
    ) -> dict[str, Any]:
        """Write matching entries (newest first) as json, jsonl or csv, streaming.

        Entries are written one at a time to a temporary file renamed into place at the
        end, so memory stays flat and a failed export leaves nothing behind. Filters:
        change_types, levels, session_id, agent_id, file_path (a folder with a trailing
        ``/``), search_text.
        """
        fmt = format.lower()
        if fmt not in EXPORT_FORMATS:
            raise InvalidInputError(
                f"unknown export format {format!r} (one of: {', '.join(EXPORT_FORMATS)})"
            )
        entries = self.iter_entries(start_date, end_date, **filters)
        target = Path(os.fspath(output_file)).absolute()
        folder = target.parent
        if not folder.is_dir():
            raise InvalidInputError(f"cannot export to {target}: {folder} is not a folder")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
        count = 0
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                count = _WRITERS[fmt](out, entries, include_states, self._tick)
            os.chmod(tmp_name, 0o644 & ~_umask())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return {"output_file": str(target), "format": fmt, "entries": count}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False)


def _write_json(out: TextIO, entries: Iterable[Entry], states: bool, tick: Progress) -> int:
    n = 0
    out.write("[")
    for entry in entries:
        out.write(",\n  " if n else "\n  ")
        out.write(_dump(entry.to_dict(include_states=states)))
        n += 1
        if n % 1000 == 0:
            tick("exporting", n, None)
    out.write("\n]\n" if n else "]\n")
    return n


def _write_jsonl(out: TextIO, entries: Iterable[Entry], states: bool, tick: Progress) -> int:
    n = 0
    for entry in entries:
        out.write(_dump(entry.to_dict(include_states=states)) + "\n")
        n += 1
        if n % 1000 == 0:
            tick("exporting", n, None)
    return n


def _write_csv(out: TextIO, entries: Iterable[Entry], states: bool, tick: Progress) -> int:
    fields = CSV_FIELDS + (["before_state", "after_state"] if states else [])
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for entry in entries:
        row = entry.to_dict(include_states=states)
        row["metadata"] = json.dumps(row["metadata"], ensure_ascii=False, sort_keys=True)
        for key in ("before_state", "after_state"):
            if isinstance(row.get(key), dict):
                row[key] = json.dumps(row[key])
        writer.writerow(row)
        n += 1
        if n % 1000 == 0:
            tick("exporting", n, None)
    return n


_WRITERS: dict[str, Callable[[TextIO, Iterable[Entry], bool, Progress], int]] = {
    "json": _write_json,
    "jsonl": _write_jsonl,
    "csv": _write_csv,
}


# -- automatic maintenance ----------------------------------------------------------------
def auto_maintenance(ledger_dir: Path) -> bool:
    """Called by writers: start maintenance in the background when objects pile up.

    Cheap (one directory listing) when nothing is due. When due, starts a detached
    maintenance worker that takes the maintenance lock without waiting and exits if
    another run holds it. Returns True when a run was started. Never raises.
    """
    try:
        storage = LogStorage(ledger_dir, quiet=True)
        if not storage.needs_maintenance():
            return False
        stamp = ledger_dir / LOCK_FOLDER / AUTO_STAMP
        with contextlib.suppress(FileNotFoundError):
            if time.time() - stamp.stat().st_mtime < AUTO_MIN_INTERVAL_SECONDS:
                return False  # one was started a moment ago
        if shutil.which("git") is None:
            return False
        stamp.parent.mkdir(mode=0o700, exist_ok=True)
        stamp.touch()
        return start_worker("maintain", str(ledger_dir), log=ledger_dir / MAINTENANCE_LOG)
    except (OSError, StorageError, LedgerNotFoundError, ValueError):
        return False


def background_maintenance(ledger_dir: str) -> int:
    """The worker of :func:`auto_maintenance`: one maintenance run, reported to its log."""
    storage = LogStorage(ledger_dir)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    buf = io.StringIO()
    storage._echo = lambda text: print(text, file=buf)
    try:
        storage.maintenance()
    except MaintenanceBusyError:
        return 0
    except Exception as exc:  # a background run reports to its log, never to a writer
        print(f"{stamp} pid={os.getpid()} automatic maintenance failed: {exc}")
        return 1
    for line in buf.getvalue().splitlines():
        print(f"{stamp} pid={os.getpid()} {line}")
    return 0
