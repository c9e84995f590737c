"""Adapters that record what coding agents do, fed by the agents' own hook events.

Each agent's hook format is one module with an :class:`~ledger.capture.agents.base.Adapter`
subclass, registered in :data:`ADAPTERS` under its command-line name.
"""

from __future__ import annotations

from ledger.capture.agents.base import Adapter, Outcome, run_hook, serve_stdin
from ledger.capture.agents.claude_code import ClaudeCode
from ledger.capture.agents.gemini_cli import GeminiCli

ADAPTERS: dict[str, Adapter] = {a.name: a for a in (ClaudeCode(), GeminiCli())}

__all__ = [
    "ADAPTERS",
    "Adapter",
    "ClaudeCode",
    "GeminiCli",
    "Outcome",
    "run_hook",
    "serve_stdin",
]
