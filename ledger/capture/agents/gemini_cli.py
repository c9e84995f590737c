"""Gemini CLI: its hook events recorded like Claude Code's, which they closely mirror.

Gemini CLI names its events BeforeTool / AfterTool / BeforeAgent and its tools write_file,
replace, run_shell_command, web_fetch and google_web_search; an AfterTool whose
``tool_response`` holds an ``error`` follows a failed call. Events carry no tool call id,
so a file's before-state is keyed by its path.
"""

from __future__ import annotations

import re
from typing import Any

from ledger.capture.agents.claude_code import ClaudeCode, _mcp_endpoint
from ledger.capture.agents.settings import JSONDict

FILE_TOOLS = ("write_file", "replace")
SHELL = "run_shell_command"
API_TOOLS = ("web_fetch", "google_web_search")
_FIELD = re.compile(
    r"^(Command|Directory|Output|Stdout|Stderr|Error|Exit Code|Signal|Background PIDs|"
    r"Process Group PGID): ?",
    re.M,
)


def shell_fields(text: str) -> dict[str, str]:
    """The ``Name: value`` sections of run_shell_command's result text."""
    out: dict[str, str] = {}
    marks = list(_FIELD.finditer(text))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out[mark.group(1)] = text[mark.end() : end].rstrip("\n")
    return out


class GeminiCli(ClaudeCode):
    """Gemini CLI's hooks (settings.json ``hooks``; events documented by Google)."""

    name = "gemini-cli"
    agent_id = "gemini-cli"
    display = "Gemini CLI"
    settings_folder = ".gemini"
    file_tools = FILE_TOOLS
    command_tools = (SHELL,)
    api_tools = API_TOOLS
    pre_event = "BeforeTool"
    post_events = ("AfterTool",)
    prompt_event = "BeforeAgent"
    env_file_var = None
    reply = "{}"  # Gemini CLI parses a hook's stdout as JSON

    def hook_entries(self, command: str) -> dict[str, list[JSONDict]]:
        hook = {
            "name": "git-ledger",
            "type": "command",
            "command": command,
            "timeout": 30000,
            "description": "Record this in git-ledger",
        }
        tools = "|".join((*FILE_TOOLS, SHELL, *API_TOOLS, "mcp__.*"))
        return {
            "BeforeTool": [{"matcher": "|".join(FILE_TOOLS), "hooks": [hook]}],
            "AfterTool": [{"matcher": tools, "hooks": [hook]}],
            "SessionStart": [{"hooks": [hook]}],
            "SessionEnd": [{"hooks": [hook]}],
            "BeforeAgent": [{"hooks": [hook]}],
        }

    def is_failure(self, name: str, event: JSONDict) -> bool:
        return bool(self.error_of(event))

    def error_of(self, event: JSONDict) -> str:
        response = event.get("tool_response")
        error = response.get("error") if isinstance(response, dict) else None
        if isinstance(error, dict):
            error = error.get("message") or str(error)
        return str(error) if error else ""

    def command_result(self, event: JSONDict, failed: bool) -> tuple[int, str, str, bool]:
        response = event.get("tool_response")
        text = response.get("llmContent") if isinstance(response, dict) else response
        fields = shell_fields(text if isinstance(text, str) else "")
        code_text = fields.get("Exit Code", "").strip()
        if re.fullmatch(r"-?\d+", code_text):
            code = int(code_text)
        else:
            code = 1 if failed or fields.get("Signal", "(none)").strip() != "(none)" else 0
        output = fields.get("Output", fields.get("Stdout", ""))
        stderr = fields.get("Stderr", "")
        error = fields.get("Error", "(none)")
        if error.strip() not in ("", "(none)"):
            stderr = f"{stderr}\n{error}".strip()
        if failed:
            stderr = f"{stderr}\n{self.error_of(event)}".strip()
        return code, "" if output == "(empty)" else output, stderr, False

    def api_target(
        self, tool: str, tool_input: JSONDict, response: Any
    ) -> tuple[str, str, int | None]:
        if tool == "web_fetch":
            found = re.search(r"https?://\S+", str(tool_input.get("prompt", "")))
            return (found.group(0).rstrip(").,;'\"") if found else "web_fetch"), "GET", None
        if tool == "google_web_search":
            return "google-web-search", "SEARCH", None
        return _mcp_endpoint(tool), "CALL", None
