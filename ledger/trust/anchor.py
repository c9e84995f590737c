"""The last verified state, kept outside the ledger folder as well as inside it.

Everything inside the ledger folder can be rewritten by whoever can write the ledger: the
checkpoint chain, ``ledger-state/`` and the ledger's own git config. So ``checkpoint`` and a
clean ``verify`` also record, under the user's state directory
(:func:`ledger._statedir.state_dir`), the newest checkpoint's sequence and id, each session's
tip and entry count, and whether signing was required. ``verify`` compares the ledger with
it: a sequence gone back, a count that shrank, a tip that no longer descends from the one
recorded, or signing required outside but switched off inside, each fails verification
with one line. The record only moves forward.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pygit2

from ledger._statedir import ANCHOR_FILE, state_dir, write_private
from ledger.trust.findings import Findings, branch
from ledger.trust.signing import CFG_ALLOWED_SIGNERS, allowed_signers

Marks = dict[str, tuple[str, int]]
"""Session -> (tip, entries up to and including it)."""


def anchor_path(ledger: Path) -> Path:
    return state_dir(ledger) / ANCHOR_FILE


def load_anchor(ledger: Path) -> dict[str, Any] | None:
    """The recorded state, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(anchor_path(ledger).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), dict):
        return None
    return data


def _descends(repo: pygit2.Repository, tip: str, old: str) -> bool:
    if tip == old:
        return True
    try:
        return bool(repo.descendant_of(tip, old))
    except (pygit2.GitError, ValueError, KeyError):
        return False


def record_anchor(
    repo: pygit2.Repository,
    ledger: Path,
    checkpoint: tuple[int, str] | None,
    marks: Marks,
    signing: bool,
) -> bool:
    """Move the record forward to this verified state; False when it could not be saved.

    Never goes back: a lower checkpoint sequence, a session whose count shrank or whose tip
    does not descend from the recorded one keep what was recorded.
    """
    old = load_anchor(ledger) or {"sequence": 0, "checkpoint": None, "sessions": {}}
    out = dict(old)
    if checkpoint is not None and checkpoint[0] >= int(old.get("sequence") or 0):
        out["sequence"], out["checkpoint"] = checkpoint
    sessions: dict[str, Any] = dict(old["sessions"])
    for sid, (tip, entries) in marks.items():
        was = sessions.get(sid)
        if isinstance(was, dict) and (
            entries < int(was.get("entries", 0)) or not _descends(repo, tip, str(was["tip"]))
        ):
            continue
        sessions[sid] = {"tip": tip, "entries": entries}
    out["sessions"] = sessions
    out["signing"] = bool(old.get("signing")) or signing
    try:
        text = json.dumps(out, sort_keys=True, indent=1) + "\n"
        write_private(anchor_path(ledger), text.encode())
    except OSError:
        return False
    return True


def signing_required(ledger: Path) -> bool:
    """True when signing was required when the ledger last verified (recorded outside)."""
    anchor = load_anchor(ledger)
    return bool(anchor and anchor.get("signing"))


def check_anchor(
    repo: pygit2.Repository,
    ledger: Path,
    head: tuple[int, str] | None,
    chain_ids: set[str],
    tips: dict[str, tuple[str, dict[str, int]]],
    archived: set[str],
    out: Findings,
) -> None:
    """Compare the ledger with the state recorded outside it; each mismatch is a problem.

    ``tips`` maps each live session to its tip and the entries up to each commit walked;
    ``archived`` names sessions retired into bundles.
    """
    anchor = load_anchor(ledger)
    if anchor is None:
        return
    where = str(anchor_path(ledger))
    sequence = int(anchor.get("sequence") or 0)
    recorded = anchor.get("checkpoint")
    now = f"#{head[0]}" if head else "no checkpoint at all"
    if sequence and (head is None or head[0] < sequence or recorded not in chain_ids):
        out.problem(
            "anchor-rollback",
            where,
            f"checkpoint #{sequence} ({str(recorded)[:12]}) was verified here before, but the "
            f"chain now ends at {now} without it: the checkpoints were rolled back or replaced",
        )
    for sid, mark in sorted(anchor["sessions"].items()):
        if not isinstance(mark, dict):
            continue
        old_tip, old_count = str(mark.get("tip")), int(mark.get("entries", 0))
        if sid not in tips:
            if sid not in archived:
                out.problem("anchor-session-missing", branch(sid),
                            f"had {old_count} entries at {old_tip[:12]} when last verified "
                            f"(recorded in {where}), and is gone now")
            continue
        tip, counts = tips[sid]
        count = counts.get(old_tip, -1)
        if not _descends(repo, tip, old_tip):
            out.problem("anchor-rewound", branch(sid),
                        f"tip {tip[:12]} does not descend from {old_tip[:12]}, verified before "
                        f"(recorded in {where}): entries were removed or rewritten")
        elif 0 <= count < old_count:
            out.problem("anchor-count", branch(sid),
                        f"holds {count} entries up to {old_tip[:12]}; {old_count} were verified "
                        f"there before (recorded in {where})")
    if anchor.get("signing") and allowed_signers(repo, ledger, user_default=True) is None:
        out.problem("anchor-signing", CFG_ALLOWED_SIGNERS,
                    f"signing was required when last verified (recorded in {where}) but no "
                    "git config (the ledger's, the user's) sets ledger.allowedSigners now")
