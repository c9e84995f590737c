"""Verify's per-session, per-entry and per-object checks.

Each walks what it checks and records what it finds; none raises for a damaged ledger.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pygit2

from ledger._fs import maintenance_paused
from ledger._graph import is_observation
from ledger._layout import ENTRY_FILE, sessions_held
from ledger._names import agent_email
from ledger._objects import TYPE_NAMES
from ledger._snapshot import RefSnapshot, snapshot_fsck
from ledger.entry import T_SESSION, Entry, canonical_json, entry_message, parse_trailers
from ledger.errors import LedgerError
from ledger.trust.checkpoint import Checkpoint
from ledger.trust.findings import Findings, branch
from ledger.trust.signing import check_signature


@dataclasses.dataclass
class Walk:
    """A session's first-parent line: commit id -> entries up to and including it."""

    counts: dict[str, int]
    order: list[str]  # newest first
    total: int
    new_commits: list[str]
    new_entry_commits: list[str]
    new_entries: int


def walk_session(
    repo: pygit2.Repository,
    sid: str,
    tip: str,
    stop: str | None,
    stop_count: int,
    out: Findings,
) -> Walk:
    """Walk a session newest first down to ``stop``, checking each commit on the way."""
    order: list[str] = []
    is_entry: list[bool] = []
    newer_time: Entry | None = None
    oid: str | None = tip
    while oid is not None and oid != stop:
        commit = _session_commit(repo, oid, out)
        if commit is None:
            break
        order.append(oid)
        if is_observation(commit):
            is_entry.append(False)
            session = parse_trailers(commit.message).get(T_SESSION)
            if session not in sessions_held(sid):
                out.problem(
                    "entry-foreign",
                    f"entry {oid}",
                    f"observation of session {session!r} found on {branch(sid)}",
                )
        else:
            is_entry.append(True)
            newer_time = _check_entry_in_order(repo, sid, commit, newer_time, out)
        oid = str(commit.parent_ids[0]) if commit.parent_ids else None
    return _tally(order, is_entry, stop, stop_count)


def _session_commit(repo: pygit2.Repository, oid: str, out: Findings) -> pygit2.Commit | None:
    """The commit ``oid`` on a session's line, or None (a problem) when it cannot be one."""
    try:
        commit = repo[oid]
    except (KeyError, ValueError, pygit2.GitError) as exc:
        out.problem("object-corrupt", f"entry {oid}", f"cannot read the commit: {exc}")
        return None
    if not isinstance(commit, pygit2.Commit):
        out.problem("entry-malformed", f"entry {oid}", "a session holds a non-commit")
        return None
    if len(commit.parent_ids) > 1:
        out.problem("entry-malformed", f"entry {oid}", "a merge commit inside a session")
    return commit


def _check_entry_in_order(
    repo: pygit2.Repository,
    sid: str,
    commit: pygit2.Commit,
    newer_time: Entry | None,
    out: Findings,
) -> Entry | None:
    """Check an entry commit and that it is not later than the entry after it.

    Returns the entry to compare the next (older) one with.
    """
    oid = str(commit.id)
    try:
        entry = _check_entry(repo, sid, commit, out)
    except (KeyError, ValueError, pygit2.GitError) as exc:
        out.problem("object-corrupt", f"entry {oid}", f"cannot read its objects: {exc}")
        entry = None
    if entry is None:
        return newer_time
    if newer_time is not None and entry.timestamp > newer_time.timestamp:
        out.problem(
            "timestamp-order",
            f"entry {oid}",
            f"timestamp {entry.timestamp.isoformat()} is later than that of the "
            f"entry after it, {newer_time.id[:12]} "
            f"({newer_time.timestamp.isoformat()})",
        )
    return entry


def _tally(order: list[str], is_entry: list[bool], stop: str | None, stop_count: int) -> Walk:
    """Entries up to each commit of the walk, counting on from ``stop_count`` at ``stop``."""
    counts: dict[str, int] = {}
    running = stop_count
    if stop is not None:
        counts[stop] = stop_count
    for cid, entry_flag in zip(reversed(order), reversed(is_entry), strict=True):
        running += entry_flag
        counts[cid] = running
    entries = [cid for cid, flag in zip(order, is_entry, strict=True) if flag]
    return Walk(counts, order, running, order, entries, running - stop_count)


def check_entry_signatures(
    repo: pygit2.Repository, sid: str, walk: Walk, allowed: Path | None, out: Findings
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
                    f"unsigned entry after signed ones on {branch(sid)}: forged, or entry "
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
            branch(sid),
            f"{unsigned_before} entries before entry signing began are not signed",
        )


def _check_entry(
    repo: pygit2.Repository, sid: str, commit: pygit2.Commit, out: Findings
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
    if entry.session_id not in sessions_held(sid):
        out.problem(
            "entry-foreign",
            subject,
            f"entry of session {entry.session_id!r} found on {branch(sid)}: the branch points "
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


_HEX40 = re.compile(r"\b[0-9a-f]{40}\b")


def check_objects(
    repo: pygit2.Repository,
    ledger: Path,
    snap: RefSnapshot,
    base: Checkpoint | None,
    walks: dict[str, Walk],
    out: Findings,
) -> None:
    git = shutil.which("git")
    if base is None and git is not None:
        _fsck(ledger, snap, out)
        out.report.objects_checked = "all the refs reach, as read once (git fsck --strict)"
        return
    oids = _objects_of(repo, [c for w in walks.values() for c in w.new_commits], base)
    for oid in oids:
        _rehash(repo, oid, out)
    out.report.objects_checked = f"{len(oids)} re-hashed"
    if base is None:
        out.note("fsck-skipped", "objects", "git is not installed: only session objects re-hashed")


def _fsck(ledger: Path, snap: RefSnapshot, out: Findings) -> None:
    with maintenance_paused(ledger):
        result = snapshot_fsck(ledger, snap)
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


def _rehash(repo: pygit2.Repository, oid: str, out: Findings) -> bool:
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
