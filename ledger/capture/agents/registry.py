"""Every adapter, by its command-line name."""

from __future__ import annotations

from ledger.capture.agents.base import Adapter
from ledger.capture.agents.claude_code import ClaudeCode
from ledger.capture.agents.codex import Codex
from ledger.capture.agents.copilot_cli import CopilotCli
from ledger.capture.agents.cursor import Cursor
from ledger.capture.agents.gemini_cli import GeminiCli
from ledger.capture.agents.opencode import OpenCode

ADAPTERS: dict[str, Adapter] = {
    a.name: a for a in (ClaudeCode(), GeminiCli(), Codex(), Cursor(), CopilotCli(), OpenCode())
}
