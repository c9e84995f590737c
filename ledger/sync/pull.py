"""Taking a remote's refs in: fetch into staging, then move local refs only forward.

A session whose histories differ on the two sides keeps both, the remote's under a new name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import pygit2

from ledger._layout import CHECKPOINT_REF, LEDGER_REF_PREFIX, SESSION_REF_PREFIX, STAGING_PREFIX
from ledger._names import validate_session_id
from ledger._store import LedgerStore, sync_filesystem
from ledger.errors import LedgerError, LockTimeoutError, SyncError
from ledger.sync.refs import copy_name, copy_prefix, descends, fetch_specs, local_refs, ref_target
from ledger.sync.remotes import (
    fetch_url,
    machine_name,
    open_store,
    pick_remote,
    redact_url,
    remote_url,
)
from ledger.sync.transport import Callbacks, fetch_refs
from ledger.sync.validate import refuse_checkpoints, refuse_session


@dataclasses.dataclass
class PullResult:
    """What a pull did to the local ledger, ref by ref."""

    remote: str
    url: str
    created: list[str] = dataclasses.field(default_factory=list)
    fast_forwarded: list[str] = dataclasses.field(default_factory=list)
    up_to_date: int = 0
    local_ahead: list[str] = dataclasses.field(default_factory=list)
    diverged: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    refused: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every incoming ref was taken in (skipped ones are retried next pull).

        Refused refs (``refused``: what the remote served that is not a well-formed session
        or checkpoint chain) make it False too; everything else was still taken in.
        """
        return not self.skipped and not self.refused

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


def pull(
    ledger_dir: str | os.PathLike[str] | None = None,
    remote: str | None = None,
    *,
    lock_timeout: float = 10.0,
    interactive: bool = True,
) -> PullResult:
    """Fetch the remote's ledger refs into staging, then fast-forward local ones.

    Incoming refs are fetched to ``refs/ledger-remotes/<remote>/``; each local session ref
    then moves only forward, by compare-and-swap under the session's writer lock. A session
    whose local and remote histories differ keeps both: the remote's goes to
    ``<id>--from-<remote>-<tip>`` (listed in ``diverged``).

    Raises:
        InvalidRemoteError: no such remote.
        SyncError: the remote cannot be reached or the fetch failed.
    """
    store = open_store(ledger_dir)
    repo = store.repo
    name = pick_remote(repo, remote)
    url = remote_url(repo, name)
    result = PullResult(name, redact_url(url))
    cb = Callbacks(url, interactive)
    fetch_refs(repo, name, fetch_url(repo, name), cb, fetch_specs(name), prune=True)
    cb.approve()
    # The fetched objects (and staging refs) reach the disk before any session ref of
    # ours points at them.
    sync_filesystem(store.path)
    puller = _Puller(store, name, result, lock_timeout)
    machine = machine_name(repo)
    incoming = _staged(repo, name)
    # Sessions first: a checkpoint is checked against the session tips the pull leaves.
    for local_name, theirs in sorted(incoming, key=lambda r: (r[0] == CHECKPOINT_REF, r[0])):
        if _own_copy(repo, local_name, theirs, machine):
            result.up_to_date += 1  # our own diverged session, as we pushed it
            continue
        why = _refusal(store, local_name, theirs)
        if why is not None:
            result.refused[local_name] = why
            continue
        puller.take(local_name, theirs)
    if result.created or result.fast_forwarded or result.diverged:
        sync_filesystem(store.path)
    return result


def _refusal(store: LedgerStore, ref: str, theirs: bytes) -> str | None:
    """Why an incoming ref must not be adopted (validated before anything moves), or None."""
    repo = store.repo
    found = repo.references.get(ref)
    mine = ref_target(found) if found is not None else None
    if mine == theirs or (mine is not None and descends(repo, mine, theirs)):
        return None  # nothing new from the remote
    if ref.startswith(SESSION_REF_PREFIX):
        sid = ref[len(SESSION_REF_PREFIX) :]
        try:
            validate_session_id(sid)
        except LedgerError:
            return "not a valid session id"
        return refuse_session(repo, sid, theirs, mine)
    if ref == CHECKPOINT_REF and (mine is None or descends(repo, theirs, mine)):
        # It would become our chain; a diverged one is only kept beside ours, under a copy
        # name that verify and checkpoint do not read.
        return refuse_checkpoints(repo, store.path, theirs, mine, store.sessions())
    return None


def _staged(repo: pygit2.Repository, name: str) -> list[tuple[str, bytes]]:
    """The refs staged from remote ``name``, under their local names, with their tips."""
    stage = f"{STAGING_PREFIX}{name}/"
    incoming: list[tuple[str, bytes]] = []
    for ref in repo.references.iterator():
        if not ref.name.startswith(stage):
            continue
        rest = ref.name[len(stage) :]
        if rest.startswith("sessions/"):
            local_name = SESSION_REF_PREFIX + rest[len("sessions/") :]
        elif rest.startswith("ledger/"):
            local_name = LEDGER_REF_PREFIX + rest[len("ledger/") :]
        else:
            continue
        incoming.append((local_name, ref_target(ref)))
    return incoming


def _own_copy(repo: pygit2.Repository, ref: str, theirs: bytes, machine: str) -> bool:
    """True for ``<ref>--from-<this machine>-*`` holding history our ``<ref>`` has."""
    base, sep, _tip = ref.rpartition(f"--from-{machine}-")
    if not sep:
        return False
    found = repo.references.get(base)
    if found is None:
        return False
    mine = ref_target(found)
    return mine == theirs or descends(repo, mine, theirs)


class _Puller:
    def __init__(self, store: LedgerStore, name: str, result: PullResult, timeout: float):
        self.store = store
        self.repo = store.repo
        self.name = name
        self.result = result
        self.timeout = timeout
        self.msg = f"ledger: pull {name}"
        self.local = local_refs(self.repo, exclude_origin=None)

    @contextlib.contextmanager
    def _locked(self, ref: str) -> Iterator[None]:
        if ref.startswith(SESSION_REF_PREFIX):
            with self.store.session_lock(ref[len(SESSION_REF_PREFIX) :], self.timeout):
                yield
        else:
            yield

    def _tip(self, ref: str) -> bytes | None:
        found = self.repo.references.get(ref)
        return ref_target(found) if found is not None else None

    def _swap(self, ref: str, new: bytes, expected: bytes | None) -> bool:
        if ref.startswith(SESSION_REF_PREFIX):
            sid = ref[len(SESSION_REF_PREFIX) :]
            return self.store.compare_and_swap(sid, new, expected, self.msg)
        return _cas_ref(self.repo, ref, new, expected, self.msg)

    def take(self, ref: str, theirs: bytes) -> None:
        """Bring one incoming ref into the ledger without moving any ref backwards."""
        result = self.result
        if self.local.get(ref) == theirs:
            # Already here; a writer can only have moved it forward since. No lock needed.
            result.up_to_date += 1
            return
        try:
            with self._locked(ref):
                mine = self._tip(ref)
                if mine == theirs:
                    result.up_to_date += 1
                    return
                if mine is None or descends(self.repo, theirs, mine):
                    if not self._swap(ref, theirs, mine):
                        result.skipped[ref] = "moved by a local writer during the pull"
                    elif mine is None:
                        result.created.append(ref)
                    else:
                        result.fast_forwarded.append(ref)
                    return
                if descends(self.repo, mine, theirs):
                    result.local_ahead.append(ref)
                    return
            self._keep_copy(ref, theirs)
        except LockTimeoutError:
            result.skipped[ref] = "a local writer holds the session; pull again later"

    def _keep_copy(self, ref: str, theirs: bytes) -> None:
        prefix = copy_prefix(ref, self.name)
        target = None
        for name, oid in self.local.items():
            if name.startswith(prefix) and (oid == theirs or descends(self.repo, theirs, oid)):
                target = name
                break
        target = target or copy_name(ref, self.name, theirs)
        self.result.diverged[ref] = target
        with self._locked(target):
            mine = self._tip(target)
            if mine == theirs:
                return
            if mine is not None and not descends(self.repo, theirs, mine):
                self.result.skipped[ref] = f"{target} exists with other history"
                return
            if self._swap(target, theirs, mine):
                self.local[target] = theirs
            else:
                self.result.skipped[ref] = f"{target} moved during the pull"


class _RefMoved(Exception):
    pass


def _cas_ref(
    repo: pygit2.Repository, ref: str, new: bytes, expected: bytes | None, msg: str
) -> bool:
    """Compare-and-swap any ref inside a libgit2 transaction (refs without a session lock).

    Session refs go through :meth:`LedgerStore.compare_and_swap` instead. That one names
    only ``refs/heads/sessions/<id>`` and, trusting the session lock its caller holds,
    removes a ref's stale ``.lock`` file; ``refs/ledger/*`` has no such lock to trust.
    """
    try:
        with repo.transaction() as tx:
            tx.lock_ref(ref)
            current = repo.references.get(ref)
            now = ref_target(current) if current is not None else None
            if now != expected:
                raise _RefMoved
            tx.set_target(ref, pygit2.Oid(raw=new), None, msg)
    except _RefMoved:
        return False
    except pygit2.GitError as exc:
        raise SyncError(f"cannot update {ref}: {exc}") from exc
    return True
