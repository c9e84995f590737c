"""Undo: put files back as the ledger recorded them at an entry, or roll back a session.

A :class:`Restorer` first plans (what each file becomes, and whether the file on disk still
holds what the ledger last recorded for it), then writes nothing or all it planned, one file
at a time and atomically, and records those writes as entries of an undo session.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import pygit2

from ledger._graph import first_parent, first_parents, is_observation
from ledger._layout import FILES_DIR
from ledger._names import check_path, from_tree_path, to_tree_path, validate_session_id
from ledger._objects import MODE_BLOB, MODE_LINK
from ledger._store import LedgerStore
from ledger.entry import T_FILE, T_OBSERVATION, T_TYPE, Entry, parse_trailers
from ledger.errors import (
    InvalidInputError,
    InvalidPathError,
    SessionNotFoundError,
    UndoConflictError,
    UnrestorableError,
    WorkspaceEscapeError,
)
from ledger.location import resolve_ledger_dir
from ledger.types import ChangeType
from ledger.undo.workspace import (
    DiskState,
    Location,
    delete_file,
    locate,
    read_state,
    write_file,
)
from ledger.write.logger import ChangeLogger
from ledger.write.session import new_session_id

UNDO_AGENT: Final = "git-ledger-undo"
UNDO_SESSION_PREFIX: Final = "undo-"
FILE_CHANGES: Final = frozenset(
    {ChangeType.FILE_CREATE, ChangeType.FILE_UPDATE, ChangeType.FILE_DELETE}
)
_PLACEHOLDER = re.compile(
    rb"\[git-ledger: content not stored: (\d+) bytes, blob ([0-9a-f]{40})\]\n"
)


class _Unknown:
    """The ledger holds no state for the file at that point."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


@dataclasses.dataclass(frozen=True)
class FileState:
    """A file state as the ledger records it: git mode, blob id, and whether it is kept."""

    mode: int
    oid: str
    stored: bool = True

    @property
    def is_link(self) -> bool:
        return self.mode == MODE_LINK


Recorded = FileState | None | _Unknown  # None: the file did not exist
_Baseline = tuple[list[FileState | None], str | None]  # accepted disk states, a note


@dataclasses.dataclass(frozen=True)
class FileAction:
    """One step of an undo plan.

    Attributes:
        action: ``"write"``, ``"delete"``, or ``"none"`` (the file already is in that state).
        path: the file as shown to people (relative to the workspace, or absolute).
        target: the absolute path on disk that is written or removed.
        from_hash / from_mode: the file on disk now (None when absent).
        to_hash / to_mode: the state restored (None for a delete).
        conflict: why the file may not be overwritten (None when it is safe).
        entry: the id of the entry whose before- or after-state is restored.
        tree_path: the file's place in the ledger tree (``files/...``).
        note: extra information, e.g. that another session recorded the file last.
    """

    action: str
    path: str
    target: str
    from_hash: str | None
    to_hash: str | None
    from_mode: int | None
    to_mode: int | None
    conflict: str | None
    entry: str
    tree_path: str
    note: str | None = None
    _old: bytes | None = dataclasses.field(default=None, repr=False, compare=False)
    _new: Callable[[], bytes | None] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )

    @property
    def diff(self) -> str:
        """A unified diff from the file on disk to the state restored ("" for no change)."""
        if self.action == "none":
            return ""
        old = self._old if self.from_hash is not None else b""
        new = (self._new() if self._new is not None else None) if self.to_hash else b""
        return _unified(self.path, self.from_mode, self.to_mode, old, new)

    def to_dict(self) -> dict[str, Any]:
        """The action as JSON-ready data (modes as git's octal strings)."""
        return {
            "action": self.action,
            "path": self.path,
            "from_hash": self.from_hash,
            "to_hash": self.to_hash,
            "from_mode": _mode_text(self.from_mode),
            "to_mode": _mode_text(self.to_mode),
            "conflict": self.conflict,
            "entry": self.entry,
            "tree_path": self.tree_path,
            "note": self.note,
        }


@dataclasses.dataclass
class UndoResult:
    """What a restore or revert planned, wrote and recorded."""

    plan: list[FileAction]
    written: list[FileAction] = dataclasses.field(default_factory=list)
    entries: list[Entry] = dataclasses.field(default_factory=list)
    session_id: str | None = None
    dry_run: bool = False

    @property
    def conflicts(self) -> list[FileAction]:
        """The plan's actions that would overwrite a change the ledger does not hold."""
        return [a for a in self.plan if a.conflict is not None]

    @property
    def changes(self) -> list[FileAction]:
        """The plan's actions that write or delete something."""
        return [a for a in self.plan if a.action != "none"]

    def diff(self) -> str:
        """The unified diffs of every planned write and delete."""
        return "".join(a.diff for a in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": [a.to_dict() for a in self.plan],
            "written": [a.path for a in self.written],
            "entries": [e.id for e in self.entries],
            "session_id": self.session_id,
            "dry_run": self.dry_run,
        }


@dataclasses.dataclass(frozen=True)
class _Want:
    tree_path: str
    state: FileState | None
    entry: str
    session: str


class Restorer:
    """Puts files back as the ledger recorded them, and records that it did.

    Args:
        ledger_dir: the ledger (resolved like everywhere else when None).
        workdir: the workspace the entries' relative paths belong to (default: cwd).
        logger: record the undo in this logger's session; by default each undo that
            writes something gets a session of its own, ``undo-<time>-<random>``.
        allow_outside: also restore files recorded by absolute path outside the
            workspace (refused by default).
        agent_id: the agent named in the undo session (default ``git-ledger-undo``).
        durable: fsync the undo session's objects and refs (default True; the restored
            files themselves are always fsynced).

    Safety: before writing, every target file is compared with the state the ledger last
    recorded for it: the latest state the undone session recorded, or the latest state
    any session recorded. A file matching neither changed behind the ledger's back and is
    a conflict: nothing at all is written unless ``force`` is given.
    """

    def __init__(
        self,
        ledger_dir: str | os.PathLike[str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        logger: ChangeLogger | None = None,
        *,
        allow_outside: bool = False,
        agent_id: str | None = None,
        durable: bool = True,
    ) -> None:
        self.workdir = Path(os.path.abspath(workdir if workdir is not None else os.getcwd()))
        if logger is not None and ledger_dir is None:
            self.ledger_dir = logger.ledger_dir
        else:
            self.ledger_dir = resolve_ledger_dir(ledger_dir, cwd=self.workdir)
        self.store = LedgerStore(self.ledger_dir, durable=durable)
        self.durable = durable
        self.logger = logger
        self.allow_outside = allow_outside
        self.agent_id = agent_id or UNDO_AGENT

    # -- public API ---------------------------------------------------------------------
    def restore(
        self,
        entry: Entry | str,
        paths: Sequence[str | os.PathLike[str]] | None = None,
        which: str = "before",
        to: str | os.PathLike[str] | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> UndoResult:
        """Put files back as they were at an entry.

        Args:
            entry: the entry (or its id, or a unique prefix of 7+ hex digits).
            paths: files to restore as the entry's session knew them at that entry;
                default the entry's own file.
            which: ``"before"`` (undo: the state before the entry) or ``"after"`` (redo).
            to: write the states under this folder instead of the workspace (an export:
                no conflict check against the ledger, nothing deleted, nothing recorded).
            dry_run: plan only; the result's ``diff()`` shows every write.
            force: overwrite files that changed since the ledger recorded them.

        Raises:
            UndoConflictError: files changed since the ledger last recorded them.
            UnrestorableError: the ledger lacks a needed state.
            WorkspaceEscapeError: a path leads outside the workspace.
        """
        if which not in ("before", "after"):
            raise InvalidInputError(f"which must be 'before' or 'after', not {which!r}")
        found = self.store.get_entry(entry if isinstance(entry, str) else entry.id)
        repo = self.store.repo
        commit = repo[pygit2.Oid(hex=found.id)]
        assert isinstance(commit, pygit2.Commit)
        point = commit if which == "after" else first_parent(commit)
        if paths:
            tree_paths = [to_tree_path(p, self.workdir) for p in paths]
        elif found.tree_path is not None:
            tree_paths = [found.tree_path]
        else:
            raise InvalidInputError(
                f"entry {found.short_id} records no file; name the files to restore"
            )
        dest = Path(os.path.abspath(to)) if to is not None else None
        for tp in tree_paths:
            self._locate(tp, dest)  # a path out of the workspace is refused first
        wants: list[_Want] = []
        missing: list[str] = []
        for tp in dict.fromkeys(tree_paths):
            hint = tp == found.tree_path and (
                (which == "before" and found.change_type is ChangeType.FILE_CREATE)
                or (which == "after" and found.change_type is ChangeType.FILE_DELETE)
            )
            state = _state_at(repo, point, tp, absent_hint=hint)
            if tp == found.tree_path:
                state = _unkept(found, which, state)
            if isinstance(state, _Unknown):
                missing.append(
                    f"{from_tree_path(tp)}: session {found.session_id} did not know it "
                    f"{which} entry {found.short_id}"
                )
                continue
            wants.append(_Want(tp, state, found.id, found.session_id))
        if missing:
            raise UnrestorableError("cannot restore " + "; ".join(missing))
        if to is None:
            self._check_workspace([found])
        meta = {
            "undo_kind": "restore",
            "undo_of": found.id,
            "undo_session": found.session_id,
            "restored_state": which,
        }
        return self._run(wants, meta, to, dry_run, force)

    def revert_session(
        self,
        session_id: str,
        since: Entry | str | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> UndoResult:
        """Put every file a session (or its tail from ``since`` on) touched back as it was.

        Each file goes back to the state it had before the session first touched it (the
        before-state of the first entry in scope that changed it): files the session
        created are removed, files it deleted come back.

        Raises:
            SessionNotFoundError: no such session.
            UndoConflictError: files changed since the ledger last recorded them.
            UnrestorableError: the ledger lacks a file's before-state.
        """
        validate_session_id(session_id)
        repo = self.store.repo
        tip = self.store.tip(session_id)
        if tip is None:
            raise SessionNotFoundError(f"no session {session_id} in the ledger {self.ledger_dir}")
        since_id: str | None = None
        if since is not None:
            since_entry = self.store.get_entry(since if isinstance(since, str) else since.id)
            if since_entry.session_id != session_id:
                raise InvalidInputError(
                    f"entry {since_entry.short_id} belongs to session "
                    f"{since_entry.session_id}, not {session_id}"
                )
            since_id = since_entry.id
        scope: list[tuple[Entry, pygit2.Commit]] = []
        reached = since_id is None
        kinds = {t.value for t in FILE_CHANGES}
        for commit in first_parents(repo, repo[pygit2.Oid(raw=tip)]):
            trailers = parse_trailers(commit.message)
            if T_OBSERVATION not in trailers and trailers.get(T_TYPE) in kinds:
                entry = self.store.entry_from_commit(commit)  # only file changes are parsed
                if entry is not None:
                    scope.append((entry, commit))
            if str(commit.id) == since_id:
                reached = True
                break
        if not reached:
            raise InvalidInputError(f"entry {since_id} is not on session {session_id}")
        scope.reverse()  # oldest first
        first: dict[str, tuple[Entry, pygit2.Commit]] = {}
        for entry, commit in scope:
            if entry.tree_path and entry.change_type in FILE_CHANGES:
                first.setdefault(entry.tree_path, (entry, commit))
        wants: list[_Want] = []
        missing: list[str] = []
        for tp, (entry, commit) in first.items():
            hint = entry.change_type is ChangeType.FILE_CREATE
            state = _unkept(entry, "before", _state_at(repo, first_parent(commit), tp, hint))
            if isinstance(state, _Unknown):
                missing.append(
                    f"{from_tree_path(tp)}: entry {entry.short_id} did not record its before-state"
                )
                continue
            wants.append(_Want(tp, state, entry.id, session_id))
        if missing:
            raise UnrestorableError("cannot revert " + "; ".join(missing))
        self._check_workspace([e for e, _ in scope])
        meta: dict[str, Any] = {
            "undo_kind": "revert",
            "undo_of": session_id,
            "undo_session": session_id,
            "restored_state": "before",
        }
        if since_id is not None:
            meta["undo_since"] = since_id
        return self._run(wants, meta, None, dry_run, force)

    # -- planning -------------------------------------------------------------------------
    def _check_workspace(self, entries: Iterable[Entry]) -> None:
        """Refuse when the entries say they were recorded in another workspace."""
        mine = {str(self.workdir), os.path.realpath(self.workdir)}
        for entry in entries:
            if not entry.tree_path or entry.tree_path.startswith("files/%2F/"):
                continue
            recorded = entry.metadata.get("workdir")
            if not isinstance(recorded, str):
                recorded = None
                rel = from_tree_path(entry.tree_path)
                fp = entry.file_path or ""
                if os.path.isabs(fp) and fp.endswith("/" + rel):
                    recorded = fp[: -len(rel) - 1] or "/"
            if recorded is None:
                continue
            if recorded not in mine and os.path.realpath(recorded) not in mine:
                raise InvalidInputError(
                    f"entry {entry.short_id} was recorded in workspace {recorded}, not "
                    f"{self.workdir}; give that workspace (--workdir)"
                )

    def _locate(self, tree_path: str, to: Path | None) -> Location:
        text = check_path(from_tree_path(tree_path))
        parts = [p for p in text.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise InvalidPathError(f"recorded path {text!r} names no file")
        if to is not None:
            return locate(str(to), parts, text.lstrip("/"))
        if text.startswith("/"):
            work = str(self.workdir)
            for base in (work, os.path.realpath(work)):
                if os.path.commonpath([text, base]) == base and text != base:
                    rel = os.path.relpath(text, base).split("/")
                    return locate(os.path.realpath(work), rel, "/".join(rel))
            if not self.allow_outside:
                raise WorkspaceEscapeError(
                    f"{text} is outside the workspace {self.workdir}; "
                    "allow it explicitly (--allow-outside) to restore it"
                )
            return locate("/", parts, text, check_inside=False)
        return locate(os.path.realpath(self.workdir), parts, text)

    def _baselines(self, wants: list[_Want]) -> dict[str, _Baseline]:
        """For each file: the states it may have on disk to be safe to overwrite, and a note.

        Accepted are the last state the undone session recorded and the latest state any
        other session recorded after that (content the ledger holds either way).
        """
        repo = self.store.repo
        tips = self.store.sessions()
        paths_of: dict[str, list[str]] = {}
        for want in wants:
            paths_of.setdefault(want.session, []).append(want.tree_path)
        own: dict[str, _Change] = {}
        for session, paths in paths_of.items():
            own.update(_last_changes(repo, tips.get(session), paths, None))
        all_paths = [w.tree_path for w in wants]
        floor = None
        if all(p in own for p in all_paths):
            floor = min((own[p].commit_time for p in all_paths), default=None)
        latest: dict[str, _Change] = {}
        undone = set(paths_of)
        for session, tip in tips.items():
            if session in undone:
                continue
            for path, change in _last_changes(repo, tip, all_paths, floor).items():
                mine = own.get(path)
                if mine is not None and change.timestamp <= mine.timestamp:
                    continue
                if path not in latest or change.timestamp > latest[path].timestamp:
                    latest[path] = change
        out: dict[str, _Baseline] = {}
        for want in wants:
            accepted: list[FileState | None] = []
            mine = own.get(want.tree_path)
            if mine is not None and not isinstance(mine.state, _Unknown):
                accepted.append(mine.state)
            note = None
            other = latest.get(want.tree_path)
            if other is not None and not isinstance(other.state, _Unknown):
                accepted.append(other.state)
                note = f"last recorded by session {other.session} (entry {other.entry[:12]})"
            out[want.tree_path] = (accepted, note)
        return out

    def _plan(self, wants: list[_Want], to: Path | None) -> list[FileAction]:
        baselines = self._baselines(wants) if to is None else {}
        plan: list[FileAction] = []
        seen: dict[str, str] = {}
        unstored: list[str] = []
        for want in wants:
            loc = self._locate(want.tree_path, to)
            if loc.full in seen:
                raise InvalidInputError(
                    f"{want.tree_path} and {seen[loc.full]} are the same file {loc.display}"
                )
            seen[loc.full] = want.tree_path
            state = want.state
            if state is not None and (not state.stored or state.oid not in self.store.repo):
                unstored.append(loc.display)
                continue
            if state is None and to is not None:
                continue  # an export writes states, it never deletes
            disk = read_state(loc)
            conflict: str | None = None
            note: str | None = None
            if _matches(disk, state):
                action = "none"
            else:
                action = "write" if state is not None else "delete"
                if to is not None:
                    if disk.mode is not None:
                        conflict = f"exists in {to} with other content"
                else:
                    accepted, note = baselines[want.tree_path]
                    if not any(_matches(disk, s) for s in accepted):
                        conflict = _why(disk, accepted)
            plan.append(
                FileAction(
                    action=action,
                    path=loc.display,
                    target=loc.full,
                    from_hash=disk.oid,
                    to_hash=state.oid if state is not None else None,
                    from_mode=disk.mode,
                    to_mode=state.mode if state is not None else None,
                    conflict=conflict,
                    entry=want.entry,
                    tree_path=want.tree_path,
                    note=note,
                    _old=disk.data,
                    _new=self._loader(state),
                )
            )
        if unstored:
            raise UnrestorableError(
                "the ledger holds only the hash and size of "
                + ", ".join(unstored)
                + " (over its content size cap, or the blob is missing); cannot restore"
            )
        plan.sort(key=lambda a: a.path)
        return plan

    def _loader(self, state: FileState | None) -> Callable[[], bytes | None]:
        if state is None:
            return lambda: b""
        oid = state.oid
        return lambda: self.store.read_blob(oid)

    # -- execution ----------------------------------------------------------------------
    def _run(
        self,
        wants: list[_Want],
        meta: dict[str, Any],
        to: str | os.PathLike[str] | None,
        dry_run: bool,
        force: bool,
    ) -> UndoResult:
        dest: Path | None = None
        if to is not None:
            dest = Path(os.path.abspath(to))
            if not dry_run:
                try:
                    dest.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise InvalidPathError(f"cannot create {dest}: {exc.strerror}") from exc
        plan = self._plan(wants, dest)
        result = UndoResult(plan=plan, dry_run=dry_run)
        if result.conflicts and not force and not dry_run:
            raise UndoConflictError(_conflict_message(result.conflicts), result, result.conflicts)
        if dry_run or not result.changes:
            return result
        # Deletions first, deepest first, so a folder they empty can take a file's place.
        deletes = sorted(
            (a for a in plan if a.action == "delete"), key=lambda a: a.path.count("/"), reverse=True
        )
        writes = [a for a in plan if a.action == "write"]
        ordered = deletes + writes
        if dest is not None:
            for action in ordered:
                self._apply(action, dest, force, result)
            return result
        logger = self.logger
        if logger is None:
            logger = ChangeLogger(
                ledger_dir=self.ledger_dir,
                agent_id=self.agent_id,
                session_id=UNDO_SESSION_PREFIX + new_session_id(),
                workdir=self.workdir,
                durable=self.durable,
            )
        result.session_id = logger.session_id
        with logger.batch():
            for action in ordered:
                loc = self._locate(action.tree_path, None)
                record = _record_path(loc, logger.workdir)
                described = _describe(action, meta)
                file_meta = {
                    **meta,
                    "restored_from": action.entry,
                    "workdir": str(self.workdir),
                }
                if action.conflict is not None:
                    file_meta["forced"] = True
                with logger.track_file(record, described, file_meta) as tracked:
                    self._apply(action, None, force, result)
                if tracked.entry is not None:
                    result.entries.append(tracked.entry)
        return result

    def _apply(
        self, action: FileAction, dest: Path | None, force: bool, result: UndoResult
    ) -> None:
        loc = self._locate(action.tree_path, dest)
        disk = read_state(loc)
        if (disk.oid, disk.mode) != (action.from_hash, action.from_mode) and not force:
            changed = dataclasses.replace(action, conflict="changed while the undo ran")
            raise UndoConflictError(
                f"{action.path} changed while the undo ran; "
                f"{len(result.written)} file(s) were already restored",
                result,
                [changed],
            )
        if action.action == "delete":
            delete_file(loc)
        else:
            assert action.to_hash is not None and action.to_mode is not None
            data = self.store.read_blob(action.to_hash)
            if data is None:
                raise UnrestorableError(f"the ledger lacks blob {action.to_hash}")
            write_file(loc, data, action.to_mode, disk)
        result.written.append(action)


# -- reading the ledger -------------------------------------------------------------------
def _tree_state(commit: pygit2.Commit | None, tree_path: str) -> FileState | None:
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


def _state_at(
    repo: pygit2.Repository, commit: pygit2.Commit | None, tree_path: str, absent_hint: bool
) -> Recorded:
    """The file's state as the session knew it at ``commit``.

    A file missing from the tree is known to be absent when the entry says so
    (``absent_hint``) or when an earlier commit of the session held it (it was deleted);
    otherwise the session never saw it and the state is UNKNOWN.
    """
    state = _tree_state(commit, tree_path)
    if state is not None:
        return state
    if absent_hint:
        return None
    if commit is not None:
        for older in first_parents(repo, commit):
            if _tree_state(older, tree_path) is not None:
                return None
    return UNKNOWN


def _unkept(entry: Entry, which: str, state: Recorded) -> Recorded:
    """An entry's state that the ledger hashed but did not keep (over the size cap)."""
    oid = entry.file_hash_before if which == "before" else entry.file_hash_after
    if entry.metadata.get(f"{which}_stored") is False and oid is not None:
        mode = state.mode if isinstance(state, FileState) else MODE_BLOB
        return FileState(mode, oid, stored=False)
    return state


@dataclasses.dataclass(frozen=True)
class _Change:
    state: Recorded
    session: str
    entry: str
    timestamp: str  # the entry's ISO timestamp (sortable: all UTC, microseconds)
    commit_time: int


def _last_changes(
    repo: pygit2.Repository, tip: bytes | None, tree_paths: Iterable[str], floor: int | None
) -> dict[str, _Change]:
    """For each path, the newest commit of a session that changed its recorded state.

    One walk from the tip along first parents; commits whose ``files/`` tree equals their
    parent's are skipped without looking at paths, and commits older than ``floor``
    (seconds) are not searched.
    """
    found: dict[str, _Change] = {}
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
            now = here[path] if path in here else _tree_state(commit, path)
            before = _tree_state(parent, path)
            here[path] = before
            if now == before:
                continue
            holder = child_entry or commit
            stamp, session, entry_id = _entry_facts(holder)
            found[path] = _Change(now, session, entry_id, stamp, commit.commit_time)
            remaining.discard(path)
        commit = parent
    return found


def _files_id(commit: pygit2.Commit) -> object:
    try:
        return commit.tree[FILES_DIR].id
    except KeyError:
        return None


def _entry_facts(commit: pygit2.Commit) -> tuple[str, str, str]:
    import json

    try:
        blob = commit.tree["entry.json"]
        data = json.loads(bytes(blob.data)) if isinstance(blob, pygit2.Blob) else {}
    except (KeyError, ValueError):
        data = {}
    return (
        str(data.get("timestamp", "")),
        str(data.get("session_id", "")),
        str(commit.id),
    )


def _matches(disk: DiskState, state: FileState | None) -> bool:
    if state is None:
        return disk.mode is None
    return disk.mode == state.mode and disk.oid == state.oid


# -- presentation -------------------------------------------------------------------------
def _record_path(loc: Location, logger_workdir: Path) -> str:
    """The path to record: relative to the logger's workspace when inside it."""
    base = str(logger_workdir)
    if loc.lexical != base and os.path.commonpath([loc.lexical, base]) == base:
        return os.path.relpath(loc.lexical, base)
    real = os.path.realpath(base)
    if os.path.commonpath([loc.lexical, real]) == real and loc.lexical != real:
        return os.path.relpath(loc.lexical, real)
    return loc.lexical


def _describe(action: FileAction, meta: dict[str, Any]) -> str:
    verb = "Remove" if action.action == "delete" else "Restore"
    if meta["undo_kind"] == "revert":
        return f"{verb} {action.path}: revert session {meta['undo_of']}"
    return f"{verb} {action.path} to its state {meta['restored_state']} entry {action.entry[:12]}"


def _why(disk: DiskState, accepted: list[FileState | None]) -> str:
    if not accepted:
        return "the ledger holds no state of it to compare with"
    if disk.mode is None:
        return "deleted since the ledger last recorded it"
    if all(s is None for s in accepted):
        return "created since the ledger last recorded it as absent"
    if any(s is not None and s.oid == disk.oid for s in accepted):
        return "its mode changed since the ledger last recorded it"
    return "changed since the ledger last recorded it"


def _conflict_message(conflicts: list[FileAction]) -> str:
    shown = "; ".join(f"{a.path}: {a.conflict}" for a in conflicts[:5])
    more = f" (and {len(conflicts) - 5} more)" if len(conflicts) > 5 else ""
    return f"{len(conflicts)} file(s) changed since the ledger recorded them: {shown}{more}"


def _mode_text(mode: int | None) -> str | None:
    return None if mode is None else f"{mode:06o}"


def _unified(
    path: str, old_mode: int | None, new_mode: int | None, old: bytes | None, new: bytes | None
) -> str:
    head = f"diff --ledger a/{path} b/{path}\n"
    if old_mode is None and new_mode is not None:
        head += f"new file mode {new_mode:06o}\n"
    elif new_mode is None and old_mode is not None:
        head += f"deleted file mode {old_mode:06o}\n"
    elif old_mode != new_mode:
        head += f"old mode {_mode_text(old_mode)}\nnew mode {_mode_text(new_mode)}\n"
    if old is None or new is None:
        return head + "(content too large to show)\n"
    if old == new:
        return head
    try:
        old_text = old.decode("utf-8").splitlines(keepends=True)
        new_text = new.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return head + f"Binary files a/{path} and b/{path} differ\n"
    lines = difflib.unified_diff(
        old_text,
        new_text,
        "/dev/null" if old_mode is None else f"a/{path}",
        "/dev/null" if new_mode is None else f"b/{path}",
    )
    body = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
    return head + body
