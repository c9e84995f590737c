"""Claude Code: its hook events (JSON on stdin) recorded as ledger entries.

PreToolUse of a file tool snapshots the file; PostToolUse records the change with exact
before/after states; Bash becomes a system_command, WebFetch/WebSearch and MCP tools
api_call entries; SessionStart/SessionEnd service_start/service_stop; UserPromptSubmit a
model_inference. See docs/agents.md for the full mapping.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ledger.capture.agents.base import (
    Adapter,
    Outcome,
    bounded,
    note,
    text_field,
)
from ledger.capture.agents.settings import JSONDict
from ledger.capture.agents.snapshots import Snapshots, read_current
from ledger.errors import AgentEventError
from ledger.types import ChangeType, LogLevel

FILE_TOOLS = ("Write", "Edit", "MultiEdit", "NotebookEdit")
API_TOOLS = ("WebFetch", "WebSearch")
TOOL_MATCHER = "|".join((*FILE_TOOLS, "Bash", *API_TOOLS, "mcp__.*"))
ENV_FILE = "CLAUDE_ENV_FILE"  # SessionStart hooks may export variables for later Bash calls


def _tool_input(event: JSONDict) -> JSONDict:
    value = event.get("tool_input")
    return value if isinstance(value, dict) else {}


def _file_of(event: JSONDict) -> str:
    tool_input = _tool_input(event)
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    if not isinstance(path, str) or not path:
        raise AgentEventError(f"{event.get('tool_name')} event has no file_path")
    if not os.path.isabs(path):
        cwd = event.get("cwd")
        path = os.path.join(cwd if isinstance(cwd, str) else os.getcwd(), path)
    return os.path.normpath(path)


def _shown(path: str, workdir: str) -> str:
    return os.path.relpath(path, workdir) if path.startswith(workdir + os.sep) else path


def _mcp_endpoint(tool: str) -> str:
    _, _, rest = tool.partition("mcp__")
    server, _, name = rest.partition("__")
    return f"mcp://{server}/{name}"


def _exit_code(error: str) -> int:
    found = re.search(r"[Ee]xit code:?\s*(-?\d+)", error)
    return int(found.group(1)) if found else 1


def _before_state(
    event: JSONDict, snaps: Snapshots, record: JSONDict | None, meta: dict[str, Any]
) -> tuple[bytes | None, bool]:
    """The file's state before the tool ran, and whether it is known (``before_from`` in meta).

    The PreToolUse snapshot is best; without one the tool's response may hold the original.
    """
    if record is not None:
        meta["before_from"] = "snapshot"
        before = snaps.content(record) if record.get("exists") else None
        # Existed but no content: too large to keep, or the blob is gone.
        return before, not (record.get("exists") and before is None)
    response = event.get("tool_response")
    original = response.get("originalFile") if isinstance(response, dict) else None
    kind = response.get("type") if isinstance(response, dict) else None
    if isinstance(original, str):
        meta["before_from"] = "tool_response"
        return original.encode("utf-8"), True
    if kind == "create":
        meta["before_from"] = "tool_response"
        return None, True
    meta["before_from"] = "unknown (no PreToolUse snapshot)"
    return None, False


def _change_type(before: bytes | None, known_before: bool, after: bytes | None) -> ChangeType:
    if before is None and known_before:
        return ChangeType.FILE_CREATE
    if after is None:
        return ChangeType.FILE_DELETE
    return ChangeType.FILE_UPDATE


class ClaudeCode(Adapter):
    """Claude Code's hooks (settings.json ``hooks``; events documented by Anthropic)."""

    name = "claude-code"
    agent_id = "claude-code"
    display = "Claude Code"
    settings_folder = ".claude"
    settings_name = "settings.json"
    # What another agent with the same shape of hooks overrides (see gemini_cli.py).
    file_tools: tuple[str, ...] = FILE_TOOLS
    command_tools: tuple[str, ...] = ("Bash",)
    api_tools: tuple[str, ...] = API_TOOLS
    pre_event = "PreToolUse"
    post_events: tuple[str, ...] = ("PostToolUse", "PostToolUseFailure")
    prompt_event = "UserPromptSubmit"
    env_file_var: str | None = ENV_FILE

    def hook_entries(self, command: str) -> dict[str, list[JSONDict]]:
        hook = {"type": "command", "command": command, "timeout": 30}
        return {
            "PreToolUse": [{"matcher": "|".join(FILE_TOOLS), "hooks": [hook]}],
            "PostToolUse": [{"matcher": TOOL_MATCHER, "hooks": [hook]}],
            "PostToolUseFailure": [{"matcher": TOOL_MATCHER, "hooks": [hook]}],
            "SessionStart": [{"hooks": [hook]}],
            "SessionEnd": [{"hooks": [hook]}],
            "UserPromptSubmit": [{"hooks": [hook]}],
        }

    def handle(self, event: JSONDict, ledger_dir: str | os.PathLike[str] | None) -> Outcome:
        name = text_field(event, "hook_event_name")
        session = self.session_for(text_field(event, "session_id"))
        raw_tool = event.get("tool_name")
        tool = raw_tool if isinstance(raw_tool, str) else ""
        if name == self.pre_event:
            if tool not in self.file_tools:
                return Outcome("ignored", name, f"no snapshot needed for {tool or 'no tool'}")
            logger = self.logger(event, session, ledger_dir)
            logger.store.ensure()
            path = _file_of(event)
            Snapshots(logger.store, self.name).take(session, self._call(event), path)
            return Outcome("snapshot", name, path)
        if name in self.post_events:
            failed = self.is_failure(name, event)
            if tool in self.file_tools:
                return self._file_change(event, session, ledger_dir, failed)
            if tool in self.command_tools:
                return self._command(event, session, ledger_dir, failed)
            if tool in self.api_tools or tool.startswith("mcp__"):
                return self._api_call(event, session, ledger_dir, failed)
            note(ledger_dir, self.name, f"unknown tool {tool!r} in {name}; not recorded")
            return Outcome("ignored", name, f"unknown tool {tool!r}")
        if name in ("SessionStart", "SessionEnd", self.prompt_event):
            return self._session_event(name, event, session, ledger_dir)
        note(ledger_dir, self.name, f"unknown event {name!r} of session {session}; not recorded")
        return Outcome("ignored", name, f"unknown event {name!r}")

    # -- what differs between agents ------------------------------------------------------
    def is_failure(self, name: str, event: JSONDict) -> bool:
        """True for the event that follows a failed tool call."""
        return name == "PostToolUseFailure"

    def error_of(self, event: JSONDict) -> str:
        """The error message of a failed tool call."""
        return str(event.get("error", ""))

    def command_result(self, event: JSONDict, failed: bool) -> tuple[int, str, str, bool]:
        """Exit code, output, stderr and whether it was interrupted, for a shell tool."""
        if failed:
            error = self.error_of(event)
            return _exit_code(error), "", error, bool(event.get("is_interrupt", False))
        response = event.get("tool_response")
        response = response if isinstance(response, dict) else {}
        # PostToolUse only follows a command that succeeded.
        return (
            0,
            str(response.get("stdout", "")),
            str(response.get("stderr", "")),
            bool(response.get("interrupted", False)),
        )

    def api_target(
        self, tool: str, tool_input: JSONDict, response: Any
    ) -> tuple[str, str, int | None]:
        """Endpoint, method and status code of a web or MCP tool call."""
        if tool == "WebFetch":
            code = response.get("code") if isinstance(response, dict) else None
            return str(tool_input.get("url", "")), "GET", code if isinstance(code, int) else None
        if tool == "WebSearch":
            return "web-search", "SEARCH", None
        return _mcp_endpoint(tool), "CALL", None

    # -- the mappings ------------------------------------------------------------------
    @staticmethod
    def _call(event: JSONDict) -> str:
        call = event.get("tool_use_id")
        if isinstance(call, str) and call:
            return call
        # Older versions send no tool_use_id: one pending snapshot per file then.
        return "file:" + _file_of(event)

    def _common(self, event: JSONDict) -> dict[str, Any]:
        meta: dict[str, Any] = {"hook_event": event.get("hook_event_name")}
        for key in ("tool_name", "tool_use_id", "transcript_path", "permission_mode", "agent_type"):
            value = event.get(key)
            if isinstance(value, str) and value:
                meta[key] = value
        return meta

    def _file_change(
        self,
        event: JSONDict,
        session: str,
        ledger_dir: str | os.PathLike[str] | None,
        failed: bool,
    ) -> Outcome:
        name = str(event["hook_event_name"])
        logger = self.logger(event, session, ledger_dir)
        path = _file_of(event)
        snaps = Snapshots(logger.store, self.name)
        record = snaps.pop(session, self._call(event)) if logger.store.exists else None
        meta = self._common(event)
        before, known_before = _before_state(event, snaps, record, meta)
        after = read_current(path)
        if failed:
            meta["error"] = bounded(self.error_of(event))
            if known_before and before == after:
                note(
                    ledger_dir,
                    self.name,
                    f"{event.get('tool_name')} failed on {path}: file unchanged; not recorded",
                )
                return Outcome("ignored", name, "failed tool, file unchanged")
        tool_input = _tool_input(event)
        for key in ("old_string", "new_string", "replace_all", "edits", "cell_id", "edit_mode"):
            if key in tool_input:
                meta[key] = bounded(tool_input[key], 20_000)
        ctype = _change_type(before, known_before, after)
        verb = {ChangeType.FILE_CREATE: "Created", ChangeType.FILE_DELETE: "Deleted"}.get(
            ctype, "Updated"
        )
        entry = logger.log_file_change(
            path,
            ctype,
            before_content=before,
            after_content=after,
            description=f"{verb} {_shown(path, str(logger.workdir))} ({event.get('tool_name')})",
            metadata=meta,
            level=LogLevel.WARNING if failed else LogLevel.INFO,
        )
        return Outcome("recorded", name, path, entry.id)

    def _command(
        self,
        event: JSONDict,
        session: str,
        ledger_dir: str | os.PathLike[str] | None,
        failed: bool,
    ) -> Outcome:
        tool_input = _tool_input(event)
        command = tool_input.get("command")
        if not isinstance(command, str):
            raise AgentEventError(f"{event.get('tool_name')} event has no command")
        meta = self._common(event)
        code, output, stderr, interrupted = self.command_result(event, failed)
        meta.update(output=bounded(output), stderr=bounded(stderr), interrupted=interrupted)
        meta.update(command=command, exit_code=code)
        if isinstance(event.get("cwd"), str):
            meta["cwd"] = event["cwd"]
        for key in ("description", "run_in_background", "timeout", "directory"):
            if key in tool_input:
                meta[key] = tool_input[key]
        logger = self.logger(event, session, ledger_dir)
        entry = logger.log(
            ChangeType.SYSTEM_COMMAND,
            f"Executed: {command}",
            meta,
            LogLevel.INFO if code == 0 else LogLevel.ERROR,
        )
        return Outcome("recorded", str(event["hook_event_name"]), command, entry.id)

    def _api_call(
        self,
        event: JSONDict,
        session: str,
        ledger_dir: str | os.PathLike[str] | None,
        failed: bool,
    ) -> Outcome:
        tool = str(event.get("tool_name"))
        tool_input = _tool_input(event)
        response = event.get("tool_response")
        endpoint, method, status = self.api_target(tool, tool_input, response)
        meta = self._common(event)
        meta.update(
            endpoint=endpoint,
            method=method,
            request_data=bounded(tool_input),
            response_data=bounded(response) if not failed else None,
            status_code=status,
        )
        if failed:
            meta["error"] = bounded(self.error_of(event))
        level = (
            LogLevel.ERROR
            if failed or (status or 0) >= 500
            else (LogLevel.WARNING if (status or 0) >= 400 else LogLevel.INFO)
        )
        shown = f" -> {status}" if status is not None else (" -> failed" if failed else "")
        logger = self.logger(event, session, ledger_dir)
        entry = logger.log(ChangeType.API_CALL, f"{method} {endpoint}{shown}", meta, level)
        return Outcome("recorded", str(event["hook_event_name"]), endpoint, entry.id)

    def _session_event(
        self,
        name: str,
        event: JSONDict,
        session: str,
        ledger_dir: str | os.PathLike[str] | None,
    ) -> Outcome:
        meta = self._common(event)
        meta["agent_session_id"] = event.get("session_id")
        if isinstance(event.get("cwd"), str):
            meta["cwd"] = event["cwd"]
        logger = self.logger(event, session, ledger_dir)
        if name == "SessionStart":
            source = str(event.get("source", "startup"))
            meta["source"] = source
            if isinstance(event.get("model"), str):
                meta["model"] = event["model"]
            entry = logger.log(
                ChangeType.SERVICE_START, f"{self.display} session started ({source})", meta
            )
            self._export_session(session, logger.ledger_dir)
        elif name == "SessionEnd":
            reason = str(event.get("reason", "other"))
            meta["reason"] = reason
            if logger.store.exists:
                abandoned = Snapshots(logger.store, self.name).clear(session)
                if abandoned:
                    meta["abandoned_snapshots"] = abandoned
            entry = logger.log(
                ChangeType.SERVICE_STOP, f"{self.display} session ended ({reason})", meta
            )
        else:
            prompt = event.get("prompt")
            if not isinstance(prompt, str):
                raise AgentEventError(f"{name} event has no prompt")
            meta["prompt"] = bounded(prompt)
            first = prompt.strip().splitlines()[0] if prompt.strip() else ""
            entry = logger.log(ChangeType.MODEL_INFERENCE, f"Prompt: {first}", meta)
        return Outcome("recorded", name, "", entry.id)

    def _export_session(self, session: str, ledger_dir: os.PathLike[str]) -> None:
        """Make the session's git commits land in it too (Bash calls see these variables)."""
        target = os.environ.get(self.env_file_var) if self.env_file_var else None
        if not target:
            return
        lines = f"export GIT_LEDGER_SESSION={session}\nexport GIT_LEDGER_AGENT={self.agent_id}\n"
        try:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(lines)
        except OSError as exc:
            what = f"cannot write {self.env_file_var} {target}: {exc.strerror}"
            note(ledger_dir, self.name, what)
