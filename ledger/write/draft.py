"""A log call's arguments turned into a Draft: checked, redacted, ready to become a commit.

Also the metadata the command and API-call methods store, and the check of workspace paths.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ledger._names import check_path, to_tree_path
from ledger.content import State
from ledger.entry import normalize_metadata
from ledger.errors import (
    InvalidAgentIdError,
    InvalidInputError,
    InvalidPathError,
    InvalidSessionIdError,
)
from ledger.trust.redact import REDACTIONS_KEY, Redactor
from ledger.trust.redact.fill import MARKS_KEY
from ledger.types import ChangeType, LogLevel, change_type, log_level
from ledger.write.session import check_timestamp

MAX_TEXT_CHARS = 1_000_000

VERBS = {
    ChangeType.FILE_CREATE: "Created",
    ChangeType.FILE_UPDATE: "Updated",
    ChangeType.FILE_DELETE: "Deleted",
}


class Unknown:
    """A file state the caller did not give (the ledger keeps what it last knew)."""


class Absent:
    """The file does not exist in this state."""


UNKNOWN: Final = Unknown()
ABSENT: Final = Absent()
Given = State | Unknown | Absent


@dataclasses.dataclass(frozen=True)
class Draft:
    """One entry's checked and redacted fields, before it has a time or a commit."""

    change_type: ChangeType
    level: LogLevel
    description: str
    metadata: dict[str, Any]
    file_path: str | None
    tree_path: str | None
    timestamp: dt.datetime | None
    before: Given
    after: Given


def make_draft(
    redactor: Callable[[], Redactor],
    workdir: str | os.PathLike[str],
    ctype_in: ChangeType | str,
    description: str,
    metadata: Mapping[str, Any] | None,
    level_in: LogLevel | str,
    file_path: str | os.PathLike[str] | None,
    timestamp: dt.datetime | None,
    before: Given = UNKNOWN,
    after: Given = UNKNOWN,
    file_notes: Mapping[str, list[Any]] | None = None,
) -> Draft:
    """Check a log call's fields and redact secrets from them.

    ``redactor`` is called only once the fields are valid (loading it may create the
    ledger); file states were redacted before they were stored, and ``file_notes`` says
    which rules fired on them (``<which>_state``) and where their markers are
    (``<which>_marks``, kept in metadata ``redacted_states`` so undo can restore them exactly).
    """
    ctype = change_type(ctype_in)
    level = log_level(level_in)
    if not isinstance(description, str):
        raise InvalidInputError("description must be a string")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InvalidInputError("metadata must be a mapping")
    meta = normalize_metadata(dict(metadata or {}))
    meta.pop(MARKS_KEY, None)  # only the ledger says where its markers are
    normalize_metadata(description)  # refuses lone surrogates
    # Secrets are replaced before anything is hashed (file states were filtered earlier).
    active = redactor()
    notes = dict(file_notes or {})
    marks = {w: notes.pop(f"{w}_marks") for w in ("before", "after") if f"{w}_marks" in notes}
    description, meta = active.entry_fields(description, meta, notes)
    if marks:
        meta[MARKS_KEY] = marks
    check_timestamp(timestamp)
    path_text: str | None = None
    tree_path: str | None = None
    if file_path is not None:
        path_text = _redacted_path(active, file_path, meta)
        tree_path = to_tree_path(path_text, workdir)
    for key, state in (("before", before), ("after", after)):
        if isinstance(state, State):
            meta[f"file_size_{key}"] = state.size
            if not state.stored:
                meta[f"{key}_stored"] = False
    return Draft(ctype, level, description, meta, path_text, tree_path, timestamp, before, after)


def workspace_path(workdir: Path, path: str | os.PathLike[str]) -> str:
    """The full path of a workspace file to read; refused if a symlinked folder leads out."""
    text = os.fspath(path)
    to_tree_path(text, workdir)  # validates the name
    full = os.path.normpath(os.path.join(workdir, text))
    work = os.path.realpath(workdir)
    inside = os.path.commonpath([full, str(workdir)]) == str(workdir)
    if inside:
        real_parent = os.path.realpath(os.path.dirname(full))
        if os.path.commonpath([real_parent, work]) != work:
            raise InvalidPathError(
                f"{text} leads outside the workspace {workdir} through a symlink"
            )
    return full


def refuse_secret_ids(redactor: Redactor, session_id: str, agent_id: str) -> None:
    """Refuse a session or agent id that holds a secret.

    Ids go into ref names, authors and trailers, where no marker can stand in.
    """
    for error, what, name in (
        (InvalidSessionIdError, "session id", session_id),
        (InvalidAgentIdError, "agent id", agent_id),
    ):
        fired = redactor.text(name)[1]
        if fired:
            raise error(f"the {what} holds a secret ({', '.join(fired)}); use another")


def _redacted_path(
    redactor: Redactor, file_path: str | os.PathLike[str], meta: dict[str, Any]
) -> str:
    """The path to record, with secrets replaced (and noted in ``meta``)."""
    path_text, fired = redactor.text(check_path(file_path))
    if fired:  # a secret in a path would reach the tree, trailers and entry.json
        noted = meta.get(REDACTIONS_KEY)
        noted = noted if isinstance(noted, dict) else {}
        meta[REDACTIONS_KEY] = dict(sorted({**noted, "file_path": fired}.items()))
        # the recorded path is not the file's: restoring to it must be refused
        meta["before_stored"] = meta["after_stored"] = False
    return path_text


def command_fields(
    command: str | Sequence[str],
    output: str,
    exit_code: int,
    stderr: str | None,
    duration: float | None,
    cwd: str | os.PathLike[str] | None,
) -> tuple[str, int, dict[str, Any]]:
    """A command's text, exit code and metadata (output and stderr bounded)."""
    if not isinstance(command, str) and not (
        isinstance(command, Sequence) and all(isinstance(c, str) for c in command)
    ):
        raise InvalidInputError("command must be a string or a sequence of strings")
    text = command if isinstance(command, str) else shlex.join(command)
    exit_code, duration = _numbers(exit_code, duration, "exit_code")
    meta: dict[str, Any] = {"command": text, "exit_code": exit_code}
    meta.update(_bounded("output", output))
    if stderr is not None:
        meta.update(_bounded("stderr", stderr))
    if duration is not None:
        meta["duration_seconds"] = round(float(duration), 6)
    if cwd is not None:
        meta["cwd"] = os.fspath(cwd)
    return text, exit_code, meta


def api_fields(
    endpoint: str,
    method: str,
    request_data: Any,
    response_data: Any,
    status_code: int | None,
    duration: float | None,
) -> dict[str, Any]:
    """An API call's metadata (method upper-cased, duration in seconds)."""
    if not isinstance(method, str):
        raise InvalidInputError("method must be a string")
    if status_code is not None:
        status_code, duration = _numbers(status_code, duration, "status_code")
    else:
        duration = _numbers(0, duration, "status_code")[1]
    meta: dict[str, Any] = {
        "endpoint": endpoint,
        "method": method.upper(),
        "request_data": request_data,
        "response_data": response_data,
        "status_code": status_code,
    }
    if duration is not None:
        meta["duration_seconds"] = round(float(duration), 6)
    return meta


def status_level(status_code: int | None) -> LogLevel:
    """Error for a 5xx status, warning for 4xx, else info."""
    code = status_code or 0
    return LogLevel.ERROR if code >= 500 else LogLevel.WARNING if code >= 400 else LogLevel.INFO


def _numbers(code: Any, duration: Any, name: str) -> tuple[int, float | None]:
    """An integer code and an optional duration in seconds, or InvalidInputError."""
    try:
        return int(code), None if duration is None else float(duration)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(
            f"{name} must be an integer and duration a number of seconds"
        ) from None


def _bounded(key: str, text: str) -> dict[str, Any]:
    if not isinstance(text, str):
        text = str(text)
    if len(text) <= MAX_TEXT_CHARS:
        return {key: text}
    return {key: text[:MAX_TEXT_CHARS], f"{key}_truncated": True, f"{key}_chars": len(text)}
