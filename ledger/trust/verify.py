"""verify: check that a ledger still holds exactly what its writers wrote.

Objects are re-hashed, every entry is checked against its commit, each session against every
checkpoint (and each checkpoint's signature and place in the chain), and what cannot be
vouched for (unsigned periods, entries after the last checkpoint) is said, not hidden.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pygit2

from ledger._fs import maintenance_paused
from ledger._git import fsck
from ledger._graph import is_observation
from ledger._layout import CHECKPOINT_REF, ENTRY_FILE, SESSION_REF_PREFIX
from ledger._names import agent_email
from ledger._objects import TYPE_NAMES
from ledger._store import LedgerStore
from ledger._words import plural
from ledger.entry import T_SESSION, Entry, canonical_json, entry_message, parse_trailers
from ledger.errors import CheckpointError, InvalidInputError, LedgerError
from ledger.location import resolve_ledger_dir
from ledger.trust.checkpoint import (
    Checkpoint,
    accept_checkpoint,
    accepted_checkpoint,
    allowed_signers,
    archived_tips,
    chain_ids,
    check_signature,
    parse_checkpoint,
)

_HEX40 = re.compile(r"\b[0-9a-f]{40}\b")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing verify found: a problem, or something it cannot vouch for.

    ``code`` is a stable kebab-case name (e.g. ``session-rewound``); ``subject`` names the
    entry, ref, checkpoint or object concerned.
    """

    code: str
    subject: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The finding as JSON-ready data."""
        return {"code": self.code, "subject": self.subject, "message": self.message}


@dataclasses.dataclass
class VerifyReport:
    """What ``verify_ledger`` found. ``ok`` is True only when there is no problem."""

    ledger: str
    problems: list[Finding] = dataclasses.field(default_factory=list)
    unvouched: list[Finding] = dataclasses.field(default_factory=list)
    sessions: int = 0
    entries_checked: int = 0
    objects_checked: str = ""
    checkpoints: int = 0
    signed_checkpoints: int = 0
    signed_entries: int = 0
    latest_checkpoint: str | None = None
    signers: list[str] = dataclasses.field(default_factory=list)
    since_checkpoint: str | None = None
    accepted: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (unvouched notes do not count)."""
        return not self.problems

    @property
    def verdict(self) -> str:
        """``clean`` or ``FAILED``."""
        return "clean" if self.ok else "FAILED"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "verdict": self.verdict,
            "ok": self.ok,
            "ledger": self.ledger,
            "problems": [f.to_dict() for f in self.problems],
            "unvouched": [f.to_dict() for f in self.unvouched],
            "sessions": self.sessions,
            "entries_checked": self.entries_checked,
            "objects_checked": self.objects_checked,
            "checkpoints": self.checkpoints,
            "signed_checkpoints": self.signed_checkpoints,
            "signed_entries": self.signed_entries,
            "latest_checkpoint": self.latest_checkpoint,
            "signers": self.signers,
            "since_checkpoint": self.since_checkpoint,
            "accepted": self.accepted,
        }


class _Report:
    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self._seen: set[tuple[str, str]] = set()

    def problem(self, code: str, subject: str, message: str) -> None:
        if (code, subject) not in self._seen:
            self._seen.add((code, subject))
            self.report.problems.append(Finding(code, subject, message))

    def note(self, code: str, subject: str, message: str) -> None:
        self.report.unvouched.append(Finding(code, subject, message))


@dataclasses.dataclass
class _Walk:
    """A session's first-parent line: commit id -> entries up to and including it."""

    counts: dict[str, int]
    order: list[str]  # newest first
    total: int
    new_commits: list[str]
    new_entry_commits: list[str]
    new_entries: int


def _ref(session: str) -> str:
    return SESSION_REF_PREFIX + session


def verify_ledger(
    ledger_dir: str | os.PathLike[str] | None = None,
    *,
    since_checkpoint: str | None = None,
    accept: bool = True,
) -> VerifyReport:
    """Verify a ledger and return the report (it never raises for what it finds).

    Args:
        ledger_dir: the ledger (resolved as everywhere else).
        since_checkpoint: check only what was added after this checkpoint (an id or a
            unique prefix): entries newer than its tips, their objects, later checkpoints.
        accept: when the ledger verifies clean, remember its newest checkpoint here, so a
            later roll-back to an older checkpoint is caught.

    Raises:
        LedgerNotFoundError: there is no ledger.
        InvalidInputError: ``since_checkpoint`` names no checkpoint of this ledger.
    """
    ledger = resolve_ledger_dir(ledger_dir)
    store = LedgerStore(ledger)
    repo = store.repo
    out = _Report(VerifyReport(ledger=str(ledger)))
    report = out.report

    _check_refs(repo, ledger, out)
    chain = _read_chain(repo, out)
    report.checkpoints = len(chain)
    report.signed_checkpoints = sum(1 for c in chain if c.signed)
    report.latest_checkpoint = chain[0].id if chain else None
    scope = chain
    base: Checkpoint | None = None
    if since_checkpoint is not None:
        base = _find(chain, since_checkpoint)
        scope = chain[: chain.index(base) + 1]
        report.since_checkpoint = base.id
    _check_chain(chain, out)
    _check_signatures(repo, ledger, scope, base is not None, out)
    _check_rollback(ledger, chain, out)

    sessions = store.sessions()
    report.sessions = len(sessions)
    walks: dict[str, _Walk] = {}
    allowed = allowed_signers(repo, ledger)
    for sid, raw in sorted(sessions.items()):
        stop = base.sessions.get(sid) if base is not None else None
        walks[sid] = _walk_session(
            repo, sid, raw.hex(), stop.tip if stop else None, stop.entries if stop else 0, out
        )
        _check_entry_signatures(repo, sid, walks[sid], allowed, out)
    if report.signed_entries and allowed is None:
        out.note(
            "unsigned",
            "entries",
            f"{report.signed_entries} signed entries not checked: set git config "
            "ledger.allowedSigners FILE",
        )
    report.entries_checked = sum(w.new_entries for w in walks.values())
    _check_against_checkpoints(repo, ledger, scope, sessions, walks, out)
    _check_objects(repo, ledger, base, walks, out)
    _note_unvouched(chain, sessions, walks, out)

    if report.ok and accept and chain:
        try:
            accept_checkpoint(ledger, chain[0])
            report.accepted = chain[0].id
        except LedgerError as exc:
            out.note("state-not-saved", str(ledger), str(exc))
    return report


# -- refs -----------------------------------------------------------------------------------
def _check_refs(repo: pygit2.Repository, ledger: Path, out: _Report) -> None:
    for name in repo.references:
        if name.startswith("refs/replace/"):
            out.problem(
                "replace-ref",
                name,
                "a replace ref makes git show another object in place of the hashed one",
            )
    grafts = ledger / "info" / "grafts"
    if grafts.exists():
        out.problem("grafts", "info/grafts", "a grafts file rewrites commit parents for git")
    if (ledger / "shallow").exists():
        out.problem("shallow", "shallow", "a shallow file cuts history off at given commits")


# -- checkpoint chain -----------------------------------------------------------------------
def _read_chain(repo: pygit2.Repository, out: _Report) -> list[Checkpoint]:
    chain: list[Checkpoint] = []
    for cid in chain_ids(repo):
        try:
            chain.append(parse_checkpoint(repo, cid))
        except CheckpointError as exc:
            out.problem("checkpoint-malformed", f"checkpoint {cid[:12]}", str(exc))
    return chain


def _find(chain: list[Checkpoint], text: str) -> Checkpoint:
    key = text.strip().lower()
    if key.startswith("#") and key[1:].isdigit():
        found = [c for c in chain if c.sequence == int(key[1:])]
    else:
        found = [c for c in chain if len(key) >= 7 and c.id.startswith(key)]
    if len(found) != 1:
        raise InvalidInputError(f"{text!r} names no single checkpoint of this ledger")
    return found[0]


def _check_chain(chain: list[Checkpoint], out: _Report) -> None:
    for i, newer in enumerate(chain):
        older = chain[i + 1] if i + 1 < len(chain) else None
        if older is None:
            if newer.sequence != 1 or newer.previous is not None or newer.parents:
                out.problem(
                    "checkpoint-chain",
                    newer.label(),
                    "the oldest checkpoint is not #1 or names a previous one: the chain was cut",
                )
            continue
        if (
            newer.previous != older.id
            or newer.parents != (older.id,)
            or newer.sequence != older.sequence + 1
        ):
            out.problem(
                "checkpoint-chain",
                newer.label(),
                f"does not follow {older.label()} (sequence or previous-checkpoint mismatch)",
            )
        if newer.timestamp < older.timestamp:
            out.problem("checkpoint-chain", newer.label(), f"is older than {older.label()}")
        for sid, mark in older.sessions.items():
            later = newer.sessions.get(sid)
            if later is None:
                if sid not in newer.retired:
                    out.problem(
                        "session-missing",
                        _ref(sid),
                        f"recorded in {older.label()}, dropped from {newer.label()} "
                        "without being retired to an archive",
                    )
            elif later.entries < mark.entries:
                out.problem(
                    "count-shrank",
                    _ref(sid),
                    f"{newer.label()} records {later.entries} entries, fewer than the "
                    f"{mark.entries} of {older.label()}",
                )


def _check_signatures(
    repo: pygit2.Repository, ledger: Path, scope: list[Checkpoint], partial: bool, out: _Report
) -> None:
    if not scope:
        return
    allowed = allowed_signers(repo, ledger)
    report = out.report
    if allowed is None:
        signed = sum(1 for c in scope if c.signed)
        out.note(
            "unsigned",
            CHECKPOINT_REF,
            f"signatures not checked ({signed} of {len(scope)} checkpoints signed): "
            "set git config ledger.allowedSigners FILE",
        )
        return
    seen_signed = False
    unsigned_run: list[Checkpoint] = []
    for cp in reversed(scope):  # oldest first
        if cp.signature is None:
            if seen_signed:
                out.problem(
                    "checkpoint-unsigned",
                    cp.label(),
                    "unsigned checkpoint after signed ones: forged, or signing was turned off",
                )
            else:
                unsigned_run.append(cp)
            continue
        seen_signed = True
        result = check_signature(allowed, cp.payload, cp.signature)
        if result.problem is None:
            if result.principal and result.principal not in report.signers:
                report.signers.append(result.principal)
            continue
        code = {
            "unknown-key": "signature-unknown-key",
            "wrong-namespace": "signature-namespace",
        }.get(result.problem, "signature-invalid")
        out.problem(code, cp.label(), result.detail)
    if scope[0].signature is None:
        out.problem(
            "checkpoint-unsigned",
            scope[0].label(),
            "the newest checkpoint is not signed although ledger.allowedSigners is set",
        )
    if unsigned_run and unsigned_run[-1] is not scope[0]:
        first, last = unsigned_run[0], unsigned_run[-1]
        span = (
            f"checkpoints #{first.sequence}-#{last.sequence}"
            if first is not last
            else f"checkpoint #{first.sequence}"
        )
        out.note(
            "unsigned-period",
            span,
            "written before signing began: only as trustworthy as the ledger's permissions"
            + (" (within the range checked)" if partial else ""),
        )


def _check_rollback(ledger: Path, chain: list[Checkpoint], out: _Report) -> None:
    accepted = accepted_checkpoint(ledger)
    if accepted is None:
        return
    ids = {c.id for c in chain}
    head = chain[0].label() if chain else "no checkpoint at all"
    if str(accepted["id"]) not in ids:
        out.problem(
            "checkpoint-rollback",
            f"checkpoint #{accepted['sequence']} ({str(accepted['id'])[:12]})",
            f"accepted here before, but the chain now ends at {head} without it: the "
            "checkpoints were rolled back or replaced",
        )


# -- sessions and entries ----------------------------------------------------------------------
def _walk_session(
    repo: pygit2.Repository,
    sid: str,
    tip: str,
    stop: str | None,
    stop_count: int,
    out: _Report,
) -> _Walk:
    """Walk a session newest first down to ``stop``, checking each commit on the way."""
    order: list[str] = []
    is_entry: list[bool] = []
    newer_time: Entry | None = None
    oid: str | None = tip
    while oid is not None and oid != stop:
        try:
            commit = repo[oid]
        except (KeyError, ValueError, pygit2.GitError) as exc:
            out.problem("object-corrupt", f"entry {oid}", f"cannot read the commit: {exc}")
            break
        if not isinstance(commit, pygit2.Commit):
            out.problem("entry-malformed", f"entry {oid}", "a session holds a non-commit")
            break
        if len(commit.parent_ids) > 1:
            out.problem("entry-malformed", f"entry {oid}", "a merge commit inside a session")
        order.append(oid)
        if is_observation(commit):
            is_entry.append(False)
            session = parse_trailers(commit.message).get(T_SESSION)
            if session != sid:
                out.problem(
                    "entry-foreign",
                    f"entry {oid}",
                    f"observation of session {session!r} found on {_ref(sid)}",
                )
        else:
            is_entry.append(True)
            try:
                entry = _check_entry(repo, sid, commit, out)
            except (KeyError, ValueError, pygit2.GitError) as exc:
                out.problem("object-corrupt", f"entry {oid}", f"cannot read its objects: {exc}")
                entry = None
            if entry is not None:
                if newer_time is not None and entry.timestamp > newer_time.timestamp:
                    out.problem(
                        "timestamp-order",
                        f"entry {oid}",
                        f"timestamp {entry.timestamp.isoformat()} is later than that of the "
                        f"entry after it, {newer_time.id[:12]} "
                        f"({newer_time.timestamp.isoformat()})",
                    )
                newer_time = entry
        oid = str(commit.parent_ids[0]) if commit.parent_ids else None
    counts: dict[str, int] = {}
    running = stop_count
    if stop is not None:
        counts[stop] = stop_count
    for cid, entry_flag in zip(reversed(order), reversed(is_entry), strict=True):
        running += entry_flag
        counts[cid] = running
    entries = [cid for cid, flag in zip(order, is_entry, strict=True) if flag]
    return _Walk(counts, order, running, order, entries, running - stop_count)


def _check_entry_signatures(
    repo: pygit2.Repository, sid: str, walk: _Walk, allowed: Path | None, out: _Report
) -> None:
    """Check the SSH signatures of a session's entry commits (``ledger.signEntries``).

    With an allowed-signers file, every signature must be good, and once a session's
    entries are signed, a later unsigned entry is a problem.
    """
    signed_seen = False
    unsigned_before = 0
    for cid in reversed(walk.new_entry_commits):  # oldest first
        try:
            commit = repo[cid]
            if not isinstance(commit, pygit2.Commit):
                continue
            signature, payload = commit.gpg_signature
        except (KeyError, ValueError, pygit2.GitError):
            continue  # reported as unreadable by the walk
        subject = f"entry {cid}"
        if signature is None:
            unsigned_before += not signed_seen
            if signed_seen and allowed is not None:
                out.problem(
                    "entry-unsigned",
                    subject,
                    f"unsigned entry after signed ones on {_ref(sid)}: forged, or entry "
                    "signing was turned off",
                )
            continue
        signed_seen = True
        out.report.signed_entries += 1
        if allowed is None:
            continue
        result = check_signature(allowed, bytes(payload), bytes(signature))
        if result.problem is None:
            continue
        code = {
            "unknown-key": "signature-unknown-key",
            "wrong-namespace": "signature-namespace",
        }.get(result.problem, "signature-invalid")
        out.problem(code, subject, result.detail)
    if signed_seen and unsigned_before:
        out.note(
            "unsigned-period",
            _ref(sid),
            f"{unsigned_before} entries before entry signing began are not signed",
        )


def _check_entry(
    repo: pygit2.Repository, sid: str, commit: pygit2.Commit, out: _Report
) -> Entry | None:
    cid = str(commit.id)
    subject = f"entry {cid}"
    try:
        blob = commit.tree[ENTRY_FILE]
        if not isinstance(blob, pygit2.Blob):
            raise KeyError(ENTRY_FILE)
        raw = bytes(blob.data)
    except KeyError:
        out.problem("entry-malformed", subject, f"the commit has no {ENTRY_FILE}")
        return None
    except (ValueError, pygit2.GitError) as exc:
        out.problem("object-corrupt", subject, f"cannot read its tree or {ENTRY_FILE}: {exc}")
        return None
    try:
        entry = Entry.from_json(cid, raw)
    except LedgerError as exc:
        out.problem("entry-malformed", subject, str(exc))
        return None
    if canonical_json(entry.to_json_dict()) != raw:
        out.problem("entry-malformed", subject, f"{ENTRY_FILE} is not in canonical form")
    if entry.session_id != sid:
        out.problem(
            "entry-foreign",
            subject,
            f"entry of session {entry.session_id!r} found on {_ref(sid)}: the branch points "
            "at another session's history",
        )
    problems: list[str] = []
    if commit.message != entry_message(entry):
        trailers = parse_trailers(commit.message)
        wrong = [k for k, v in parse_trailers(entry_message(entry)).items() if trailers.get(k) != v]
        problems.append(
            "commit message differs from entry.json"
            + (f" (trailers {', '.join(wrong)})" if wrong else " (subject)")
        )
    when = int(entry.timestamp.timestamp())
    # Raw header lines: libgit2's parser trims some trailing punctuation off names.
    idents = _idents(repo, commit)
    for role in ("author", "committer"):
        ident = idents.get(role)
        if ident is None:
            problems.append(f"the commit has no parsable {role} line")
            continue
        name, email, stamp, tz = ident
        if stamp != when or tz != "+0000":
            problems.append(f"{role} time {stamp} {tz} is not the entry's time {when} +0000")
        if name != entry.agent_id or email != agent_email(entry.agent_id):
            problems.append(f"{role} {name} <{email}> is not the entry's agent")
    if entry.tree_path:
        problems += _check_states(repo, commit, entry)
    elif entry.file_hash_after or entry.file_hash_before:
        problems.append("file hashes without a file path")
    if problems:
        out.problem("entry-mismatch", subject, "; ".join(problems))
    return entry


_IDENT = re.compile(rb"^(author|committer) (.*) <([^<>]*)> (\d+) ([+-]\d{4})$")


def _idents(repo: pygit2.Repository, commit: pygit2.Commit) -> dict[str, tuple[str, str, int, str]]:
    _type, raw = repo.odb.read(commit.id)
    header = bytes(raw).split(b"\n\n", 1)[0]
    out: dict[str, tuple[str, str, int, str]] = {}
    for line in header.split(b"\n"):
        found = _IDENT.match(line)
        if found:
            role, name, email, stamp, tz = found.groups()
            out[role.decode()] = (
                name.decode("utf-8", "replace"),
                email.decode("utf-8", "replace"),
                int(stamp),
                tz.decode(),
            )
    return out


def _blob_at(tree: pygit2.Tree, path: str) -> tuple[str, bytes] | None:
    try:
        obj = tree[path]
    except KeyError:
        return None
    return str(obj.id), bytes(obj.data) if isinstance(obj, pygit2.Blob) else b""


def _state_matches(found: tuple[str, bytes] | None, want: str) -> bool:
    if found is None:
        return False
    oid, data = found
    # A state over the size cap is a placeholder blob naming the real blob id.
    return oid == want or (
        data.startswith(b"[git-ledger: content not stored") and want.encode() in data
    )


def _check_states(repo: pygit2.Repository, commit: pygit2.Commit, entry: Entry) -> list[str]:
    problems: list[str] = []
    path = entry.tree_path or ""
    if entry.file_hash_after is not None and not _state_matches(
        _blob_at(commit.tree, path), entry.file_hash_after
    ):
        problems.append(f"after-state {entry.file_hash_after[:12]} is not in the tree at {path}")
    if entry.file_hash_before is not None:
        parent_tree = repo[commit.parent_ids[0]].tree if commit.parent_ids else None
        if parent_tree is None or not _state_matches(
            _blob_at(parent_tree, path), entry.file_hash_before
        ):
            problems.append(
                f"before-state {entry.file_hash_before[:12]} is not in the parent's tree at {path}"
            )
    return problems


def _relation(repo: pygit2.Repository, tip: str, mark_tip: str) -> tuple[str, str]:
    """How a session's current tip relates to a checkpointed tip it does not descend from."""
    try:
        a, b = pygit2.Oid(hex=tip), pygit2.Oid(hex=mark_tip)
        if repo.descendant_of(b, a):
            return "session-rewound", "is behind"
        base = repo.merge_base(a, b)
    except (KeyError, ValueError, pygit2.GitError):
        return "session-rewritten", "does not descend from"
    if base is None:
        return "session-replaced", "shares no history with"
    return "session-rewritten", f"diverges after {str(base)[:12]} from"


def _check_against_checkpoints(
    repo: pygit2.Repository,
    ledger: Path,
    scope: list[Checkpoint],
    sessions: dict[str, bytes],
    walks: dict[str, _Walk],
    out: _Report,
) -> None:
    archived: dict[str, tuple[str, str]] | None = None
    retired_later: set[str] = set()
    for cp in scope:  # newest first
        retired_later |= set(cp.retired)
        for sid, mark in sorted(cp.sessions.items()):
            ref = _ref(sid)
            if sid not in sessions:
                if sid in retired_later:
                    continue
                if archived is None:
                    archived = archived_tips(ledger)
                found = archived.get(sid)
                if found is not None:
                    out.note(
                        "retired",
                        ref,
                        f"archived in {found[1]} after {cp.label()}: its entries are not "
                        "checked here",
                    )
                    retired_later.add(sid)
                    continue
                out.problem(
                    "session-missing",
                    ref,
                    f"recorded in {cp.label()} with {mark.entries} entries at "
                    f"{mark.tip[:12]}, and gone now",
                )
                continue
            walk = walks[sid]
            tip = sessions[sid].hex()
            count = walk.counts.get(mark.tip)
            if count is None:
                code, how = _relation(repo, tip, mark.tip)
                out.problem(
                    code,
                    ref,
                    f"tip {tip[:12]} {how} {mark.tip[:12]} recorded in {cp.label()}: "
                    "entries were removed, altered or replaced",
                )
            elif count != mark.entries:
                out.problem(
                    "count-mismatch",
                    ref,
                    f"{cp.label()} recorded {mark.entries} entries up to {mark.tip[:12]}; "
                    f"the session now holds {count} up to it",
                )


def _note_unvouched(
    chain: list[Checkpoint], sessions: dict[str, bytes], walks: dict[str, _Walk], out: _Report
) -> None:
    if not chain:
        out.note(
            "no-checkpoint",
            CHECKPOINT_REF,
            "no checkpoint yet: a rewound, deleted or rewritten session cannot be detected "
            "(run git ledger checkpoint)",
        )
        return
    head = chain[0]
    for sid in sorted(sessions):
        walk = walks[sid]
        mark = head.sessions.get(sid)
        if mark is None:
            out.note(
                "not-checkpointed", _ref(sid), f"{plural(walk.total, 'entry')}, in no checkpoint"
            )
        elif walk.total > mark.entries:
            out.note(
                "after-checkpoint",
                _ref(sid),
                f"{plural(walk.total - mark.entries, 'entry')} after {head.label()}",
            )


# -- objects --------------------------------------------------------------------------------
def _check_objects(
    repo: pygit2.Repository,
    ledger: Path,
    base: Checkpoint | None,
    walks: dict[str, _Walk],
    out: _Report,
) -> None:
    git = shutil.which("git")
    if base is None and git is not None:
        _fsck(ledger, out)
        out.report.objects_checked = "all (git fsck --strict --full)"
        return
    oids = _objects_of(repo, [c for w in walks.values() for c in w.new_commits], base)
    for oid in oids:
        _rehash(repo, oid, out)
    out.report.objects_checked = f"{len(oids)} re-hashed"
    if base is None:
        out.note("fsck-skipped", "objects", "git is not installed: only session objects re-hashed")


def _fsck(ledger: Path, out: _Report) -> None:
    with maintenance_paused(ledger):
        result = fsck(ledger)
    for line in result.findings:
        ids = _HEX40.findall(line)
        out.problem("object-corrupt", f"object {ids[0]}" if ids else "objects", line)


def _objects_of(
    repo: pygit2.Repository, commits: Iterable[str], base: Checkpoint | None
) -> list[str]:
    """The commits given and every tree and blob they reach that the base did not."""
    known: set[str] = set()
    if base is not None:
        for mark in base.sessions.values():
            try:
                _collect_tree(repo, repo[mark.tip].tree, known, None)
            except (KeyError, ValueError, pygit2.GitError):
                continue
    seen: set[str] = set()
    found: list[str] = []
    for cid in commits:
        if cid in seen:
            continue
        seen.add(cid)
        found.append(cid)
        try:
            tree = repo[cid].tree
        except (KeyError, ValueError, pygit2.GitError):
            continue
        _collect_tree(repo, tree, seen, known)
    return found + sorted(seen - set(found))


def _collect_tree(
    repo: pygit2.Repository, tree: pygit2.Tree, into: set[str], skip: set[str] | None
) -> None:
    tid = str(tree.id)
    if tid in into or (skip is not None and tid in skip):
        return
    into.add(tid)
    for item in tree:
        oid = str(item.id)
        if item.filemode == pygit2.enums.FileMode.TREE:
            try:
                sub = repo[item.id]
            except (KeyError, ValueError, pygit2.GitError):
                into.add(oid)
                continue
            if isinstance(sub, pygit2.Tree):
                _collect_tree(repo, sub, into, skip)
        elif item.filemode != pygit2.enums.FileMode.COMMIT and (skip is None or oid not in skip):
            into.add(oid)


def _rehash(repo: pygit2.Repository, oid: str, out: _Report) -> bool:
    try:
        obj_type, data = repo.odb.read(pygit2.Oid(hex=oid))
    except (KeyError, ValueError, pygit2.GitError) as exc:
        out.problem("object-corrupt", f"object {oid}", f"cannot read: {exc}")
        return False
    name = TYPE_NAMES.get(int(obj_type), b"")
    digest = hashlib.sha1(name + b" %d\0" % len(data) + bytes(data)).hexdigest()
    if digest != oid:
        out.problem("object-corrupt", f"object {oid}", f"content hashes to {digest}")
        return False
    return True
