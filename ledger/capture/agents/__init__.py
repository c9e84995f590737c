"""Adapters that record what coding agents do, fed by the agents' own hook events.

Each agent's hook format is one module with an :class:`~ledger.capture.agents.base.Adapter`
subclass, registered in :data:`ADAPTERS` under its command-line name. The names load lazily:
the agent hook's fast path (:mod:`ledger.capture.agents.fasthook`) lives in this package and
must not pay for pygit2.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.capture.agents.base import Adapter, Outcome, run_hook, serve_stdin
    from ledger.capture.agents.claude_code import ClaudeCode
    from ledger.capture.agents.codex import Codex
    from ledger.capture.agents.copilot_cli import CopilotCli
    from ledger.capture.agents.cursor import Cursor
    from ledger.capture.agents.gemini_cli import GeminiCli
    from ledger.capture.agents.opencode import OpenCode
    from ledger.capture.agents.registry import ADAPTERS

_EXPORTS = {
    "ADAPTERS": "ledger.capture.agents.registry",
    "Adapter": "ledger.capture.agents.base",
    "Outcome": "ledger.capture.agents.base",
    "run_hook": "ledger.capture.agents.base",
    "serve_stdin": "ledger.capture.agents.base",
    "ClaudeCode": "ledger.capture.agents.claude_code",
    "Codex": "ledger.capture.agents.codex",
    "CopilotCli": "ledger.capture.agents.copilot_cli",
    "Cursor": "ledger.capture.agents.cursor",
    "GeminiCli": "ledger.capture.agents.gemini_cli",
    "OpenCode": "ledger.capture.agents.opencode",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ADAPTERS",
    "Adapter",
    "ClaudeCode",
    "Codex",
    "CopilotCli",
    "Cursor",
    "GeminiCli",
    "OpenCode",
    "Outcome",
    "run_hook",
    "serve_stdin",
]
