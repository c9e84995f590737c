"""Which files an agent's hook event touches, and their states, with the standard library only.

The agent hook reads files at the moment the agent calls it (a before-state at a "pre"
event, an after-state at a "post" event) and spools them with the event, so that the
drainer records exactly the bytes the tool saw, however late it runs. This module is
imported by that hook, so it must not import pygit2, click or anything heavy.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from collections.abc import Mapping
from typing import Any

MAX_STATE_BYTES = 64 * 1024 * 1024
SPOOLED = "_ledger"  # the key under which the hook adds its own facts to an event

JSONDict = dict[str, Any]

# -- file states --------------------------------------------------------------------------------


def read_state(path: str) -> JSONDict:
    """A file's state now: ``{"exists", "data" (base64) | "too_large", "symlink"}``.

    A symlink is kept as its target; a folder or device is ``{"exists": True, "special": …}``.
    """
    record: JSONDict = {"exists": False}
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return record
    except OSError as exc:
        return {"exists": True, "unreadable": exc.strerror or str(exc)}
    record["exists"] = True
    try:
        if stat.S_ISLNK(st.st_mode):
            data = os.fsencode(os.readlink(path))
            record["symlink"] = True
        elif not stat.S_ISREG(st.st_mode):
            record["special"] = stat.filemode(st.st_mode)
            return record
        elif st.st_size > MAX_STATE_BYTES:
            record["too_large"] = st.st_size
            return record
        else:
            with open(path, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        return {"exists": True, "unreadable": exc.strerror or str(exc)}
    record["data"] = base64.b64encode(data).decode("ascii")
    record["size"] = len(data)
    return record


def content(record: Mapping[str, Any]) -> bytes | None:
    """The bytes a state record holds (None when the file did not exist or was not kept)."""
    data = record.get("data")
    return base64.b64decode(data) if isinstance(data, str) else None


def given_state(event: Mapping[str, Any], path: str) -> JSONDict | None:
    """The state the hook spooled with ``event`` for ``path`` (None: read the disk instead)."""
    extra = event.get(SPOOLED)
    files = extra.get("files") if isinstance(extra, dict) else None
    record = files.get(path) if isinstance(files, dict) else None
    return record if isinstance(record, dict) else None


# -- which files an event touches --------------------------------------------------------------
_PATCH_HEADER = re.compile(r"^\s*\*\*\* (Add|Update|Delete) File: (.+?)\s*$", re.M)
_PATCH_MOVE = re.compile(r"^\s*\*\*\* Move to: (.+?)\s*$", re.M)


def patch_files(patch: str) -> list[tuple[str, str]]:
    """``(action, path)`` for every file an apply_patch envelope names, in order.

    Actions: ``add``, ``update``, ``delete``, and ``move`` for the target of a
    ``*** Move to:`` line (the source is then deleted).
    """
    out: list[tuple[str, str]] = []
    marks = sorted(
        [(m.start(), m.group(1).lower(), m.group(2)) for m in _PATCH_HEADER.finditer(patch)]
        + [(m.start(), "move", m.group(1)) for m in _PATCH_MOVE.finditer(patch)]
    )
    for _, action, path in marks:
        if (action, path) not in out:
            out.append((action, path))
    return out


def patch_text(tool_input: Any) -> str:
    """The patch of an apply_patch call (Codex puts it in ``command``, ``patch`` or ``input``)."""
    if isinstance(tool_input, str):
        return tool_input if "*** Begin Patch" in tool_input else ""
    if not isinstance(tool_input, dict):
        return ""
    for key in ("command", "patch", "input", "patchText"):
        value = tool_input.get(key)
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        if isinstance(value, str) and "*** Begin Patch" in value:
            return value
    return ""


def absolute(path: str, cwd: str | None) -> str:
    """``path`` made absolute against the event's folder (or ours) and normalised."""
    if not os.path.isabs(path):
        path = os.path.join(cwd or os.getcwd(), path)
    return os.path.normpath(path)


def as_dict(value: Any) -> JSONDict:
    """A JSON object given as an object or as a JSON string ({} otherwise)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _path_in(args: Mapping[str, Any]) -> list[str]:
    for key in ("file_path", "filePath", "path", "notebook_path"):
        value = args.get(key)
        if isinstance(value, str) and value:
            return [value]
    return []


CLAUDE_FILE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
GEMINI_FILE_TOOLS = frozenset({"write_file", "replace"})
COPILOT_FILE_TOOLS = frozenset({"edit", "create", "write", "str_replace_editor", "apply_patch"})
OPENCODE_FILE_TOOLS = frozenset({"edit", "write", "patch", "multiedit", "apply_patch"})


def event_cwd(agent: str, event: Mapping[str, Any]) -> str | None:
    """The folder an event's relative paths are relative to."""
    if agent == "cursor":
        roots = event.get("workspace_roots")
        if isinstance(roots, list) and roots and isinstance(roots[0], str):
            return roots[0]
    cwd = event.get("cwd") or event.get("directory")
    return cwd if isinstance(cwd, str) and cwd else None


def touched(agent: str, event: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``("before" | "after" | "", absolute paths)``: what the hook must read for this event."""
    name = str(event.get("hook_event_name") or "")
    tool = str(event.get("tool_name") or event.get("toolName") or event.get("tool") or "")
    phase, paths = "", []
    if agent in ("claude-code", "gemini-cli"):
        pre, tools = (
            ("PreToolUse", CLAUDE_FILE_TOOLS)
            if agent == "claude-code"
            else ("BeforeTool", GEMINI_FILE_TOOLS)
        )
        if tool in tools:
            phase = "before" if name == pre else "after"
            paths = _path_in(as_dict(event.get("tool_input")))
    elif agent == "codex":
        patch = patch_text(event.get("tool_input"))
        if patch and name in ("PreToolUse", "PostToolUse"):
            phase = "before" if name == "PreToolUse" else "after"
            paths = [p for _, p in patch_files(patch)]
    elif agent == "cursor":
        if name in ("afterFileEdit", "afterTabFileEdit"):
            phase, paths = "after", _path_in(event)
    elif agent == "copilot-cli":
        if tool in COPILOT_FILE_TOOLS and name in ("preToolUse", "postToolUse"):
            args = as_dict(event.get("toolArgs"))
            phase = "before" if name == "preToolUse" else "after"
            paths = [p for _, p in patch_files(patch_text(args))] or _path_in(args)
    elif agent == "opencode" and tool in OPENCODE_FILE_TOOLS and name.startswith("tool.execute."):
        args = as_dict(event.get("args"))
        phase = "before" if name == "tool.execute.before" else "after"
        paths = [p for _, p in patch_files(patch_text(args))] or _path_in(args)
    if not paths:
        return "", []
    cwd = event_cwd(agent, event)
    return phase, [absolute(p, cwd) for p in paths]
