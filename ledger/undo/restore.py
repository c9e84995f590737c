"""Undo: put files back as the ledger recorded them at an entry, or roll back a session.

A :class:`Restorer` first plans (``ledger.undo.plan``: what each file becomes, and whether the
file on disk still holds what the ledger last recorded for it), then writes nothing or all it
planned, one file at a time and atomically, and records those writes as entries of an undo
session.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import pygit2

from ledger._graph import first_parent
from ledger._names import check_path, from_tree_path, to_tree_path, validate_session_id
from ledger._store import LedgerStore
from ledger.entry import Entry
from ledger.errors import (
    InvalidInputError,
    InvalidPathError,
    SessionNotFoundError,
    UndoConflictError,
    UnrestorableError,
    WorkspaceEscapeError,
)
from ledger.location import absolute, resolve_ledger_dir
from ledger.types import ChangeType
from ledger.undo.history import FILE_CHANGES, Unknown, file_changes, state_at, unkept
from ledger.undo.plan import FileAction, UndoResult, Want, conflict_message, make_plan
from ledger.undo.redacted import with_marks
from ledger.undo.workspace import (
    Location,
    clear_stale_temps,
    delete_file,
    locate,
    read_state,
    write_file,
)
from ledger.write.logger import ChangeLogger
from ledger.write.session import new_session_id

UNDO_AGENT: Final = "git-ledger-undo"
UNDO_SESSION_PREFIX: Final = "undo-"


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
        self.workdir = absolute(workdir)
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
        wants = self._wants_at(found, tree_paths, which)
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
        scope, reached = file_changes(self.store, tip, since_id)
        if not reached:
            raise InvalidInputError(f"entry {since_id} is not on session {session_id}")
        scope.reverse()  # oldest first
        wants = self._wants_before(scope, session_id)
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

    # -- what to restore --------------------------------------------------------------------
    def _wants_at(self, found: Entry, tree_paths: list[str], which: str) -> list[Want]:
        """The files' states as the entry's session knew them before or after the entry."""
        repo = self.store.repo
        commit = repo[pygit2.Oid(hex=found.id)]
        assert isinstance(commit, pygit2.Commit)
        point = commit if which == "after" else first_parent(commit)
        wants: list[Want] = []
        missing: list[str] = []
        for tp in dict.fromkeys(tree_paths):
            hint = tp == found.tree_path and (
                (which == "before" and found.change_type is ChangeType.FILE_CREATE)
                or (which == "after" and found.change_type is ChangeType.FILE_DELETE)
            )
            state = state_at(repo, point, tp, absent_hint=hint)
            if tp == found.tree_path:
                state = unkept(found, which, state)
            state = with_marks(self.store, point, None if which == "after" else commit, tp, state)
            if isinstance(state, Unknown):
                missing.append(
                    f"{from_tree_path(tp)}: session {found.session_id} did not know it "
                    f"{which} entry {found.short_id}"
                )
                continue
            wants.append(Want(tp, state, found.id, found.session_id))
        if missing:
            raise UnrestorableError("cannot restore " + "; ".join(missing))
        return wants

    def _wants_before(
        self, scope: list[tuple[Entry, pygit2.Commit]], session_id: str
    ) -> list[Want]:
        """Each file's state before the first entry of ``scope`` (oldest first) changed it."""
        first: dict[str, tuple[Entry, pygit2.Commit]] = {}
        for entry, commit in scope:
            if entry.tree_path and entry.change_type in FILE_CHANGES:
                first.setdefault(entry.tree_path, (entry, commit))
        wants: list[Want] = []
        missing: list[str] = []
        for tp, (entry, commit) in first.items():
            hint = entry.change_type is ChangeType.FILE_CREATE
            point = first_parent(commit)
            before = state_at(self.store.repo, point, tp, hint)
            state = with_marks(self.store, point, commit, tp, unkept(entry, "before", before))
            if isinstance(state, Unknown):
                missing.append(
                    f"{from_tree_path(tp)}: entry {entry.short_id} did not record its before-state"
                )
                continue
            wants.append(Want(tp, state, entry.id, session_id))
        if missing:
            raise UnrestorableError("cannot revert " + "; ".join(missing))
        return wants

    # -- where files are -------------------------------------------------------------------
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

    # -- execution ----------------------------------------------------------------------
    def _run(
        self,
        wants: list[Want],
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
        plan = make_plan(self.store, wants, dest, self._locate)
        result = UndoResult(plan=plan, dry_run=dry_run)
        if result.conflicts and not force and not dry_run:
            raise UndoConflictError(conflict_message(result.conflicts), result, result.conflicts)
        if not dry_run:  # what a killed undo left in these folders goes first
            for action in plan:
                clear_stale_temps(self._locate(action.tree_path, dest))
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
        self._apply_recorded(ordered, meta, force, result)
        return result

    def _apply_recorded(
        self, ordered: list[FileAction], meta: dict[str, Any], force: bool, result: UndoResult
    ) -> None:
        """Apply the actions in the workspace, each one recorded as an undo entry."""
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
            data = action.content
            if data is None:
                data = self.store.read_blob(action.to_hash)
            if data is None:
                raise UnrestorableError(f"the ledger lacks blob {action.to_hash}")
            write_file(loc, data, action.to_mode, disk)
        result.written.append(action)


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
