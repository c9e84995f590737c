"""File states read from a ledger's history: what a session knew of a file, and who changed it last.

Undo plans from these: the state to restore comes from an entry commit's tree, the states a
file may safely hold on disk from the newest commits that changed it in each session.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from typing import Final

import pygit2

from ledger._graph import entry_blob, first_parent, first_parents, is_observation
from ledger._layout import FILES_DIR
from ledger._objects import MODE_BLOB, MODE_LINK
from ledger._store import LedgerStore
from ledger.entry import T_FILE, T_OBSERVATION, T_TYPE, Entry, parse_trailers
from ledger.trust.redact import REDACTIONS_KEY
from ledger.trust.redact.fill import Mark
from ledger.types import ChangeType

FILE_CHANGES: Final = frozenset(
    {ChangeType.FILE_CREATE, ChangeType.FILE_UPDATE, ChangeType.FILE_DELETE}
)
_PLACEHOLDER = re.compile(
    rb"\[git-ledger: content not stored: (\d+) bytes, blob ([0-9a-f]{40})\]\n"
)


class Unknown:
    """The ledger holds no state for the file at that point."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()


@dataclasses.dataclass(frozen=True)
class FileState:
    """A file state as the ledger records it: git mode, blob id, whether it is kept, and
    (for a redacted state) the marks that stand for its secrets."""

    mode: int
    oid: str
    stored: bool = True
    marks: tuple[Mark, ...] | None = None  # a redacted state: where its markers are
    why: str | None = None  # why a state is not stored, when it is not for its size

    @property
    def is_link(self) -> bool:
        return self.mode == MODE_LINK


Recorded = FileState | None | Unknown  # None: the file did not exist


def tree_state(commit: pygit2.Commit | None, tree_path: str) -> FileState | None:
    """The state a commit's tree holds at ``tree_path`` (None when it holds none)."""
    if commit is None:
        return None
    try:
        obj = commit.tree[tree_path]
    except KeyError:
        return None
    if not isinstance(obj, pygit2.Blob):
        return None
    mode = int(obj.filemode)
    if obj.size < 120:
        found = _PLACEHOLDER.fullmatch(bytes(obj.data))
        if found is not None:
            return FileState(mode, found.group(2).decode(), stored=False)
    return FileState(mode, str(obj.id))


def state_at(
    repo: pygit2.Repository, commit: pygit2.Commit | None, tree_path: str, absent_hint: bool
) -> Recorded:
    """The file's state as the session knew it at ``commit``.

    A file missing from the tree is known to be absent when the entry says so
    (``absent_hint``) or when an earlier commit of the session held it (it was deleted);
    otherwise the session never saw it and the state is UNKNOWN.
    """
    state = tree_state(commit, tree_path)
    if state is not None:
        return state
    if absent_hint:
        return None
    if commit is not None:
        for older in first_parents(repo, commit):
            if tree_state(older, tree_path) is not None:
                return None
    return UNKNOWN


def unkept(entry: Entry, which: str, state: Recorded) -> Recorded:
    """An entry's state that the ledger hashed but did not keep (over the size cap, or
    recorded under a redacted path)."""
    oid = entry.file_hash_before if which == "before" else entry.file_hash_after
    noted = entry.metadata.get(REDACTIONS_KEY)
    noted = noted if isinstance(noted, dict) else {}
    if f"{which}_state" in noted and "file_path" not in noted:
        return state  # kept, redacted: the marks say how it comes back
    if entry.metadata.get(f"{which}_stored") is False and oid is not None:
        mode = state.mode if isinstance(state, FileState) else MODE_BLOB
        why = "its recorded path was redacted" if "file_path" in noted else None
        return FileState(mode, oid, stored=False, why=why)
    return state


def file_changes(
    store: LedgerStore, tip: bytes, since_id: str | None
) -> tuple[list[tuple[Entry, pygit2.Commit]], bool]:
    """A session's file-change entries, newest first, back to ``since_id`` (included).

    Returns the entries with their commits, and whether ``since_id`` was reached (always
    True without one).
    """
    repo = store.repo
    scope: list[tuple[Entry, pygit2.Commit]] = []
    kinds = {t.value for t in FILE_CHANGES}
    for commit in first_parents(repo, repo[pygit2.Oid(raw=tip)]):
        trailers = parse_trailers(commit.message)
        if T_OBSERVATION not in trailers and trailers.get(T_TYPE) in kinds:
            entry = store.entry_from_commit(commit)  # only file changes are parsed
            if entry is not None:
                scope.append((entry, commit))
        if str(commit.id) == since_id:
            return scope, True
    return scope, since_id is None


@dataclasses.dataclass(frozen=True)
class Change:
    """The newest commit of a session that changed a file's recorded state."""

    state: Recorded
    session: str
    entry: str
    timestamp: str  # the entry's ISO timestamp (sortable: all UTC, microseconds)
    commit_time: int


def last_changes(
    repo: pygit2.Repository, tip: bytes | None, tree_paths: Iterable[str], floor: int | None
) -> dict[str, Change]:
    """For each path, the newest commit of a session that changed its recorded state.

    One walk from the tip along first parents; commits whose ``files/`` tree equals their
    parent's are skipped without looking at paths, and commits older than ``floor``
    (seconds) are not searched.
    """
    found: dict[str, Change] = {}
    if tip is None:
        return found
    remaining = set(tree_paths)
    here: dict[str, FileState | None] = {}
    child_entry: pygit2.Commit | None = None
    start = repo[pygit2.Oid(raw=tip)]
    commit = start if isinstance(start, pygit2.Commit) else None
    while isinstance(commit, pygit2.Commit) and remaining:
        if floor is not None and commit.commit_time < floor:
            break
        if not is_observation(commit):
            child_entry = commit
        parent = first_parent(commit)
        if parent is not None and _files_id(commit) == _files_id(parent):
            commit = parent
            continue
        named = parse_trailers(commit.message).get(T_FILE)
        # A ledger commit changes at most the file its trailer names (trailer values are
        # never shortened); a commit without that trailer may have changed any of them.
        candidates = sorted(remaining) if named is None else [p for p in (named,) if p in remaining]
        for path in candidates:
            now = here[path] if path in here else tree_state(commit, path)
            before = tree_state(parent, path)
            here[path] = before
            if now == before:
                continue
            holder = child_entry or commit
            stamp, session, entry_id = _entry_facts(holder)
            found[path] = Change(now, session, entry_id, stamp, commit.commit_time)
            remaining.discard(path)
        commit = parent
    return found


def _files_id(commit: pygit2.Commit) -> object:
    try:
        return commit.tree[FILES_DIR].id
    except KeyError:
        return None


def _entry_facts(commit: pygit2.Commit) -> tuple[str, str, str]:
    try:
        blob = entry_blob(commit)
        data = json.loads(bytes(blob.data)) if blob is not None else {}
    except ValueError:
        data = {}
    return (
        str(data.get("timestamp", "")),
        str(data.get("session_id", "")),
        str(commit.id),
    )
