"""Sending the ledger's refs to a remote, in resumable batches, never by force.

Also the single-flight background push that writers start after recording something.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2

from ledger._background import start_worker
from ledger._layout import LOCK_FOLDER, PUSH_LOCK, PUSH_PENDING, SESSION_REF_PREFIX, SYNC_LOG
from ledger._names import validate_session_id
from ledger._store import enable_fsync
from ledger.errors import InvalidRemoteError, LedgerError, SyncError
from ledger.location import is_ledger, resolve_ledger_dir
from ledger.sync.central_locks import (
    blocked_hint,
    central_path,
    central_push_lock,
    clear_stale_locks,
)
from ledger.sync.refs import (
    copy_name,
    copy_prefix,
    descends,
    fetch_specs,
    has_object,
    is_ledger_ref,
    local_refs,
    specs_for,
)
from ledger.sync.remotes import (
    auto_push_remote,
    fetch_url,
    is_local_url,
    machine_name,
    open_store,
    pick_remote,
    redact_text,
    redact_url,
    remote_url,
    validate_remote_name,
)
from ledger.sync.transport import Callbacks, anonymous_remote, fetch_refs, remote_messages
from ledger.trust.redact.logline import append_line

DEFAULT_BATCH = 500
SYNC_LOG_MAX_BYTES = 1 << 20


@dataclasses.dataclass
class PushResult:
    """What a push did, ref by ref (ref names are the remote's)."""

    remote: str
    url: str
    pushed: list[str] = dataclasses.field(default_factory=list)
    up_to_date: int = 0
    remote_ahead: list[str] = dataclasses.field(default_factory=list)
    diverged: dict[str, str] = dataclasses.field(default_factory=dict)
    rejected: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the remote accepted every update that was sent."""
        return not self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


def _unsendable(repo: pygit2.Repository, ref: str, oid: bytes) -> str | None:
    if not ref.startswith(SESSION_REF_PREFIX):
        return None
    try:
        validate_session_id(ref[len(SESSION_REF_PREFIX) :])
    except LedgerError:
        return "not a valid session id"
    obj = repo.get(pygit2.Oid(raw=oid))
    if not isinstance(obj, pygit2.Commit):
        return "does not point at a commit"
    return None


def _plan_push(
    repo: pygit2.Repository,
    local: dict[str, bytes],
    theirs: dict[str, bytes],
    origin: str,
    result: PushResult,
) -> list[tuple[str, str]]:
    plan: list[tuple[str, str]] = []
    for ref in sorted(local):
        mine = local[ref]
        there = theirs.get(ref)
        if there == mine:
            result.up_to_date += 1
            continue
        why = _unsendable(repo, ref, mine)
        if why:
            result.skipped[ref] = why  # would make the guard refuse its whole batch
        elif there is None or descends(repo, mine, there):
            plan.append((ref, ref))
        elif has_object(repo, there) and descends(repo, there, mine):
            result.remote_ahead.append(ref)
        else:
            # Same name, different history: send ours beside theirs under a name of its
            # own, continuing an earlier copy of ours if the remote already has one.
            prefix = copy_prefix(ref, origin)
            target = None
            for name, oid in theirs.items():
                if name.startswith(prefix) and (oid == mine or descends(repo, mine, oid)):
                    target = name
                    break
            target = target or copy_name(ref, origin, mine)
            result.diverged[ref] = target
            if theirs.get(target) == mine:
                result.up_to_date += 1
            else:
                plan.append((ref, target))
    return plan


def push(
    ledger_dir: str | os.PathLike[str] | None = None,
    remote: str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
    interactive: bool = True,
) -> PushResult:
    """Send every session (and ``refs/ledger/*``) the remote lacks, in batches.

    Refs the remote already has are skipped, so a push that failed part-way is finished by
    the next one; each batch is one pack and lands whole or not at all. Nothing is forced:
    a ref whose remote history differs from ours is sent under a name of its own
    (``<ref>--from-<machine>-<tip>``) and listed in ``diverged``. A push to a central on
    this machine holds that central's push flock and first removes the ref locks a killed
    push left there (noted in the sync log; see :mod:`ledger.sync.central_locks`).

    Args:
        ledger_dir: the ledger (resolved as everywhere).
        remote: the remote's name (default: ``ledger.autoPush``, the only remote, or origin).
        batch_size: refs per pack sent; smaller batches lose less to an interruption.
        progress: called with (refs sent, refs to send) after each batch.
        interactive: allow a credential helper to prompt on the terminal.

    Raises:
        InvalidRemoteError: no such remote.
        SyncError: the remote cannot be reached, or a batch failed (what was sent before
            it stays valid on the remote).
    """
    if batch_size < 1:
        raise InvalidRemoteError("batch size must be at least 1")
    store = open_store(ledger_dir)
    repo = store.repo
    name = pick_remote(repo, remote)
    url = remote_url(repo, name)
    result = PushResult(name, redact_url(url))
    if is_local_url(url):
        # libgit2 writes a local remote from this process, objects and refs interleaved:
        # fsync each write as a git server would, rather than flush afterwards.
        enable_fsync()
    cb = Callbacks(url, interactive)
    central = central_path(url) if is_local_url(url) else None
    with central_push_lock(central) if central else contextlib.nullcontext(False) as held:
        if central is not None and held:
            clear_stale_locks(central, lambda text: _log_line(store.path, text))
        try:
            _push_refs(repo, name, url, cb, batch_size, progress, result)
        except SyncError as exc:
            hint = blocked_hint(central) if central is not None else ""
            if hint:
                raise SyncError(f"{exc}{hint}") from exc
            raise
        if central is not None and result.rejected:
            hint = blocked_hint(central)
            for ref in result.rejected:
                result.rejected[ref] += hint
    cb.approve()
    return result


def _push_refs(
    repo: pygit2.Repository,
    name: str,
    url: str,
    cb: Callbacks,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    result: PushResult,
) -> None:
    """Plan what the remote lacks and send it batch by batch."""
    theirs = _remote_heads(repo, name, url, cb)
    local = local_refs(repo, exclude_origin=name)
    _fetch_unseen(repo, name, cb, local, theirs)
    plan = _plan_push(repo, local, theirs, machine_name(repo), result)
    done = 0
    for start in range(0, len(plan), batch_size):
        chunk = plan[start : start + batch_size]
        _send_batch(repo, name, url, cb, chunk, f"after {done} of {len(plan)} refs", result)
        done += len(chunk)
        if progress is not None:
            progress(done, len(plan))


def _remote_heads(repo: pygit2.Repository, name: str, url: str, cb: Callbacks) -> dict[str, bytes]:
    """The ledger refs the remote has, with their tips (one ref listing)."""
    try:
        heads = anonymous_remote(repo, url).list_heads(callbacks=cb.connection())
    except pygit2.GitError as exc:
        raise SyncError(redact_text(f"cannot reach {name} ({url}): {exc}", url)) from exc
    return {h.name: bytes(h.oid.raw) for h in heads if h.name and is_ledger_ref(h.name)}


def _fetch_unseen(
    repo: pygit2.Repository,
    name: str,
    cb: Callbacks,
    local: dict[str, bytes],
    theirs: dict[str, bytes],
) -> None:
    """Fetch (into staging only) remote tips of our refs that this ledger has never seen."""
    unknown = [
        r
        for r in local
        if r in theirs and theirs[r] != local[r] and not has_object(repo, theirs[r])
    ]
    if unknown:
        # The remote holds history of ours that we have never seen: fetch it (into staging
        # only) to tell "the remote is ahead" from "the histories diverged".
        fetch_refs(
            repo,
            name,
            fetch_url(repo, name),
            cb,
            fetch_specs(name)
            if len(unknown) > 100
            else [spec for ref in unknown for spec in specs_for(name, ref)],
        )


def _send_batch(
    repo: pygit2.Repository,
    name: str,
    url: str,
    cb: Callbacks,
    chunk: list[tuple[str, str]],
    where: str,
    result: PushResult,
) -> None:
    """Push one batch as one pack and record the remote's verdict on each of its refs."""
    cb.updates.clear()
    cb.remote_text.clear()
    try:
        # A fresh Remote per batch: libgit2 will not push on a connection opened to list.
        anonymous_remote(repo, url).push(
            [f"{src}:{dst}" for src, dst in chunk], callbacks=cb.connection()
        )
    except pygit2.GitError as exc:
        said = remote_messages(cb)
        raise SyncError(
            redact_text(
                f"push to {name} ({url}) failed {where}: {exc}"
                + (f" (remote: {said})" if said else "")
                + "; what was sent is kept, push again to finish",
                url,
            )
        ) from exc
    for _src, dst in chunk:
        if dst not in cb.updates:
            result.rejected[dst] = "no status from the remote"
        elif cb.updates[dst] is None:
            result.pushed.append(dst)
        else:
            result.rejected[dst] = redact_text(str(cb.updates[dst]), url)
    if any(dst in result.rejected for _s, dst in chunk):
        said = remote_messages(cb)
        if said:
            for _s, dst in chunk:
                if dst in result.rejected:
                    result.rejected[dst] += f" (remote: {said})"


def push_in_background(
    ledger_dir: str | os.PathLike[str] | None = None, remote: str | None = None
) -> bool:
    """Start a detached push to ``remote`` (default ``ledger.autoPush``) and return at once.

    Single-flight: a push already running for this ledger takes the request over (it runs
    once more when it finishes) instead of a second one starting. The worker holds an
    ``flock`` that dies with it. Results and errors go to ``<ledger>/ledger-sync.log``.
    Never raises; returns True when a push was started or queued, False when no remote is
    configured or the ledger does not exist.
    """
    try:
        path = resolve_ledger_dir(ledger_dir)
        name = remote or auto_push_remote(path)
        if not name or not is_ledger(path):
            return False
        validate_remote_name(name)
        _lock_path(path, PUSH_PENDING).touch()
        fd = _try_lock(_lock_path(path, PUSH_LOCK))
        if fd is None:
            return True  # the running push will see the pending mark
        os.close(fd)
        return start_worker("push", str(path), name)
    except Exception:  # never let a background push break the caller
        return False


def background_push(path: Path, name: str) -> int:
    """The worker of :func:`push_in_background`: push while pushes are pending."""
    lock = _lock_path(path, PUSH_LOCK)
    pending = _lock_path(path, PUSH_PENDING)
    code = 0
    while True:
        fd = _try_lock(lock)
        if fd is None:
            return code  # another worker runs and will see the pending mark
        try:
            with contextlib.suppress(OSError):  # who holds it, for people and tests
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            rounds = 0
            while pending.exists() and rounds < 10:
                rounds += 1
                with contextlib.suppress(FileNotFoundError):
                    pending.unlink()
                try:
                    res = push(path, name, interactive=False)
                    _log_line(
                        path,
                        f"push {name}: {len(res.pushed)} sent, {res.up_to_date} up to date, "
                        f"{len(res.diverged)} diverged, {len(res.rejected)} rejected",
                    )
                    code = 0 if res.ok else 1
                except LedgerError as exc:
                    _log_line(path, f"push {name} failed: {redact_text(str(exc))}")
                    code = 1
        finally:
            os.close(fd)
        # A request that arrived after our last check but before the unlock finds the lock
        # taken and leaves only its mark: take the lock again for it.
        if not pending.exists():
            return code


def _lock_path(ledger: Path, name: str) -> Path:
    """``name`` in the ledger's lock folder, the folder made (0700) if missing."""
    folder = ledger / LOCK_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / name


def _try_lock(path: Path) -> int | None:
    """The descriptor holding ``path``'s flock, or None when another process holds it.

    Not :func:`ledger._fs.flock`: the worker keeps the descriptor across push rounds and
    its caller only peeks, so a plain descriptor fits better than a context manager.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def _log_line(path: Path, text: str) -> None:
    """Append a stamped line to the sync log, rotating it past ``SYNC_LOG_MAX_BYTES``."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    line = f"{stamp} pid={os.getpid()} {text}"
    append_line(path / SYNC_LOG, line, ledger=path, stamp=False, max_bytes=SYNC_LOG_MAX_BYTES)
