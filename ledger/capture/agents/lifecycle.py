"""The turn and session events beyond tool calls: a turn ending, a subagent ending,
compaction, a denied permission, a failed turn.

Claude Code names them Stop, SubagentStop, PreCompact, PermissionDenied and StopFailure;
the other agents' adapters translate their own equivalents to these names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.types import ChangeType, LogLevel

if TYPE_CHECKING:
    from ledger.capture.agents.base import Outcome
    from ledger.capture.agents.claude_code import ClaudeCode
    from ledger.capture.agents.settings import JSONDict
    from ledger.write.logger import ChangeLogger

LIFECYCLE_EVENTS = frozenset(
    {"Stop", "SubagentStop", "PreCompact", "PermissionDenied", "StopFailure"}
)
_KEYS = (
    "stop_hook_active",
    "last_assistant_message",
    "agent_type",
    "agent_id",
    "agent_transcript_path",
    "trigger",
    "custom_instructions",
    "reason",
    "error",
    "error_type",
    "message",
    "turn_id",
)


def _text(value: Any, limit: int = 20_000) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[:limit] + f"… [{len(text)} chars]"


def record_lifecycle(
    adapter: ClaudeCode, name: str, event: JSONDict, logger: ChangeLogger
) -> Outcome:
    """Record one lifecycle event as an agent_decision (or model_inference for compaction)."""
    from ledger.capture.agents.base import Outcome, bounded

    meta: dict[str, Any] = adapter._common(event)
    for key in _KEYS:
        if key in event and event[key] is not None:
            meta[key] = bounded(event[key], 20_000)
    tool = event.get("tool_name")
    level = LogLevel.INFO
    ctype = ChangeType.AGENT_DECISION
    if name == "Stop":
        said = _text(event.get("last_assistant_message")).strip()
        first = said.splitlines()[0] if said else ""
        text = f"{adapter.display} turn ended" + (f": {first}" if first else "")
    elif name == "SubagentStop":
        kind = event.get("agent_type")
        text = f"{adapter.display} subagent finished" + (f" ({kind})" if kind else "")
    elif name == "PreCompact":
        ctype = ChangeType.MODEL_INFERENCE
        text = f"{adapter.display} compacts its context ({event.get('trigger', 'auto')})"
    elif name == "PermissionDenied":
        level = LogLevel.WARNING
        if isinstance(event.get("tool_input"), dict):
            meta["tool_input"] = bounded(event["tool_input"], 20_000)
        why = _text(event.get("reason") or event.get("message"), 200)
        text = f"Permission denied for {tool or 'a tool'}" + (f": {why}" if why else "")
    else:  # StopFailure
        level = LogLevel.ERROR
        why = _text(event.get("error") or event.get("error_type") or event.get("message"), 200)
        text = f"{adapter.display} turn failed" + (f": {why}" if why else "")
    entry = logger.log(ctype, text, meta, level)
    return Outcome("recorded", name, "", entry.id)
