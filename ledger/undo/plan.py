"""Undo plans: what each file becomes, and whether the file on disk may be overwritten.

A file may be overwritten only when it holds a state the ledger recorded for it last (in the
undone session or in any later one); anything else changed behind the ledger's back.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger._store import LedgerStore
from ledger.entry import Entry
from ledger.errors import InvalidInputError, UnrestorableError
from ledger.undo.history import Change, FileState, Unknown, last_changes
from ledger.undo.redacted import Exact, refusal
from ledger.undo.workspace import DiskState, Location, blob_id, read_state

Baseline = tuple[list[FileState | None], str | None]  # accepted disk states, a note
Locator = Callable[[str, Path | None], Location]  # (tree path, export folder) -> file


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
    _data: bytes | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def content(self) -> bytes | None:
        """The exact content to write when it is not a stored blob (a redacted state filled
        back from the file on disk; never stored in the ledger)."""
        return self._data

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
class Want:
    """A file to put in a state: its tree path, the state, and the entry and session of it."""

    tree_path: str
    state: FileState | None
    entry: str
    session: str


# -- what may be overwritten ------------------------------------------------------------------
def baselines(store: LedgerStore, wants: list[Want]) -> dict[str, Baseline]:
    """For each file: the states it may have on disk to be safe to overwrite, and a note.

    Accepted are the last state the undone session recorded and the latest state any
    other session recorded after that (content the ledger holds either way).
    """
    repo = store.repo
    tips = store.sessions()
    paths_of: dict[str, list[str]] = {}
    for want in wants:
        paths_of.setdefault(want.session, []).append(want.tree_path)
    own: dict[str, Change] = {}
    for session, paths in paths_of.items():
        own.update(last_changes(repo, tips.get(session), paths, None))
    all_paths = [w.tree_path for w in wants]
    floor = None
    if all(p in own for p in all_paths):
        floor = min((own[p].commit_time for p in all_paths), default=None)
    latest: dict[str, Change] = {}
    undone = set(paths_of)
    for session, tip in tips.items():
        if session in undone:
            continue
        for path, change in last_changes(repo, tip, all_paths, floor).items():
            mine = own.get(path)
            if mine is not None and change.timestamp <= mine.timestamp:
                continue
            if path not in latest or change.timestamp > latest[path].timestamp:
                latest[path] = change
    return {w.tree_path: _accepted(own.get(w.tree_path), latest.get(w.tree_path)) for w in wants}


def _accepted(mine: Change | None, other: Change | None) -> Baseline:
    accepted: list[FileState | None] = []
    if mine is not None and not isinstance(mine.state, Unknown):
        accepted.append(mine.state)
    note = None
    if other is not None and not isinstance(other.state, Unknown):
        accepted.append(other.state)
        note = f"last recorded by session {other.session} (entry {other.entry[:12]})"
    return accepted, note


# -- planning ---------------------------------------------------------------------------------
def make_plan(
    store: LedgerStore, wants: list[Want], to: Path | None, locate: Locator
) -> list[FileAction]:
    """The actions that put each wanted state in place (sorted by path).

    Raises:
        InvalidInputError: two wanted paths are the same file.
        UnrestorableError: the ledger does not hold the content of a wanted state.
    """
    accepted = baselines(store, wants) if to is None else {}
    exact = Exact(store)
    plan: list[FileAction] = []
    seen: dict[str, str] = {}
    unstored: list[str] = []
    redacted: list[str] = []
    for want in wants:
        loc = locate(want.tree_path, to)
        if loc.full in seen:
            raise InvalidInputError(
                f"{want.tree_path} and {seen[loc.full]} are the same file {loc.display}"
            )
        seen[loc.full] = want.tree_path
        state = want.state
        if state is not None and state.why is not None:
            raise UnrestorableError(f"cannot restore {loc.display}: {state.why}")
        if state is not None and (not state.stored or state.oid not in store.repo):
            unstored.append(loc.display)
            continue
        if state is None and to is not None:
            continue  # an export writes states, it never deletes
        source = loc if to is None else locate(want.tree_path, None)
        action = _action(store, exact, want, loc, to, accepted.get(want.tree_path), source)
        if action is None:
            redacted.append(loc.display)
        else:
            plan.append(action)
    if unstored:
        raise UnrestorableError(
            "the ledger holds only the hash and size of "
            + ", ".join(unstored)
            + " (over its content size cap, or the blob is missing); cannot restore"
        )
    if redacted:  # nothing is written: the whole plan is refused
        raise UnrestorableError(refusal(redacted))
    plan.sort(key=lambda a: a.path)
    return plan


def _action(
    store: LedgerStore,
    exact: Exact,
    want: Want,
    loc: Location,
    to: Path | None,
    baseline: Baseline | None,
    source: Location,
) -> FileAction | None:
    """One file's action, with the conflict that forbids it (None when it is safe).

    None when the state is redacted and the file on disk cannot fill it back exactly.
    """
    state = want.state
    disk = read_state(loc)
    data: bytes | None = None
    if state is not None and state.marks is not None:
        data = exact.original(want.tree_path, state, disk if source == loc else read_state(source))
        if data is None:
            return None
        state = FileState(state.mode, blob_id(data))
    conflict: str | None = None
    note: str | None = None
    if matches(disk, state):
        action = "none"
    else:
        action = "write" if state is not None else "delete"
        if to is not None:
            if disk.mode is not None:
                conflict = f"exists in {to} with other content"
        else:
            assert baseline is not None
            accepted, note = baseline
            if not any(matches(disk, s) for s in accepted) and not _same_redacted(
                exact, want.tree_path, disk, accepted
            ):
                conflict = _why(disk, accepted)
    return FileAction(
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
        _new=_loader(store, state, data),
        _data=data,
    )


def _same_redacted(
    exact: Exact, tree_path: str, disk: DiskState, accepted: list[FileState | None]
) -> bool:
    """True when the file on disk is, redacted, a state the ledger recorded last: the same
    file, its secrets included (each marker's keyed fingerprint is the secret's)."""
    if disk.mode is None or disk.data is None or not any(s is not None for s in accepted):
        return False
    recorded = exact.redacted_id(tree_path, disk)
    return any(s is not None and (s.mode, s.oid) == (disk.mode, recorded) for s in accepted)


def _loader(
    store: LedgerStore, state: FileState | None, data: bytes | None = None
) -> Callable[[], bytes | None]:
    if data is not None:
        return lambda: data
    if state is None:
        return lambda: b""
    oid = state.oid
    return lambda: store.read_blob(oid)


def matches(disk: DiskState, state: FileState | None) -> bool:
    """True when the file on disk is in ``state`` (None: absent)."""
    if state is None:
        return disk.mode is None
    return disk.mode == state.mode and disk.oid == state.oid


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


def conflict_message(conflicts: list[FileAction]) -> str:
    """One line naming the conflicting files (the first five)."""
    shown = "; ".join(f"{a.path}: {a.conflict}" for a in conflicts[:5])
    more = f" (and {len(conflicts) - 5} more)" if len(conflicts) > 5 else ""
    return f"{len(conflicts)} file(s) changed since the ledger recorded them: {shown}{more}"


# -- diffs ------------------------------------------------------------------------------------
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
