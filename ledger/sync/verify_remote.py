"""``verify --remote``: check the local ledger against a central's checkpoints.

Everything local that vouches for the ledger (its checkpoint chain, ``ledger-state/``, the
record under the user's state directory) can be wiped. A central that guards its refs keeps
the checkpoints pushed to it, so the newest one there still says which tip and how many
entries each session had. The central's ``refs/ledger/checkpoints`` is fetched read-only into
a scratch ref beside the pull's staging refs (nothing of ours moves, nothing is sent), read
and dropped; every session it records must still be in the local ledger with the same entries
up to the recorded tip.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pygit2

from ledger._layout import CHECKPOINT_REF, SESSION_REF_PREFIX, STAGING_PREFIX
from ledger.errors import LedgerError
from ledger.sync.remotes import fetch_url, open_store, pick_remote, redact_url, remote_url
from ledger.sync.transport import Callbacks, fetch_refs
from ledger.trust.checkpoint import Checkpoint, archived_tips, count_entries, parse_checkpoint
from ledger.trust.findings import Findings, VerifyReport, branch
from ledger.trust.verify import verify_ledger


def verify_with_remote(
    ledger_dir: str | os.PathLike[str] | None,
    remote: str,
    *,
    since_checkpoint: str | None = None,
    accept: bool = True,
) -> VerifyReport:
    """Verify the ledger, then check it against remote ``remote``'s newest checkpoint.

    Raises:
        InvalidRemoteError: no such remote.
        SyncError: the remote cannot be reached.
    """
    store = open_store(ledger_dir)
    repo = store.repo
    name = pick_remote(repo, remote)
    url = remote_url(repo, name)
    scratch = f"{STAGING_PREFIX}{name}/verify-checkpoints"
    cb = Callbacks(url, interactive=False)
    fetch_refs(repo, name, fetch_url(repo, name), cb, [f"+{CHECKPOINT_REF}:{scratch}"])
    try:
        ref = repo.references.get(scratch)
        tip = str(ref.resolve().target) if ref is not None else None
        report = verify_ledger(store.path, since_checkpoint=since_checkpoint, accept=accept)
        out = Findings(report)
        where = f"{name} ({redact_url(url)})"
        if tip is None:
            out.note("remote-no-checkpoint", where, "the remote holds no checkpoint to check")
        else:
            _check(repo, store.path, tip, where, out)
    finally:
        with contextlib.suppress(KeyError, pygit2.GitError):
            repo.references.delete(scratch)
    return report


def _check(repo: pygit2.Repository, ledger: Path, tip: str, where: str, out: Findings) -> None:
    try:
        head = parse_checkpoint(repo, tip)
    except LedgerError as exc:
        out.problem("remote-checkpoint-invalid", where, f"its newest checkpoint: {exc}")
        return
    sessions = {
        r.name[len(SESSION_REF_PREFIX) :]: str(r.resolve().target)
        for r in repo.references.iterator()
        if r.name.startswith(SESSION_REF_PREFIX)
    }
    archived: set[str] | None = None
    for sid, mark in sorted(head.sessions.items()):
        local = sessions.get(sid)
        if local is None:
            if archived is None:
                archived = set(archived_tips(ledger))
            if sid not in archived:
                out.problem("remote-session-missing", branch(sid), _said(head, where, mark.tip,
                            mark.entries) + ", and the session is gone here")
            continue
        if local != mark.tip and not _descends(repo, local, mark.tip):
            out.problem("remote-rewound", branch(sid), _said(head, where, mark.tip, mark.entries)
                        + f"; the tip here, {local[:12]}, does not descend from it")
            continue
        try:
            count = count_entries(repo, mark.tip)
        except (LedgerError, KeyError, ValueError):
            count = -1
        if count != mark.entries:
            out.problem("remote-count", branch(sid), _said(head, where, mark.tip, mark.entries)
                        + f"; here it holds {count} up to that tip")


def _said(head: Checkpoint, where: str, tip: str, entries: int) -> str:
    return f"{head.label()} on {where} records {entries} entries up to {tip[:12]}"


def _descends(repo: pygit2.Repository, tip: str, old: str) -> bool:
    try:
        return bool(repo.descendant_of(tip, old))
    except (pygit2.GitError, ValueError, KeyError):
        return False
