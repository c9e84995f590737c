"""What verify checks beyond the ledger's own data: the query index and the outside anchor."""

from __future__ import annotations

from pathlib import Path

import pygit2

from ledger._layout import INDEX_FILE
from ledger._store import LedgerStore
from ledger.read.index import QueryIndex
from ledger.trust.anchor import check_anchor, record_anchor
from ledger.trust.checkpoint import Checkpoint, archived_tips
from ledger.trust.checks import Walk
from ledger.trust.findings import Findings
from ledger.trust.signing import allowed_signers


def check_index(store: LedgerStore, out: Findings) -> None:
    """Prove the query index against its checksums; a failure is a warning (it is
    disposable: the next query rebuilds it from git and no answer ever used it)."""
    why = QueryIndex(store).check()
    if why is not None:
        out.note("index-untrusted", INDEX_FILE,
                 f"{why}: not trusted, it is rebuilt from git on its next use")


def check_outside(
    repo: pygit2.Repository,
    ledger: Path,
    chain: list[Checkpoint],
    sessions: dict[str, bytes],
    walks: dict[str, Walk],
    out: Findings,
) -> None:
    """Compare the ledger with the last verified state kept in the user's state directory."""
    head = (chain[0].sequence, chain[0].id) if chain else None
    tips = {sid: (raw.hex(), walks[sid].counts) for sid, raw in sessions.items()}
    check_anchor(repo, ledger, head, {c.id for c in chain}, tips,
                 set(archived_tips(ledger)), out)


def record_verified(
    repo: pygit2.Repository,
    ledger: Path,
    chain: list[Checkpoint],
    sessions: dict[str, bytes],
    walks: dict[str, Walk],
) -> bool:
    """Move the outside record forward to what verify just found clean."""
    head = (chain[0].sequence, chain[0].id) if chain else None
    marks = {sid: (raw.hex(), walks[sid].total) for sid, raw in sessions.items()}
    signing = allowed_signers(repo, ledger) is not None or bool(chain and chain[0].signed)
    return record_anchor(repo, ledger, head, marks, signing)
