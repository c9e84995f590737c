"""GitHub Copilot CLI: hooks in ``.github/hooks/*.json`` of the repository.

``{"version": 1, "hooks": {event: [{"type": "command", "bash": …, "timeoutSec": …}]}}``;
we own ``.github/hooks/git-ledger.json``. Events (camelCase) do not name themselves, so each
hook sets ``GIT_LEDGER_EVENT`` in its ``env``. Payloads carry ``sessionId``, ``timestamp``,
``cwd``; tool events ``toolName`` and ``toolArgs`` (a JSON string); ``postToolUse`` also
``toolResult{resultType, textResultForLlm}``; ``userPromptSubmitted`` the ``prompt``;
``sessionStart`` the ``source``; ``sessionEnd`` the ``reason``; ``errorOccurred`` the ``error``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.capture.agents.filestate import as_dict, patch_text
from ledger.capture.agents.settings import JSONDict
from ledger.capture.agents.translate import Translating
from ledger.errors import AgentSettingsError

EVENTS = (
    "sessionStart",
    "sessionEnd",
    "userPromptSubmitted",
    "preToolUse",
    "postToolUse",
    "agentStop",
    "errorOccurred",
)
FILE_TOOLS = ("edit", "create", "write", "str_replace_editor", "apply_patch")
SHELL_TOOLS = ("bash", "shell", "powershell")
FETCH_TOOLS = ("web_fetch", "fetch")


def infer_event(event: JSONDict) -> str:
    """The event of a payload whose hook did not say (older installs)."""
    if "toolResult" in event:
        return "postToolUse"
    if "toolName" in event:
        return "preToolUse"
    if "prompt" in event:
        return "userPromptSubmitted"
    if "reason" in event:
        return "sessionEnd"
    if "source" in event:
        return "sessionStart"
    if "error" in event:
        return "errorOccurred"
    return ""


class CopilotCli(Translating):
    """GitHub Copilot CLI's hooks."""

    name = "copilot-cli"
    agent_id = "copilot-cli"
    display = "Copilot CLI"
    settings_folder = os.path.join(".github", "hooks")
    settings_name = "git-ledger.json"
    flat_key = "bash"
    flat_owned = True

    def hook_entries(self, command: str) -> dict[str, list[JSONDict]]:
        return {
            event: [
                {
                    "type": "command",
                    "bash": command,
                    "timeoutSec": 30,
                    "env": {"GIT_LEDGER_EVENT": event},
                }
            ]
            for event in EVENTS
        }

    def settings_path(self, scope: str, project: str | os.PathLike[str] | None = None) -> Path:
        if scope != "project":
            raise AgentSettingsError(
                "Copilot CLI reads hooks from the repository's .github/hooks only (use --project)"
            )
        return super().settings_path(scope, project)

    def translate(self, event: JSONDict) -> list[JSONDict]:
        name = str(event.get("hook_event_name") or "") or infer_event(event)
        event["hook_event_name"] = name
        session = str(event.get("sessionId") or "") or self.fallback_session(event)
        if name == "sessionStart":
            return [self.shaped(event, "SessionStart", session, source=event.get("source"))]
        if name == "sessionEnd":
            return [self.shaped(event, "SessionEnd", session, reason=event.get("reason"))]
        if name == "userPromptSubmitted":
            return [self.shaped(event, "UserPromptSubmit", session, prompt=event.get("prompt"))]
        if name == "agentStop":
            return [self.shaped(event, "Stop", session)]
        if name == "errorOccurred":
            error = event.get("error")
            message = error.get("message") if isinstance(error, dict) else error
            return [self.shaped(event, "StopFailure", session, error=str(message or "error"))]
        if name in ("preToolUse", "postToolUse"):
            return self._tool(event, name, session)
        return []

    def _tool(self, event: JSONDict, name: str, session: str) -> list[JSONDict]:
        tool = str(event.get("toolName") or "")
        args = as_dict(event.get("toolArgs"))
        result = as_dict(event.get("toolResult"))
        kind = str(result.get("resultType") or "success")
        text = str(result.get("textResultForLlm") or "")
        failed = text or kind if kind != "success" else ""
        if tool in FILE_TOOLS:
            if name == "postToolUse" and kind == "denied":
                return []
            extra = {k: args[k] for k in ("old_str", "new_str") if isinstance(args.get(k), str)}
            if extra:
                extra = {"old_string": extra.get("old_str"), "new_string": extra.get("new_str")}
            phase = "before" if name == "preToolUse" else "after"
            path = args.get("path") or args.get("file_path") or args.get("filePath")
            return self.edit_events(
                event, phase, session, patch_text(args), path, extra, failed=failed, agent_tool=tool
            )
        if name == "preToolUse":
            return []
        if tool in SHELL_TOOLS:
            fail_code = 0 if kind == "success" else 1
            shaped = self.command_event(
                event,
                session,
                args.get("command"),
                text,
                None,
                failed_code=fail_code,
                agent_tool=tool,
            )
        elif tool in FETCH_TOOLS:
            shaped = self.tool_event(event, session, "WebFetch", args, {}, tool)
        else:
            return []  # reading and searching tools change nothing
        shaped["agent_ids"]["result_type"] = kind
        return [shaped]
