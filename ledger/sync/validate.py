"""What a pull checks before a fetched ref becomes one of the ledger's own.

A remote is not trusted: a session ref it serves must lead to well-formed entry commits of
that session, and a checkpoint chain must extend ours with links that are well-formed,
consistent with what this ledger knows, and signed when signing is configured. Each check
returns None to adopt, or one line saying why not.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pygit2

from ledger._graph import is_observation
from ledger._layout import ENTRY_FILE, sessions_held
from ledger.entry import T_SESSION, Entry, canonical_json, parse_trailers
from ledger.errors import CheckpointError, LedgerError
from ledger.trust.checkpoint import Checkpoint, count_entries, parse_checkpoint
from ledger.trust.signing import allowed_signers, check_signature

MAX_NEW_LINKS = 100_000
"""A pull refuses a checkpoint chain with more new links than this (a runaway or a bomb)."""


def refuse_session(
    repo: pygit2.Repository, sid: str, theirs: bytes, mine: bytes | None
) -> str | None:
    """Why the remote's tip of session ``sid`` must not be adopted, or None.

    Every commit the remote adds (those ``mine`` does not reach) must be a commit with at
    most one parent holding a canonical entry of ``sid``, or an observation of ``sid``.
    """
    try:
        tip = repo[pygit2.Oid(raw=theirs)]
    except (KeyError, ValueError, pygit2.GitError):
        return "the remote's tip was not received"
    if not isinstance(tip, pygit2.Commit):
        return f"the remote's tip is a {tip.type_str}, not an entry commit"
    walker = repo.walk(tip.id, pygit2.enums.SortMode.TOPOLOGICAL)
    if mine is not None:
        with contextlib.suppress(KeyError, ValueError, pygit2.GitError):
            walker.hide(pygit2.Oid(raw=mine))
    try:
        for commit in walker:
            why = _refuse_commit(commit, sid)
            if why is not None:
                return f"commit {str(commit.id)[:12]}: {why}"
    except (KeyError, ValueError, pygit2.GitError) as exc:
        return f"its history cannot be read: {exc}"
    return None


def _refuse_commit(commit: pygit2.Commit, sid: str) -> str | None:
    if len(commit.parent_ids) > 1:
        return "a merge commit inside a session"
    if is_observation(commit):
        found = parse_trailers(commit.message).get(T_SESSION)
        return None if found in sessions_held(sid) else f"an observation of session {found!r}"
    try:
        blob = commit.tree[ENTRY_FILE]
    except KeyError:
        return f"no {ENTRY_FILE} in its tree"
    if not isinstance(blob, pygit2.Blob):
        return f"{ENTRY_FILE} is not a file"
    raw = bytes(blob.data)
    try:
        entry = Entry.from_json(str(commit.id), raw)
    except LedgerError as exc:
        return f"malformed entry: {exc}"
    if canonical_json(entry.to_json_dict()) != raw:
        return f"{ENTRY_FILE} is not in canonical form"
    if entry.session_id not in sessions_held(sid):
        return f"an entry of session {entry.session_id!r}"
    return None


def refuse_checkpoints(
    repo: pygit2.Repository,
    ledger: Path,
    theirs: bytes,
    mine: bytes | None,
    tips_after: dict[str, bytes],
) -> str | None:
    """Why the remote's checkpoint chain must not replace ours, or None.

    ``tips_after`` are the session tips this ledger will hold once the pull is done: every
    session a new link records must be there, at or after the link's tip, with the count it
    says. Links must follow one another (sequence, previous id, counts never shrinking,
    tips only moving forward) and, with ``ledger.allowedSigners`` set, carry a good signature.
    """
    mine_hex = mine.hex() if mine is not None else None
    new: list[str] = []
    oid: str | None = theirs.hex()
    while oid is not None and oid != mine_hex:
        new.append(oid)
        if len(new) > MAX_NEW_LINKS:
            return f"more than {MAX_NEW_LINKS} new checkpoints"
        try:
            commit = repo[oid]
        except (KeyError, ValueError, pygit2.GitError):
            return f"checkpoint {oid[:12]} was not received"
        if not isinstance(commit, pygit2.Commit):
            return f"checkpoint {oid[:12]} is a {commit.type_str}, not a commit"
        oid = str(commit.parent_ids[0]) if commit.parent_ids else None
    if mine_hex is not None and oid != mine_hex:
        return "it does not extend this ledger's chain"
    try:
        older = parse_checkpoint(repo, mine_hex) if mine_hex is not None else None
        links = [parse_checkpoint(repo, cid) for cid in reversed(new)]
    except CheckpointError as exc:
        return f"a malformed checkpoint: {exc}"
    allowed = allowed_signers(repo, ledger)
    for link in links:
        why = _refuse_link(repo, link, older, tips_after, allowed)
        if why is not None:
            return f"{link.label()}: {why}"
        older = link
    return None


def _refuse_link(
    repo: pygit2.Repository,
    link: Checkpoint,
    older: Checkpoint | None,
    tips_after: dict[str, bytes],
    allowed: Path | None,
) -> str | None:
    if older is None:
        if link.sequence != 1 or link.previous is not None or link.parents:
            return "the first checkpoint is not #1"
    elif (
        link.previous != older.id
        or link.parents != (older.id,)
        or link.sequence != older.sequence + 1
    ):
        return f"does not follow {older.label()}"
    elif link.timestamp < older.timestamp:
        return f"is older than {older.label()}"
    if allowed is not None:
        if link.signature is None:
            return "not signed, and ledger.allowedSigners is set"
        check = check_signature(allowed, link.payload, link.signature)
        if check.problem is not None:
            return f"bad signature: {check.detail}"
    for sid, mark in sorted(link.sessions.items()):
        why = _refuse_mark(repo, sid, mark.tip, mark.entries, older, tips_after)
        if why is not None:
            return f"session {sid!r}: {why}"
    if older is not None:
        for sid in older.sessions:
            if sid not in link.sessions and sid not in link.retired:
                return f"session {sid!r} dropped without being retired"
    return None


def _refuse_mark(
    repo: pygit2.Repository,
    sid: str,
    tip: str,
    entries: int,
    older: Checkpoint | None,
    tips_after: dict[str, bytes],
) -> str | None:
    after = tips_after.get(sid)
    if after is None:
        return "no such session here after the pull"
    if not _reaches(repo, after.hex(), tip):
        return f"tip {tip[:12]} is not in the session's history"
    before = older.sessions.get(sid) if older is not None else None
    if before is not None:
        if entries < before.entries:
            return f"count shrank from {before.entries} to {entries}"
        if not _reaches(repo, tip, before.tip):
            return f"tip {tip[:12]} does not descend from {before.tip[:12]}"
    try:
        actual = count_entries(repo, tip)
    except (CheckpointError, KeyError, ValueError, pygit2.GitError) as exc:
        return f"cannot count its entries: {exc}"
    if actual != entries:
        return f"records {entries} entries, the history holds {actual}"
    return None


def _reaches(repo: pygit2.Repository, tip: str, ancestor: str) -> bool:
    if tip == ancestor:
        return True
    try:
        return bool(repo.descendant_of(pygit2.Oid(hex=tip), pygit2.Oid(hex=ancestor)))
    except (KeyError, ValueError, pygit2.GitError):
        return False
