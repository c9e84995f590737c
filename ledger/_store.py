"""The ledger repository: per-thread handles, session locks, ref compare-and-swap, reads.

Writers of one session serialise on an advisory ``flock`` (released by the kernel when a
writer dies, so it never outlives its holder) and publish with a compare-and-swap of the
session ref inside a libgit2 ref transaction. Readers take no locks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import cast

import pygit2

from ledger._fs import flock
from ledger._graph import entry_blob, first_parents, is_observation
from ledger._layout import (
    ARCHIVE_DIR,
    ARCHIVE_OBJECTS,
    LOCK_FOLDER,
    RECOVERY_LOG,
    SESSION_REF_PREFIX,
)
from ledger._names import validate_session_id
from ledger.entry import Entry
from ledger.errors import (
    AmbiguousEntryError,
    ConcurrentUpdateError,
    EntryNotFoundError,
    InvalidEntryIdError,
    LedgerError,
    LockTimeoutError,
    StorageError,
)
from ledger.location import check_existing, ensure_ledger

# A ref .lock file older than this, found while we hold the session's flock, was left by a
# writer that died between locking and renaming: every live ledger writer holds the flock.
STALE_REF_LOCK_SECONDS = 2.0

_fsync_enabled = False
_fsync_guard = threading.Lock()


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """The C library's syncfs, looked up on first use (ctypes loads only for writers)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to ask
        return None
    func = getattr(libc, "syncfs", None)
    if func is None:  # pragma: no cover - not Linux
        return None
    func.argtypes = [ctypes.c_int]
    func.restype = ctypes.c_int
    return cast(Callable[[int], int], func)



def enable_fsync() -> None:
    """Turn on libgit2's fsync of objects and refs (a process-wide libgit2 setting)."""
    global _fsync_enabled
    with _fsync_guard:
        if not _fsync_enabled:
            pygit2.settings.enable_fsync_gitdir(True)
            _fsync_enabled = True


def sync_filesystem(path: Path) -> None:
    """Make everything written so far under ``path`` durable.

    One syncfs(2) of the ledger's filesystem, which on Linux costs a fraction of the
    fsync of every object file, folder and ref that libgit2 would do. Where syncfs is
    missing, libgit2's own fsync is on instead and this does nothing.
    """
    syncfs = _syncfs()
    if syncfs is None:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            err = _errno()
            raise StorageError(f"cannot make writes to {path} durable: {os.strerror(err)}")
    finally:
        os.close(fd)


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


class LedgerStore:
    """Handle on one ledger repository, shareable between threads."""

    def __init__(
        self, path: Path, *, create: bool = False, durable: bool = True, archives: bool = False
    ) -> None:
        self.path = path
        self.durable = durable
        # Readers may also see the archive's objects; writers never do, or libgit2 would
        # skip writing an object it finds there and leave the ledger itself without it.
        self.archives = archives
        self._local = threading.local()
        self._ready = False
        self._lock_dir = os.path.join(path, LOCK_FOLDER)
        if durable and _syncfs() is None:
            enable_fsync()
        if not create:
            check_existing(path)
            self._ready = True

    # -- repository handles ---------------------------------------------------------
    def ensure(self) -> None:
        """Create the ledger on first write."""
        if not self._ready:
            ensure_ledger(self.path)
            self._ready = True

    @property
    def exists(self) -> bool:
        if self._ready:
            return True
        try:
            check_existing(self.path)
        except LedgerError:
            return False
        self._ready = True
        return True

    @property
    def repo(self) -> pygit2.Repository:
        """This thread's own Repository (libgit2 objects are not shared across threads)."""
        repo: pygit2.Repository | None = getattr(self._local, "repo", None)
        if repo is None:
            self.ensure()
            try:
                repo = pygit2.Repository(str(self.path))
            except pygit2.GitError as exc:
                raise StorageError(f"cannot open ledger at {self.path}: {exc}") from exc
            self._local.repo = repo
            if self.archives:
                self.attach_archives()
        return repo

    def attach_archives(self) -> bool:
        """Let this thread's repository read the archive's objects (readers only).

        True when they are attached (now or before); False when there are none yet.
        """
        if getattr(self._local, "archives", False):
            return True
        objects = self.path / ARCHIVE_DIR / ARCHIVE_OBJECTS
        if not (objects / "pack").is_dir():
            return False
        self.repo.odb.add_disk_alternate(str(objects))
        self._local.archives = True
        return True

    # -- session locks ----------------------------------------------------------------
    @contextlib.contextmanager
    def session_lock(self, session_id: str, timeout: float = 60.0) -> Iterator[None]:
        """Hold the session's writer lock; raise LockTimeoutError after ``timeout`` s."""
        with flock(
            self._lock_dir,
            f"{session_id}.lock",
            what=f"lock session {session_id}",
            timeout=timeout,
            busy=lambda: LockTimeoutError(
                f"session {session_id} is locked by another live writer (waited {timeout:.0f}s)"
            ),
            delay=0.0005,
        ):
            yield

    def _clear_stale_ref_lock(self, refname: str) -> None:
        lock = self.path / (refname + ".lock")
        deadline = time.monotonic() + STALE_REF_LOCK_SECONDS * 2
        while True:
            try:
                age = time.time() - lock.stat().st_mtime
            except FileNotFoundError:
                return
            if age >= STALE_REF_LOCK_SECONDS or time.monotonic() > deadline:
                try:
                    lock.unlink()
                except FileNotFoundError:
                    return
                self.record_recovery(f"removed stale ref lock {lock.name} for {refname}")
                return
            time.sleep(0.05)

    def record_recovery(self, what: str) -> None:
        """Append a line to the ledger's recovery log (stale locks removed, and so on)."""
        # Deferred, and the one upward import here: every log line goes through redaction.
        from ledger.trust.redact.logline import append_line

        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        line = f"{stamp} pid={os.getpid()} {what}"
        append_line(self.path / RECOVERY_LOG, line, ledger=self.path, stamp=False)

    # -- refs ---------------------------------------------------------------------------
    def tip(self, session_id: str) -> bytes | None:
        """The id of the session's newest commit, or None for a new session."""
        ref = self.repo.references.get(SESSION_REF_PREFIX + session_id)
        return _raw(ref.target) if ref is not None else None

    def compare_and_swap(
        self,
        session_id: str,
        new: bytes,
        expected: bytes | None,
        message: str,
    ) -> bool:
        """Point the session ref at ``new`` if it still points at ``expected``.

        Must be called with the session lock held. Returns False when the ref moved.
        """
        refname = SESSION_REF_PREFIX + session_id
        if self.durable:
            sync_filesystem(self.path)  # the new objects are on disk before a ref names them
        try:
            moved = self._swap(refname, new, expected, message)
        except (pygit2.GitError, OSError, ValueError) as exc:
            # Checked only when the update failed: a ref .lock left by a writer that died
            # between locking and renaming is removed, and the update tried once more.
            if self._ref_value(refname) != expected:
                return False
            self._clear_stale_ref_lock(refname)
            try:
                moved = self._swap(refname, new, expected, message)
            except (pygit2.GitError, OSError, ValueError):
                if self._ref_value(refname) != expected:
                    return False
                raise StorageError(f"cannot update {refname}: {exc}") from exc
        if moved:
            return False
        if self.durable:
            sync_filesystem(self.path)  # the ref and its reflog, before the caller is told
        return True

    def _swap(self, refname: str, new: bytes, expected: bytes | None, message: str) -> bool:
        """Move ``refname`` from ``expected`` to ``new``; True when it had moved already.

        libgit2 locks the ref and checks its old value under the lock (or that it does
        not exist yet), so a writer outside git-ledger cannot slip in between. The reflog
        names the ledger's own identity (user.name in its config); the agent is the
        commit's author.
        """
        repo = self.repo
        current = repo.references.get(refname)
        if current is None:
            if expected is not None:
                return True
            repo.create_reference_direct(refname, pygit2.Oid(raw=new), False, message=message)
            return False
        if _raw(current.target) != expected:
            return True
        current.set_target(pygit2.Oid(raw=new), message)
        return False

    def _ref_value(self, refname: str) -> bytes | None:
        try:
            ref = self.repo.references.get(refname)
        except (pygit2.GitError, ValueError):
            return None
        return _raw(ref.target) if ref is not None else None

    def sessions(self) -> dict[str, bytes]:
        """Every session id with its tip commit id."""
        out: dict[str, bytes] = {}
        for ref in self.repo.references.iterator(pygit2.enums.ReferenceFilter.BRANCHES):
            name = ref.name
            if name.startswith(SESSION_REF_PREFIX):
                out[name[len(SESSION_REF_PREFIX) :]] = _raw(ref.resolve().target)
        return out

    # -- reads ----------------------------------------------------------------------------
    def read_blob(self, hex_id: str) -> bytes | None:
        """The content of a blob, or None when the ledger does not hold it."""
        try:
            obj = self.repo.get(hex_id)
        except (ValueError, pygit2.GitError):
            return None
        if obj is None or not isinstance(obj, pygit2.Blob):
            return None
        return bytes(obj.data)

    def entry_from_commit(self, commit: pygit2.Commit) -> Entry | None:
        """The entry a commit holds, or None for an observation or foreign commit."""
        if is_observation(commit):
            return None
        blob = entry_blob(commit)
        if blob is None:
            return None
        return Entry.from_json(str(commit.id), bytes(blob.data), self.read_blob)

    def walk_session(self, session_id: str) -> Iterator[Entry]:
        """A session's entries, newest first, along first parents."""
        validate_session_id(session_id)
        tip = self.tip(session_id)
        if tip is None:
            return
        for commit in first_parents(self.repo, tip):
            entry = self.entry_from_commit(commit)
            if entry is not None:
                yield entry

    def get_entry(self, id_or_prefix: str, more_tips: Iterable[bytes] = ()) -> Entry:
        """Find an entry by full id or any unique prefix of 7 or more hex digits.

        ``more_tips``: tips besides the session refs that acknowledge entries (archived
        sessions' tips, for readers that see the archive).
        """
        text = id_or_prefix.strip().lower()
        if len(text) < 7 or any(c not in "0123456789abcdef" for c in text):
            raise InvalidEntryIdError(
                f"{id_or_prefix!r} is not an entry id (7 to 40 hexadecimal digits)"
            )
        repo = self.repo
        try:
            obj = repo.revparse_single(text) if len(text) < 40 else repo.get(text)
        except KeyError:
            obj = None
        except (ValueError, pygit2.GitError) as exc:
            if "ambiguous" in str(exc).lower():
                raise AmbiguousEntryError(f"id prefix {text} matches more than one object") from exc
            obj = None
        if not isinstance(obj, pygit2.Commit):
            raise EntryNotFoundError(f"no entry with id {id_or_prefix}")
        entry = self.entry_from_commit(obj)
        if entry is None:
            raise EntryNotFoundError(f"{id_or_prefix} is not an entry (an observation commit)")
        if not self.is_acknowledged(entry, more_tips):
            raise EntryNotFoundError(
                f"{id_or_prefix} is not on its session's branch (a write that never completed)"
            )
        return entry

    def is_acknowledged(self, entry: Entry, more_tips: Iterable[bytes] = ()) -> bool:
        """True when the entry's commit is on its session's branch (or under ``more_tips``)."""
        oid = pygit2.Oid(hex=entry.id)

        def holds(tip: bytes | None) -> bool:
            return tip is not None and (
                tip == bytes(oid.raw) or self.repo.descendant_of(pygit2.Oid(raw=tip), oid)
            )

        try:
            if holds(self.tip(validate_session_id(entry.session_id))):
                return True
        except LedgerError:
            pass
        # A session kept under another name (e.g. a diverged copy pulled from a remote).
        return any(holds(tip) for tip in self.sessions().values()) or any(
            holds(tip) for tip in more_tips
        )


def _raw(target: pygit2.Oid | str) -> bytes:
    if isinstance(target, str):
        return bytes.fromhex(target)
    return bytes(target.raw)


def retry_cas(attempts: int = 8) -> Iterator[int]:
    """Attempt numbers for a compare-and-swap loop, then ConcurrentUpdateError."""
    yield from range(attempts)
    raise ConcurrentUpdateError(
        f"the session ref kept moving during {attempts} attempts; nothing was written"
    )
