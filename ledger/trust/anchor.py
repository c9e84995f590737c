"""verify's check against the trust anchor kept outside the ledger folder.

Everything inside the ledger folder (checkpoint chain, ``ledger-state/``, the ledger's git
config) can be rewritten by whoever can write the folder. So the last verified state is
also kept in the user's state directory (:func:`ledger._state.outside_dir`): the newest
checkpoint's sequence and id, every session's tip and entry count, and whether signatures
were being checked. ``checkpoint`` and a clean ``verify`` move it forward, never back; verify
fails, one line each, when the ledger has gone behind it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pygit2

from ledger.errors import LedgerError
from ledger.trust.anchor_store import anchor_path, read_anchor, save_anchor
from ledger.trust.checkpoint import Checkpoint, archived_tips
from ledger.trust.checks import Walk
from ledger.trust.findings import Findings, branch


def check_anchor(
    repo: pygit2.Repository,
    ledger: Path,
    chain: list[Checkpoint],
    sessions: Mapping[str, bytes],
    walks: Mapping[str, Walk],
    signing: bool,
    out: Findings,
) -> None:
    """Fail verification where the ledger has gone behind its outside anchor."""
    anchor = read_anchor(ledger)
    if anchor is None:
        return
    where = str(anchor_path(ledger))
    _check_chain_anchor(anchor, chain, out)
    if anchor.get("signing") and not signing:
        out.problem(
            "anchor-signing-off", where,
            "signatures were checked when this ledger was last verified, but no allowed "
            "signers are configured now (ledger.allowedSigners was removed)",
        )
    archived: dict[str, tuple[str, str]] | None = None
    retired = {sid for c in chain for sid in c.retired}
    for sid, mark in sorted(anchor["sessions"].items()):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            tip, entries = str(mark["tip"]), int(mark["entries"])
            if sid not in sessions:
                archived = archived_tips(ledger) if archived is None else archived
                if sid not in archived and sid not in retired:
                    out.problem("anchor-session-missing", branch(sid),
                                f"verified before with {entries} entries at {tip[:12]} "
                                f"(anchor {where}), and gone now")
                continue
            count = walks[sid].counts.get(tip)
            if count is None:
                out.problem("anchor-session-rewound", branch(sid),
                            f"tip {sessions[sid].hex()[:12]} does not descend from {tip[:12]} "
                            f"verified before (anchor {where}): entries were erased")
            elif count != entries:
                out.problem("anchor-count", branch(sid),
                            f"verified before with {entries} entries up to {tip[:12]}; it now "
                            f"holds {count} up to it (anchor {where})")


def _check_chain_anchor(anchor: Mapping[str, Any], chain: list[Checkpoint], out: Findings) -> None:
    sequence = int(anchor.get("sequence") or 0)
    if not sequence:
        return
    head = chain[0].sequence if chain else 0
    same = [c for c in chain if c.sequence == sequence]
    if head < sequence:
        out.problem("anchor-rollback", "refs/ledger/checkpoints",
                    f"the chain ends at #{head}, behind checkpoint #{sequence} verified before "
                    "(outside anchor): checkpoints were deleted or rolled back")
    elif same and same[0].id != anchor.get("checkpoint"):
        out.problem("anchor-chain-replaced", same[0].label(),
                    f"is not checkpoint #{sequence} ({str(anchor.get('checkpoint'))[:12]}) "
                    "verified before (outside anchor): the chain was replaced")


def record_verified(
    repo: pygit2.Repository,
    ledger: Path,
    chain: list[Checkpoint],
    sessions: Mapping[str, bytes],
    walks: Mapping[str, Walk],
    signing: bool,
    out: Findings,
) -> None:
    """After a clean verify: move the outside anchor to what was just verified."""
    state = {sid: (raw.hex(), walks[sid].total) for sid, raw in sessions.items()}
    head = chain[0] if chain else None
    try:
        save_anchor(repo, ledger, head.sequence if head else 0, head.id if head else None,
                    state, signing=signing, archived=lambda: archived_tips(ledger))
    except (OSError, LedgerError) as exc:
        out.note("anchor-not-saved", str(anchor_path(ledger)), f"cannot write it: {exc}")
