"""Checkpoints: a chain of commits on ``refs/ledger/checkpoints`` recording every session's tip.

Each checkpoint holds ``checkpoint.json`` (sequence, previous checkpoint, time, and each
session's tip and entry count) and, when a key is configured, ``checkpoint.sig``: an SSH
signature of those exact bytes in the ``git-ledger`` namespace, made by ``ssh-keygen -Y``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygit2

from ledger._fs import flock
from ledger._graph import is_observation
from ledger._layout import (
    ARCHIVE_DIR,
    CHECKPOINT_REF,
    LOCK_FOLDER,
    SESSION_REF_PREFIX,
)
from ledger._store import LedgerStore
from ledger.entry import (
    canonical_json,
    commit_message,
    parse_timestamp,
)
from ledger.errors import CheckpointError, LedgerError, SigningError, StorageError
from ledger.lifecycle.reflogs import seal as reflog_seal
from ledger.location import resolve_ledger_dir
from ledger.trust.accepted import accept_checkpoint, accepted_checkpoint
from ledger.trust.anchor_store import save_anchor
from ledger.trust.signing import CFG_SIGNING_KEY, allowed_signers, sign_payload, signing_key

CHECKPOINT_FILE = "checkpoint.json"
SIGNATURE_FILE = "checkpoint.sig"
FORMAT_VERSION = 1
T_CHECKPOINT = "Ledger-Checkpoint"
_LOCK_NAME = ".checkpoints.lock"  # session ids never start with "."


@dataclasses.dataclass(frozen=True)
class SessionMark:
    """One session as a checkpoint saw it: its tip commit and how many entries it held."""

    tip: str
    entries: int


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One checkpoint: its commit id, place in the chain, and the sessions it recorded."""

    id: str
    sequence: int
    timestamp: dt.datetime
    previous: str | None
    sessions: dict[str, SessionMark]
    retired: dict[str, dict[str, Any]]
    payload: bytes
    signature: bytes | None
    parents: tuple[str, ...] = ()

    @property
    def signed(self) -> bool:
        """True when the checkpoint carries a signature (not yet checked)."""
        return self.signature is not None

    @property
    def total_entries(self) -> int:
        """Entries in all sessions the checkpoint recorded."""
        return sum(m.entries for m in self.sessions.values())

    def label(self) -> str:
        """``checkpoint #3 (1a2b3c4d5e6f)``."""
        return f"checkpoint #{self.sequence} ({self.id[:12]})"

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint as JSON-ready data."""
        return {
            "id": self.id,
            "sequence": self.sequence,
            "timestamp": self.timestamp.isoformat(),
            "previous": self.previous,
            "signed": self.signed,
            "sessions": {
                k: {"tip": m.tip, "entries": m.entries} for k, m in sorted(self.sessions.items())
            },
            "retired": self.retired,
            "entries": self.total_entries,
        }


# -- entry counting -------------------------------------------------------------------------
def count_entries(repo: pygit2.Repository, tip: str, stop: str | None = None) -> int:
    """Entry commits from ``tip`` back along first parents, excluding ``stop`` and older.

    Raises CheckpointError when ``stop`` is not on that line.
    """
    count = 0
    # Not _graph.first_parents: that walk ends quietly at a non-commit, which must raise here.
    oid: pygit2.Oid | None = pygit2.Oid(hex=tip)
    while oid is not None:
        if stop is not None and str(oid) == stop:
            return count
        commit = repo[oid]
        if not isinstance(commit, pygit2.Commit):
            raise CheckpointError(f"object {oid} in a session is not a commit")
        if not is_observation(commit):
            count += 1
        oid = commit.parent_ids[0] if commit.parent_ids else None
    if stop is not None:
        raise CheckpointError(f"commit {stop[:12]} is not an ancestor of {tip[:12]}")
    return count


# -- reading ------------------------------------------------------------------------------------
def parse_checkpoint(repo: pygit2.Repository, commit_id: str) -> Checkpoint:
    """Read one checkpoint commit; raise CheckpointError when it is malformed."""
    try:
        commit = repo[commit_id]
    except (KeyError, ValueError, pygit2.GitError) as exc:
        raise CheckpointError(f"checkpoint {commit_id[:12]} cannot be read: {exc}") from exc
    if not isinstance(commit, pygit2.Commit):
        raise CheckpointError(f"{commit_id[:12]} on {CHECKPOINT_REF} is not a commit")
    try:
        blob = commit.tree[CHECKPOINT_FILE]
        payload = bytes(blob.data)
        data = json.loads(payload)
        sessions = {
            str(k): SessionMark(str(v["tip"]), int(v["entries"]))
            for k, v in data["sessions"].items()
        }
        signature: bytes | None = None
        if SIGNATURE_FILE in commit.tree:
            signature = bytes(commit.tree[SIGNATURE_FILE].data)
        checkpoint = Checkpoint(
            id=str(commit.id),
            sequence=int(data["sequence"]),
            timestamp=parse_timestamp(data["timestamp"]),
            previous=data.get("previous"),
            sessions=sessions,
            retired=dict(data.get("retired") or {}),
            payload=payload,
            signature=signature,
            parents=tuple(str(p) for p in commit.parent_ids),
        )
    except (KeyError, ValueError, TypeError, AttributeError, pygit2.GitError) as exc:
        raise CheckpointError(f"checkpoint {commit_id[:12]} is malformed: {exc}") from exc
    if data.get("checkpoint_format") != FORMAT_VERSION or canonical_json(data) != payload:
        raise CheckpointError(f"checkpoint {commit_id[:12]} is malformed: not canonical JSON")
    return checkpoint


def chain_ids(repo: pygit2.Repository, tip: str | None = None) -> list[str]:
    """The checkpoint commit ids, newest first (first parents of the checkpoint ref).

    ``tip`` starts the walk there instead of at the ref (a snapshot's reading of it).
    """
    oid: str | None = tip
    if oid is None:
        ref = repo.references.get(CHECKPOINT_REF)
        if ref is None:
            return []
        oid = str(ref.resolve().target)
    out: list[str] = []
    # Not _graph.first_parents: an unreadable id is kept, so parsing it reports the damage.
    while oid is not None:
        out.append(oid)
        try:
            commit = repo[oid]
        except (KeyError, ValueError, pygit2.GitError):
            break
        if not isinstance(commit, pygit2.Commit) or not commit.parent_ids:
            break
        oid = str(commit.parent_ids[0])
    return out


def list_checkpoints(ledger_dir: str | os.PathLike[str] | None = None) -> list[Checkpoint]:
    """Every checkpoint of a ledger, newest first."""
    store = LedgerStore(resolve_ledger_dir(ledger_dir))
    repo = store.repo
    return [parse_checkpoint(repo, c) for c in chain_ids(repo)]


# -- archives (sessions retired by maintenance) ------------------------------------------------
def archived_tips(ledger: Path) -> dict[str, tuple[str, str]]:
    """Session id -> (tip, bundle file name) for sessions found in ``archive/*.bundle``."""
    out: dict[str, tuple[str, str]] = {}
    folder = ledger / ARCHIVE_DIR
    if not folder.is_dir():
        return out
    for bundle in sorted(folder.glob("*.bundle")):
        with contextlib.suppress(OSError), open(bundle, "rb") as fh:
            if not fh.readline().startswith(b"# v"):
                continue
            for raw in fh:
                line = raw.rstrip(b"\n")
                if not line:
                    break
                if line[:1] in (b"-", b"@"):
                    continue
                oid, _, name = line.decode("utf-8", "replace").partition(" ")
                if name.startswith(SESSION_REF_PREFIX):
                    out[name[len(SESSION_REF_PREFIX) :]] = (oid, bundle.name)
    return out


# -- writing -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _checkpoint_lock(ledger: Path) -> Iterator[None]:
    # Checkpoints are short: wait for the other writer as long as it takes.
    with flock(ledger / LOCK_FOLDER, _LOCK_NAME, what="lock the checkpoint chain", timeout=None):
        yield


def _session_marks(
    repo: pygit2.Repository, ledger: Path, sessions: dict[str, bytes], prev: Checkpoint | None
) -> tuple[dict[str, SessionMark], dict[str, dict[str, Any]]]:
    marks: dict[str, SessionMark] = {}
    for sid, raw in sorted(sessions.items()):
        tip = raw.hex()
        old = prev.sessions.get(sid) if prev else None
        if old is None:
            marks[sid] = SessionMark(tip, count_entries(repo, tip))
        elif old.tip == tip:
            marks[sid] = old
        else:
            try:
                added = count_entries(repo, tip, old.tip)
            except (CheckpointError, KeyError, pygit2.GitError) as exc:
                assert prev is not None
                raise CheckpointError(
                    f"session {sid} no longer descends from its tip in {prev.label()} "
                    f"({exc}); run `git ledger verify`"
                ) from None
            marks[sid] = SessionMark(tip, old.entries + added)
    retired: dict[str, dict[str, Any]] = {}
    if prev is not None:
        gone = sorted(set(prev.sessions) - set(sessions))
        archived = archived_tips(ledger) if gone else {}
        for sid in gone:
            old = prev.sessions[sid]
            found = archived.get(sid)
            if found is None or not _reaches(repo, found[0], old.tip):
                raise CheckpointError(
                    f"session {sid} recorded in {prev.label()} is gone and not archived "
                    f"under {ARCHIVE_DIR}/; run `git ledger verify`"
                )
            retired[sid] = {"tip": found[0], "entries": old.entries, "archive": found[1]}
    return marks, retired


def _reaches(repo: pygit2.Repository, tip: str, ancestor: str) -> bool:
    if tip == ancestor:
        return True
    try:
        return bool(repo.descendant_of(pygit2.Oid(hex=tip), pygit2.Oid(hex=ancestor)))
    except (KeyError, ValueError, pygit2.GitError):
        return False


def write_checkpoint(
    ledger_dir: str | os.PathLike[str] | None = None,
    *,
    sign: bool | None = None,
    now: dt.datetime | None = None,
) -> Checkpoint:
    """Record every session's tip and entry count as a new checkpoint and return it.

    Args:
        ledger_dir: the ledger (resolved as everywhere else).
        sign: sign with ``ledger.signingKey``; None signs exactly when a key is configured.
        now: the checkpoint's time (default: now).

    Raises:
        CheckpointError: a session no longer descends from the last checkpoint, a
            checkpointed session vanished without an archive, or the checkpoint chain is
            older than one already accepted here: verify the ledger first.
        SigningError: signing was asked for and could not be done.
    """
    ledger = resolve_ledger_dir(ledger_dir)
    store = LedgerStore(ledger)
    repo = store.repo
    key = signing_key(repo, ledger)
    if sign is None:
        sign = key is not None
    if sign and key is None:
        raise SigningError(f"no signing key configured: git config {CFG_SIGNING_KEY} PATH")
    with _checkpoint_lock(ledger):
        ids = chain_ids(repo)
        prev = parse_checkpoint(repo, ids[0]) if ids else None
        accepted = accepted_checkpoint(ledger)
        if accepted is not None and accepted["id"] not in ids:
            raise CheckpointError(
                f"the checkpoint chain no longer holds checkpoint #{accepted['sequence']} "
                f"({str(accepted['id'])[:12]}), accepted here before: it was rolled back; "
                "run `git ledger verify`"
            )
        marks, retired = _session_marks(repo, ledger, store.sessions(), prev)
        stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        if prev is not None and stamp < prev.timestamp:
            stamp = prev.timestamp
        sequence = prev.sequence + 1 if prev else 1
        data = {
            "checkpoint_format": FORMAT_VERSION,
            "sequence": sequence,
            "previous": prev.id if prev else None,
            "timestamp": stamp.isoformat(timespec="microseconds"),
            "sessions": {k: {"tip": m.tip, "entries": m.entries} for k, m in marks.items()},
            "retired": retired,
            **reflog_seal(ledger),  # the compacted reflog lines' record, sealed
        }
        payload = canonical_json(data)
        signature = sign_payload(key, payload) if sign and key is not None else None
        # Every checkpoint writer holds our flock, so a ref lock seen now is a dead one's.
        store._clear_stale_ref_lock(CHECKPOINT_REF)
        commit_id = _commit(repo, payload, signature, prev, sequence, marks, stamp)
        checkpoint = parse_checkpoint(repo, commit_id)
    accept_checkpoint(ledger, checkpoint)
    _anchor(repo, ledger, checkpoint)
    return checkpoint


def _anchor(repo: pygit2.Repository, ledger: Path, checkpoint: Checkpoint) -> None:
    """Move the outside anchor forward to this checkpoint (never back: verify says why)."""
    marks = {sid: (m.tip, m.entries) for sid, m in checkpoint.sessions.items()}
    with contextlib.suppress(OSError):
        save_anchor(repo, ledger, checkpoint.sequence, checkpoint.id, marks,
                    signing=allowed_signers(repo, ledger) is not None,
                    archived=lambda: archived_tips(ledger))


def _commit(
    repo: pygit2.Repository,
    payload: bytes,
    signature: bytes | None,
    prev: Checkpoint | None,
    sequence: int,
    marks: dict[str, SessionMark],
    stamp: dt.datetime,
) -> str:
    try:
        builder = repo.TreeBuilder()
        builder.insert(CHECKPOINT_FILE, repo.create_blob(payload), pygit2.enums.FileMode.BLOB)
        if signature is not None:
            builder.insert(SIGNATURE_FILE, repo.create_blob(signature), pygit2.enums.FileMode.BLOB)
        tree = builder.write()
        when = int(stamp.timestamp())
        ident = pygit2.Signature("git-ledger", "git-ledger@git-ledger.invalid", when, 0)
        entries = sum(m.entries for m in marks.values())
        message = commit_message(
            f"checkpoint #{sequence}: {len(marks)} sessions, {entries} entries",
            [(T_CHECKPOINT, str(sequence))],
        )
        parents = [pygit2.Oid(hex=prev.id)] if prev else []
        oid = repo.create_commit(None, ident, ident, message, tree, parents)
        expected = pygit2.Oid(hex=prev.id) if prev else None
        with repo.transaction() as tx:
            tx.lock_ref(CHECKPOINT_REF)
            current = repo.references.get(CHECKPOINT_REF)
            now = current.target if current is not None else None
            if now != expected:
                raise CheckpointError("the checkpoint ref moved during the checkpoint")
            tx.set_target(CHECKPOINT_REF, oid, None, f"ledger: checkpoint #{sequence}")
    except LedgerError:
        raise
    except (OSError, pygit2.GitError) as exc:
        raise StorageError(f"cannot write the checkpoint: {exc}") from exc
    return str(oid)
