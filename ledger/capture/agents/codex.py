"""Codex CLI: hooks in ``.codex/hooks.json`` (project) or ``~/.codex/hooks.json`` (user).

Codex's hooks file has Claude Code's shape (event -> matcher groups -> command hooks) and
its events carry ``session_id``, ``turn_id``, ``cwd``, ``tool_name`` and ``tool_input``.
File edits come as ``apply_patch`` with the raw patch in ``tool_input.command`` and no file
path: the files are the patch's ``*** Add/Update/Delete File:`` (and ``*** Move to:``)
headers, snapshotted at PreToolUse and read again at PostToolUse, one entry per file.
Codex runs hooks only with ``[features] codex_hooks = true`` in its ``config.toml``.
"""

from __future__ import annotations

from typing import Any

from ledger.capture.agents.filestate import patch_text
from ledger.capture.agents.lifecycle import LIFECYCLE_EVENTS
from ledger.capture.agents.settings import JSONDict
from ledger.capture.agents.translate import Translating, shell_text

SHELL_TOOLS = ("Bash", "shell", "local_shell", "exec_command", "shell_command", "container.exec")


class Codex(Translating):
    """OpenAI Codex CLI's hooks."""

    name = "codex"
    agent_id = "codex"
    display = "Codex CLI"
    settings_folder = ".codex"
    settings_name = "hooks.json"
    id_keys = ("turn_id", "model", "transcript_path")

    def hook_entries(self, command: str) -> dict[str, list[JSONDict]]:
        hook = {"type": "command", "command": command, "timeout": 30}
        return {
            "SessionStart": [{"hooks": [hook]}],
            "UserPromptSubmit": [{"hooks": [hook]}],
            "PreToolUse": [{"matcher": "apply_patch", "hooks": [hook]}],
            "PostToolUse": [{"hooks": [hook]}],
            "Stop": [{"hooks": [hook]}],
        }

    def translate(self, event: JSONDict) -> list[JSONDict]:
        name = str(event.get("hook_event_name") or "")
        session = str(event.get("session_id") or "") or self.fallback_session(event)
        if name == "SessionStart":
            return [self.shaped(event, "SessionStart", session, source=event.get("source"))]
        if name == "UserPromptSubmit":
            return [self.shaped(event, "UserPromptSubmit", session, prompt=event.get("prompt"))]
        if name in ("SessionEnd", *LIFECYCLE_EVENTS):
            rest = {k: v for k, v in event.items() if k not in ("hook_event_name", "cwd")}
            return [self.shaped(event, name, session, **rest)]
        if name not in ("PreToolUse", "PostToolUse"):
            return []
        tool = str(event.get("tool_name") or "")
        tool_input = event.get("tool_input")
        patch = patch_text(tool_input)
        call = event.get("tool_use_id") or event.get("call_id")
        call = call if isinstance(call, str) and call else None
        if patch:
            phase = "before" if name == "PreToolUse" else "after"
            extra = {"patch": patch}
            return self.edit_events(
                event, phase, session, patch, None, extra, call=call, agent_tool=tool
            )
        if name == "PreToolUse":
            return []
        if tool in SHELL_TOOLS:
            args = tool_input if isinstance(tool_input, dict) else {"command": tool_input}
            command = shell_text(args.get("command") or args.get("cmd"))
            out, code, stderr = _shell_result(event.get("tool_response"))
            shaped = self.command_event(
                event,
                session,
                command,
                out,
                code,
                agent_tool=tool,
                workdir=args.get("workdir"),
                stderr=stderr,
            )
            return [shaped]
        if tool.startswith("mcp__"):
            given = tool_input if isinstance(tool_input, dict) else {}
            return [self.tool_event(event, session, tool, given, event.get("tool_response"))]
        return []


def _shell_result(response: Any) -> tuple[str, Any, str]:
    """A shell tool's output, exit code as given (None when not) and error output."""
    if isinstance(response, dict):
        out = str(response.get("stdout", response.get("output", "")))
        code = response.get("exit_code", response.get("exitCode"))
        return out, code, str(response.get("stderr", ""))
    return (response if isinstance(response, str) else ""), None, ""
