"""Cursor: hooks in ``.cursor/hooks.json`` (project) or ``~/.cursor/hooks.json`` (user).

``{"version": 1, "hooks": {event: [{"command": …}]}}``. Events carry ``conversation_id``,
``generation_id``, ``hook_event_name`` and ``workspace_roots``. ``afterFileEdit`` comes after
the edit with ``file_path`` and ``edits[{old_string, new_string}]``: the hook reads the file
then, and the before-state is rebuilt by undoing the edits, last first (when an edit cannot
be undone unambiguously the before-state is marked unknown rather than guessed).
``afterShellExecution`` gives ``command``, ``output`` and ``duration``; ``afterMCPExecution``
``tool_name``, ``tool_input`` and ``result_json``; ``beforeSubmitPrompt`` the ``prompt``;
``stop`` the turn's ``status``.
"""

from __future__ import annotations

from typing import Any

from ledger.capture.agents.filestate import absolute, as_dict, event_cwd
from ledger.capture.agents.settings import JSONDict
from ledger.capture.agents.snapshots import read_current
from ledger.capture.agents.translate import Translating

EVENTS = (
    "sessionStart",
    "sessionEnd",
    "beforeSubmitPrompt",
    "afterFileEdit",
    "afterShellExecution",
    "afterMCPExecution",
    "stop",
)


def undo_edits(after: bytes, edits: list[Any]) -> bytes | None:
    """The file before ``edits`` given the file after them; None when that is not certain."""
    try:
        text = after.decode("utf-8")
    except UnicodeDecodeError:
        return None
    for edit in reversed(edits):
        if not isinstance(edit, dict):
            return None
        old, new = edit.get("old_string"), edit.get("new_string")
        if not isinstance(old, str) or not isinstance(new, str) or not new:
            return None  # a pure deletion leaves nothing to find
        if text.count(new) != 1:
            return None  # absent, or ambiguous: do not guess
        text = text.replace(new, old, 1)
    return text.encode("utf-8")


class Cursor(Translating):
    """Cursor's agent hooks."""

    name = "cursor"
    agent_id = "cursor"
    display = "Cursor"
    settings_folder = ".cursor"
    settings_name = "hooks.json"
    flat_key = "command"
    reply = '{"continue": true}'
    id_keys = ("generation_id", "model", "cursor_version")

    def hook_entries(self, command: str) -> dict[str, list[JSONDict]]:
        return {event: [{"command": command}] for event in EVENTS}

    def translate(self, event: JSONDict) -> list[JSONDict]:
        name = str(event.get("hook_event_name") or "")
        session = str(event.get("conversation_id") or "") or self.fallback_session(event)
        if name == "sessionStart":
            return [self.shaped(event, "SessionStart", session, source="startup")]
        if name == "sessionEnd":
            return [self.shaped(event, "SessionEnd", session, reason=event.get("reason"))]
        if name == "beforeSubmitPrompt":
            return [self.shaped(event, "UserPromptSubmit", session, prompt=event.get("prompt"))]
        if name == "stop":
            status = str(event.get("status") or "completed")
            kind = "Stop" if status == "completed" else "StopFailure"
            return [self.shaped(event, kind, session, reason=status, error=status)]
        if name in ("afterFileEdit", "afterTabFileEdit"):
            return self._edit(event, session)
        if name == "afterShellExecution":
            output = str(event.get("output") or "")
            shaped = self.command_event(
                event,
                session,
                event.get("command"),
                output,
                event.get("exit_code"),
                duration=event.get("duration"),
            )
            return [shaped]
        if name == "afterMCPExecution":
            tool = str(event.get("tool_name") or "tool")
            result = as_dict(event.get("result_json")) or event.get("result_json")
            tool_input = as_dict(event.get("tool_input"))
            return [self.tool_event(event, session, f"mcp__cursor__{tool}", tool_input, result)]
        return []

    def _edit(self, event: JSONDict, session: str) -> list[JSONDict]:
        raw = event.get("file_path")
        if not isinstance(raw, str) or not raw:
            return []
        path = absolute(raw, event_cwd(self.name, event))
        given = event.get("edits")
        edits: list[Any] = given if isinstance(given, list) else []
        after = read_current(path, event)
        before = undo_edits(after, edits) if after is not None else None
        response: JSONDict = {"filePath": path}
        if before is not None:
            response["originalFile"] = before.decode("utf-8")
        tool_input = {"file_path": path, "edits": edits}
        shaped = self.tool_event(event, session, "Edit", tool_input, response)
        shaped["agent_ids"]["before_rebuilt_from_edits"] = before is not None
        return [shaped]
