"""verify: check that a ledger still holds exactly what its writers wrote.

Objects are re-hashed, every entry is checked against its commit, each session against every
checkpoint (and each checkpoint's signature and place in the chain), and what cannot be
vouched for (unsigned periods, entries after the last checkpoint) is said, not hidden.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pygit2

from ledger._layout import CHECKPOINT_REF
from ledger._snapshot import RefSnapshot, take_snapshot
from ledger._store import LedgerStore
from ledger._words import plural
from ledger.errors import CheckpointError, InvalidInputError, LedgerError
from ledger.location import resolve_ledger_dir
from ledger.trust.accepted import accept_checkpoint, accepted_checkpoint
from ledger.trust.anchor import check_anchor, record_verified
from ledger.trust.checkpoint import Checkpoint, archived_tips, chain_ids, parse_checkpoint
from ledger.trust.checks import Walk, check_entry_signatures, check_objects, walk_session
from ledger.trust.findings import Findings, VerifyReport, branch
from ledger.trust.index_check import check_index
from ledger.trust.reflog_check import check_reflog_compactions
from ledger.trust.signing import allowed_signers, check_signature


def verify_ledger(
    ledger_dir: str | os.PathLike[str] | None = None,
    *,
    since_checkpoint: str | None = None,
    accept: bool = True,
    also: Callable[[Findings], None] | None = None,
) -> VerifyReport:
    """Verify a ledger and return the report (it never raises for what it finds).

    Args:
        ledger_dir: the ledger (resolved as everywhere else).
        since_checkpoint: check only what was added after this checkpoint (an id or a
            unique prefix): entries newer than its tips, their objects, later checkpoints.
        accept: when the ledger verifies clean, remember its newest checkpoint here, so a
            later roll-back to an older checkpoint is caught.
        also: a further check (``verify --remote``'s), run before anything is accepted.

    Raises:
        LedgerNotFoundError: there is no ledger.
        InvalidInputError: ``since_checkpoint`` names no checkpoint of this ledger.
    """
    ledger = resolve_ledger_dir(ledger_dir)
    store = LedgerStore(ledger)
    repo = store.repo
    out = Findings(VerifyReport(ledger=str(ledger)))
    report = out.report

    snap = take_snapshot(ledger, repo)  # the refs, read once: later writes are not errors
    _check_refs(snap, ledger, out)
    chain, scope, base = _check_checkpoints(repo, ledger, snap, since_checkpoint, out)
    sessions = snap.sessions()
    report.sessions = len(sessions)
    walks = _walk_sessions(repo, ledger, sessions, base, out)
    _check_against_checkpoints(repo, ledger, scope, sessions, walks, out)
    check_objects(repo, ledger, snap, base, walks, out)
    check_reflog_compactions(repo, ledger, snap, chain, out)
    _note_unvouched(chain, sessions, walks, out)
    check_index(store, sessions, walks, out)
    if also is not None:
        also(out)
    signing = allowed_signers(repo, ledger) is not None
    if base is None:  # the outside anchor holds whole sessions: only a full verify checks it
        check_anchor(repo, ledger, chain, sessions, walks, signing, out)
        if report.ok and accept:
            record_verified(repo, ledger, chain, sessions, walks, signing, out)

    if report.ok and accept and chain:
        try:
            accept_checkpoint(ledger, chain[0])
            report.accepted = chain[0].id
        except LedgerError as exc:
            out.note("state-not-saved", str(ledger), str(exc))
    return report


def _check_checkpoints(
    repo: pygit2.Repository,
    ledger: Path,
    snap: RefSnapshot,
    since_checkpoint: str | None,
    out: Findings,
) -> tuple[list[Checkpoint], list[Checkpoint], Checkpoint | None]:
    """Check the checkpoint chain; return it, the part in scope, and the base checkpoint."""
    report = out.report
    chain = _read_chain(repo, snap.refs.get(CHECKPOINT_REF), out)
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
    return chain, scope, base


def _walk_sessions(
    repo: pygit2.Repository,
    ledger: Path,
    sessions: dict[str, bytes],
    base: Checkpoint | None,
    out: Findings,
) -> dict[str, Walk]:
    """Walk and check every session (from the base checkpoint's tips, when there is one)."""
    report = out.report
    walks: dict[str, Walk] = {}
    allowed = allowed_signers(repo, ledger)
    for sid, raw in sorted(sessions.items()):
        stop = base.sessions.get(sid) if base is not None else None
        walks[sid] = walk_session(
            repo, sid, raw.hex(), stop.tip if stop else None, stop.entries if stop else 0, out
        )
        check_entry_signatures(repo, sid, walks[sid], allowed, out)
    if report.signed_entries and allowed is None:
        out.note(
            "unsigned",
            "entries",
            f"{report.signed_entries} signed entries not checked: set git config "
            "ledger.allowedSigners FILE",
        )
    report.entries_checked = sum(w.new_entries for w in walks.values())
    return walks


# -- refs -----------------------------------------------------------------------------------
def _check_refs(snap: RefSnapshot, ledger: Path, out: Findings) -> None:
    for name in snap.refs:
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
def _read_chain(repo: pygit2.Repository, tip: str | None, out: Findings) -> list[Checkpoint]:
    chain: list[Checkpoint] = []
    for cid in chain_ids(repo, tip) if tip is not None else []:
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


def _check_chain(chain: list[Checkpoint], out: Findings) -> None:
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
                        branch(sid),
                        f"recorded in {older.label()}, dropped from {newer.label()} "
                        "without being retired to an archive",
                    )
            elif later.entries < mark.entries:
                out.problem(
                    "count-shrank",
                    branch(sid),
                    f"{newer.label()} records {later.entries} entries, fewer than the "
                    f"{mark.entries} of {older.label()}",
                )


def _check_signatures(
    repo: pygit2.Repository, ledger: Path, scope: list[Checkpoint], partial: bool, out: Findings
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


def _check_rollback(ledger: Path, chain: list[Checkpoint], out: Findings) -> None:
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


# -- sessions against checkpoints -------------------------------------------------------------


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
    walks: dict[str, Walk],
    out: Findings,
) -> None:
    archived: dict[str, tuple[str, str]] | None = None
    retired_later: set[str] = set()
    for cp in scope:  # newest first
        retired_later |= set(cp.retired)
        for sid, mark in sorted(cp.sessions.items()):
            ref = branch(sid)
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
    chain: list[Checkpoint], sessions: dict[str, bytes], walks: dict[str, Walk], out: Findings
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
                "not-checkpointed", branch(sid), f"{plural(walk.total, 'entry')}, in no checkpoint"
            )
        elif walk.total > mark.entries:
            out.note(
                "after-checkpoint",
                branch(sid),
                f"{plural(walk.total - mark.entries, 'entry')} after {head.label()}",
            )
