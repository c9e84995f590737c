"""Agents whose events are translated into Claude Code's shape, then recorded alike.

An adapter here turns one native event into zero or more Claude-shaped events
(``PreToolUse``/``PostToolUse``/``PostToolUseFailure`` of ``Write``/``Edit``/``Bash``/
``WebFetch``/``mcp__…``, ``SessionStart``, ``SessionEnd``, ``UserPromptSubmit``, ``Stop``…),
so every agent gets the same exact before/after states, the same entry types and the same
metadata. The agent's own event name and ids are kept in the metadata.
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
import shlex
from typing import Any

from ledger.capture.agents.base import Outcome, note
from ledger.capture.agents.claude_code import API_TOOLS, FILE_TOOLS, ClaudeCode
from ledger.capture.agents.filestate import SPOOLED, absolute, event_cwd, patch_files
from ledger.capture.agents.settings import JSONDict


def shell_text(command: Any) -> str:
    """A shell command given as a string or an argv list."""
    if isinstance(command, list):
        return shlex.join(str(c) for c in command)
    return command if isinstance(command, str) else ""


def exit_code_in(text: str) -> int | None:
    found = re.search(r"exit(?:ed with)? code:?\s*(-?\d+)", text, re.I)
    return int(found.group(1)) if found else None


class Translating(ClaudeCode):
    """An agent recorded through Claude Code's mappings."""

    file_tools = FILE_TOOLS
    command_tools = ("Bash",)
    api_tools = API_TOOLS
    env_file_var = None
    id_keys: tuple[str, ...] = ()  # native ids kept in the metadata

    @abc.abstractmethod
    def translate(self, event: JSONDict) -> list[JSONDict]:
        """The Claude-shaped events of one native event ([] for one we do not record)."""

    def handle(self, event: JSONDict, ledger_dir: str | os.PathLike[str] | None) -> Outcome:
        native = str(event.get("hook_event_name") or "")
        outcomes = [ClaudeCode.handle(self, e, ledger_dir) for e in self.translate(event)]
        if not outcomes:
            note(ledger_dir, self.name, f"event {native!r} not recorded")
            return Outcome("ignored", native, f"event {native!r} not recorded")
        recorded = [o for o in outcomes if o.status == "recorded"]
        return recorded[-1] if recorded else outcomes[-1]

    def shaped(
        self,
        event: JSONDict,
        name: str,
        session: str,
        agent_tool: str | None = None,
        **fields: Any,
    ) -> JSONDict:
        """A Claude-shaped event carrying the native event's facts (and the agent's tool)."""
        cwd = event_cwd(self.name, event)
        out: JSONDict = {
            "hook_event_name": name,
            "session_id": session,
            "agent_event": event.get("hook_event_name"),
            "agent_ids": {k: event[k] for k in self.id_keys if isinstance(event.get(k), str)},
        }
        if agent_tool is not None:
            out["agent_ids"]["agent_tool"] = agent_tool
        if cwd:
            out["cwd"] = cwd
        if SPOOLED in event:
            out[SPOOLED] = event[SPOOLED]
        out.update(fields)
        return out

    def fallback_session(self, event: JSONDict) -> str:
        """A session id for events that carry none: one per folder and day."""
        cwd = event_cwd(self.name, event) or os.getcwd()
        digest = hashlib.sha256(cwd.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return f"{self.name}-{digest}"

    def _common(self, event: JSONDict) -> dict[str, Any]:
        meta = super()._common(event)
        if event.get("agent_event"):
            meta["agent_event"] = event["agent_event"]
        ids = event.get("agent_ids")
        if isinstance(ids, dict):
            meta.update({k: v for k, v in ids.items() if k not in meta})
        return meta

    def command_result(self, event: JSONDict, failed: bool) -> tuple[int, str, str, bool]:
        response = event.get("tool_response")
        response = response if isinstance(response, dict) else {}
        code = response.get("exit_code")
        if not isinstance(code, int):
            code = 1 if failed else 0
        stderr = str(response.get("stderr", "") or (self.error_of(event) if failed else ""))
        return (
            code,
            str(response.get("stdout", "")),
            stderr,
            bool(response.get("interrupted", False)),
        )

    def file_events(
        self,
        event: JSONDict,
        phase: str,
        session: str,
        paths: list[str],
        call: str | None,
        extra: JSONDict,
        failed: str = "",
        agent_tool: str | None = None,
    ) -> list[JSONDict]:
        """One Pre/PostToolUse ``Write`` per file (an edit of several files is several)."""
        name = "PreToolUse" if phase == "before" else "PostToolUse"
        if failed and phase == "after":
            name = "PostToolUseFailure"
        out = []
        for path in paths:
            fields: JSONDict = {
                "tool_name": "Write",
                "tool_input": {"file_path": path, **extra},
            }
            if failed:
                fields["error"] = failed
            if call:
                fields["tool_use_id"] = f"{call}|{path}"
            out.append(self.shaped(event, name, session, agent_tool, **fields))
        return out

    def edit_events(
        self,
        event: JSONDict,
        phase: str,
        session: str,
        patch: str,
        path: Any,
        extra: JSONDict,
        *,
        call: str | None = None,
        failed: str = "",
        agent_tool: str | None = None,
    ) -> list[JSONDict]:
        """The file events of an edit: one per file its ``patch`` names, else of ``path``.

        Relative paths are taken against the event's folder; ``agent_tool`` (the agent's own
        tool name) is kept in each event's ids.
        """
        raw = [p for _, p in patch_files(patch)] if patch else []
        if not raw and isinstance(path, str):
            raw = [path]
        cwd = event_cwd(self.name, event)
        paths = [absolute(p, cwd) for p in raw]
        return self.file_events(event, phase, session, paths, call, extra, failed, agent_tool)

    def tool_event(
        self,
        event: JSONDict,
        session: str,
        tool_name: str,
        tool_input: Any,
        tool_response: Any,
        agent_tool: str | None = None,
    ) -> JSONDict:
        """A ``PostToolUse`` of a finished tool call (``agent_tool``: the agent's own name)."""
        fields = {"tool_name": tool_name, "tool_input": tool_input, "tool_response": tool_response}
        return self.shaped(event, "PostToolUse", session, agent_tool, **fields)

    def command_event(
        self,
        event: JSONDict,
        session: str,
        command: Any,
        output: str,
        code: Any,
        *,
        failed_code: int = 0,
        agent_tool: str | None = None,
        workdir: Any = None,
        **response: Any,
    ) -> JSONDict:
        """A finished shell command as a ``PostToolUse`` of ``Bash`` (a command entry).

        Its exit code is ``code`` when that is an int, else the one ``output`` reports, else
        ``failed_code``; ``response`` adds fields to the tool response after ``exit_code``;
        a ``workdir`` given as a string is kept in the tool input.
        """
        if not isinstance(code, int):
            found = exit_code_in(output)
            code = found if found is not None else failed_code
        result = {"stdout": output, "exit_code": code, **response}
        command_input = {"command": str(command or "")}
        if isinstance(workdir, str):
            command_input["workdir"] = workdir
        return self.tool_event(event, session, "Bash", command_input, result, agent_tool)
