"""``git ledger verify --remote NAME``: the local ledger checked against a central's checkpoints.

Local trust anchors can all be wiped by whoever controls this machine's files. A guarded
central keeps its own checkpoint chain, which no one here can rewrite. Its chain (and, for
the sessions it recorded that are also here, its session tips) are fetched read-only into a
throwaway repository that sees the ledger's objects through git's alternates (nothing enters
the ledger, not even objects); then every session the central's newest checkpoint recorded
must still reach its tip here. A session that no longer does, or that is gone though this
ledger held its commits, had entries erased after it was pushed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pygit2

from ledger._layout import CHECKPOINT_REF, SESSION_REF_PREFIX
from ledger._store import LedgerStore
from ledger.errors import CheckpointError, SyncError
from ledger.sync.remotes import fetch_url, open_store, pick_remote, redact_url, remote_url
from ledger.sync.transport import Callbacks, anonymous_remote, fetch_refs
from ledger.trust.checkpoint import Checkpoint, archived_tips, parse_checkpoint
from ledger.trust.findings import Findings, VerifyReport, branch
from ledger.trust.signing import allowed_signers, check_signature
from ledger.trust.verify import verify_ledger

SCRATCH_PREFIX = "refs/remote/"
"""Where the central's refs go in the throwaway repository ``verify --remote`` reads them in."""


def verify_remote(
    ledger_dir: str | os.PathLike[str] | None = None,
    remote: str | None = None,
    *,
    accept: bool = True,
    interactive: bool = True,
) -> VerifyReport:
    """Verify the ledger, then check it against the newest checkpoint of ``remote``.

    Raises:
        InvalidRemoteError: no such remote.
        SyncError: the remote cannot be reached or read.
    """
    store = open_store(ledger_dir)
    repo = store.repo
    name = pick_remote(repo, remote)
    url = remote_url(repo, name)
    subject = f"{name} ({redact_url(url)})"
    heads = _heads(repo, name, fetch_url(repo, name), Callbacks(url, interactive))

    def against_remote(out: Findings) -> None:
        out.report.remote = subject
        _against(store, name, url, subject, heads, interactive, out)

    return verify_ledger(store.path, accept=accept, also=against_remote)


def _against(
    store: LedgerStore,
    name: str,
    url: str,
    subject: str,
    heads: dict[str, bytes],
    interactive: bool,
    out: Findings,
) -> None:
    """Fetch the central's chain (and our sessions' tips) into scratch refs and compare."""
    if CHECKPOINT_REF not in heads:
        out.note("remote-no-checkpoint", subject, "the central holds no checkpoint yet")
        return
    present = store.sessions()
    with tempfile.TemporaryDirectory(prefix="ledger-verify-") as tmp:
        scratch = _scratch_repo(Path(tmp), store, present)
        specs = [f"+{CHECKPOINT_REF}:{SCRATCH_PREFIX}checkpoints"]
        specs += [
            f"+{SESSION_REF_PREFIX}{sid}:{SCRATCH_PREFIX}sessions/{sid}"
            for sid in present
            if SESSION_REF_PREFIX + sid in heads
        ]
        fetch_refs(scratch, name, fetch_url(store.repo, name), Callbacks(url, interactive), specs)
        head = _remote_head(scratch, store, heads[CHECKPOINT_REF], subject, out)
        if head is not None:
            out.report.remote_checkpoint = head.id
            _check_sessions(scratch, store, head, present, subject, out)


def _scratch_repo(
    folder: Path, store: LedgerStore, present: dict[str, bytes]
) -> pygit2.Repository:
    """A throwaway repository that sees the ledger's objects (alternates) and adds its own:
    what the central sends never enters the ledger."""
    scratch = pygit2.init_repository(str(folder), bare=True)
    alternates = folder / "objects" / "info" / "alternates"
    alternates.write_text(str(store.path / "objects") + "\n", encoding="utf-8")
    scratch = pygit2.Repository(str(folder))
    for sid, tip in present.items():  # what we have, so that the central need not send it
        with contextlib.suppress(pygit2.GitError, ValueError):
            scratch.references.create(f"refs/have/{sid}", pygit2.Oid(raw=tip), force=True)
    return scratch


def _heads(repo: pygit2.Repository, name: str, url: str, cb: Callbacks) -> dict[str, bytes]:
    try:
        listed = anonymous_remote(repo, url).list_heads(callbacks=cb.connection())
    except pygit2.GitError as exc:
        raise SyncError(f"cannot reach {name} ({redact_url(url)}): {exc}") from exc
    return {h.name: bytes(h.oid.raw) for h in listed if h.name}


def _remote_head(
    repo: pygit2.Repository, store: LedgerStore, tip: bytes, subject: str, out: Findings
) -> Checkpoint | None:
    """The central's newest checkpoint, well-formed and (when signers are set) signed."""
    try:
        head = parse_checkpoint(repo, tip.hex())
    except CheckpointError as exc:
        out.problem("remote-checkpoint-malformed", subject, f"its newest checkpoint: {exc}")
        return None
    allowed = allowed_signers(repo, store.path)
    if allowed is not None:
        if head.signature is None:
            out.problem("remote-checkpoint-unsigned", subject,
                        f"its newest {head.label()} is not signed")
            return None
        result = check_signature(allowed, head.payload, head.signature)
        if result.problem is not None:
            out.problem("remote-signature-invalid", subject, f"{head.label()}: {result.detail}")
            return None
    return head


def _held(repo: pygit2.Repository, tip: str) -> bool:
    """True when the ledger itself (not the scratch copy) holds this commit."""
    with contextlib.suppress(KeyError, ValueError):
        return repo.get(pygit2.Oid(hex=tip)) is not None
    return False


def _check_sessions(
    repo: pygit2.Repository,
    store: LedgerStore,
    head: Checkpoint,
    present: dict[str, bytes],
    subject: str,
    out: Findings,
) -> None:
    archived: dict[str, tuple[str, str]] | None = None
    not_here = 0
    for sid, mark in sorted(head.sessions.items()):
        where = f"the central {subject} recorded {mark.entries} entries at {mark.tip[:12]} in " \
                f"{head.label()}"
        if sid not in present:
            archived = archived_tips(store.path) if archived is None else archived
            if sid in archived:
                continue
            if _held(store.repo, mark.tip):
                out.problem("remote-session-missing", branch(sid),
                            f"{where}; this ledger held those commits and the session is gone")
            else:
                not_here += 1
            continue
        tip = present[sid].hex()
        if tip == mark.tip:
            continue
        try:
            ok = repo.descendant_of(pygit2.Oid(hex=tip), pygit2.Oid(hex=mark.tip))
        except (KeyError, ValueError, pygit2.GitError):
            ok = False
        if not ok:
            out.problem("remote-session-rewound", branch(sid),
                        f"tip {tip[:12]} does not descend from it ({where}): entries were "
                        "erased or rewritten after the push (or written elsewhere and not "
                        "pulled: git ledger pull)")
    if not_here:
        out.note("remote-not-here", subject,
                 f"{not_here} sessions of its newest checkpoint were never in this ledger "
                 "(other machines'): git ledger pull to check them")
