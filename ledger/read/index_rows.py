"""One query-index row per entry commit, read straight from its ``entry.json``, and the
searchable forms of an entry (its text, its file, a path's bounds) that queries compare
with those rows."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import pygit2

from ledger._graph import entry_blob
from ledger._names import from_tree_path
from ledger.dates import micros
from ledger.entry import Entry, parse_timestamp
from ledger.errors import InvalidInputError
from ledger.read.repos import entry_repo


def _values(value: Any, out: list[str]) -> None:
    """Every leaf of ``value`` as text, in order: strings as they are, other values as JSON
    writes them. Strings, lists and dicts are told apart before the Mapping check (an
    abstract-class check, slow), and ints and booleans written directly, since most of an
    index build's values are those."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _values(item, out)
    elif isinstance(value, dict | Mapping):
        for item in value.values():
            _values(item, out)
    elif value is None:
        return
    elif type(value) is bool:
        out.append("true" if value else "false")
    elif type(value) is int:
        out.append(int.__repr__(value))
    else:
        out.append(json.dumps(value))


def search_text(entry: Entry) -> str:
    """What full-text search looks at, lower-cased: the description and every metadata value
    (command, output, decision, reasoning, endpoint and the rest)."""
    parts = [entry.description]
    _values(entry.metadata, parts)
    return "\n".join(parts).lower()


def entry_file(entry: Entry) -> str | None:
    """The entry's path in workspace-relative form (from its tree path), if it has one."""
    if entry.tree_path:
        try:
            return from_tree_path(entry.tree_path)
        except (InvalidInputError, ValueError):
            return None
    return None


def path_bounds(path: str) -> tuple[str, str, str]:
    """For a path query: (exact value, folder prefix, end of the folder's range)."""
    exact = path.rstrip("/") if path != "/" else path
    prefix = exact if exact.endswith("/") else exact + "/"
    return exact, prefix, prefix[:-1] + chr(ord("/") + 1)


ROW_MARKS = ",".join("?" * 14)
_COMMAND = "system_command"
_API = "api_call"


_IN_FULL_TYPES = frozenset({"deployment", "config_change"})
_ERROR_LEVELS = frozenset({"error", "critical"})


def _extra(
    ctype: str, meta: Mapping[str, Any], description: str, full: Mapping[str, Any] | None = None
) -> str | None:
    """What the audit lists of a command or an API call, kept so that it need not read it;
    ``full``: the whole entry, for the entries the audit shows in full."""
    row: dict[str, Any]
    if ctype == _COMMAND:
        row = {"command": meta.get("command", description), "exit_code": meta.get("exit_code"),
               "duration_seconds": meta.get("duration_seconds")}
    elif ctype == _API:
        row = {"method": meta.get("method"), "endpoint": meta.get("endpoint"),
               "status_code": meta.get("status_code"),
               "duration_seconds": meta.get("duration_seconds")}
    else:
        row = {}
    if meta.get("undo_kind"):  # restore and revert writes: the audit's timeline lists them
        row.update(undo_kind=meta.get("undo_kind"), undo_of=meta.get("undo_of"),
                   description=description)
    if full is not None:
        row["entry"] = full
    if not row:
        return None
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def _in_full(
    commit: pygit2.Commit, raw: bytes, ctype: str, level: str
) -> dict[str, Any] | None:
    """The entry as the audit shows it in full (errors, deployments, configuration changes)."""
    if ctype not in _IN_FULL_TYPES and level not in _ERROR_LEVELS:
        return None
    try:
        return Entry.from_json(str(commit.id), bytes(raw)).to_dict()
    except ValueError:
        return None  # the audit reads it from git and says what is wrong


def entry_row(commit: pygit2.Commit, session: str) -> tuple[Any, ...] | None:
    """The index row of an entry commit, straight from its entry.json (None if it has none).

    Reads the JSON without building an Entry: the same fields, for a fraction of the cost.
    """
    blob = entry_blob(commit)
    if blob is None:
        return None
    try:
        data = json.loads(blob.data)
        meta = data.get("metadata") or {}
        parts = [data["description"]]
        _values(meta, parts)
        tree_path = data.get("tree_path")
        file = None
        if tree_path:
            with contextlib.suppress(InvalidInputError, ValueError):
                file = from_tree_path(tree_path)
        ctype = str(data["change_type"])
        return (
            str(commit.id),
            session,
            micros(parse_timestamp(data["timestamp"])),
            ctype,
            str(data["level"]).lower(),
            str(data["agent_id"]),
            file,
            data.get("file_path"),
            "\n".join(parts).lower(),
            str(data["session_id"]),
            int(bool(data.get("drift", False))),
            _extra(ctype, meta if isinstance(meta, Mapping) else {}, data["description"],
                   _in_full(commit, blob.data, ctype, str(data["level"]).lower())),
            *entry_repo(meta),
        )
    except (ValueError, KeyError, TypeError):
        return None
