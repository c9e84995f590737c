"""Ledger entries as OpenTelemetry spans, per the GenAI semantic conventions.

One trace per session, its id derived from the session id (so a re-export carries the same ids
and a backend sees the same spans again, not new ones); an ``invoke_agent`` span for the
session; one child span per entry, its span id the entry id's first 16 hex digits (so a span
leads back to ``git show <ledger.entry.id>``). Only what the ledger stored goes out, and only
the fields named in docs/otel.md: never file contents, never an unredacted secret.

Needs the ``otel`` extra (opentelemetry-sdk); :func:`require` says so in one line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ledger.entry import Entry
from ledger.errors import InvalidInputError
from ledger.types import ChangeType, LogLevel

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan

INSTALL_HINT = "OTLP export needs the otel extra: pip install 'git-ledger[otel]'"
SCOPE_NAME = "git-ledger"
MAX_TEXT = 4096
"""Longest string attribute sent: longer stored text is cut (and says so)."""

# change type -> (gen_ai.operation.name, default gen_ai.tool.name or None, gen_ai.tool.type)
OPERATIONS: dict[ChangeType, tuple[str, str | None, str | None]] = {
    ChangeType.FILE_CREATE: ("execute_tool", "file_write", "function"),
    ChangeType.FILE_UPDATE: ("execute_tool", "file_edit", "function"),
    ChangeType.FILE_DELETE: ("execute_tool", "file_delete", "function"),
    ChangeType.SYSTEM_COMMAND: ("execute_tool", "shell", "function"),
    ChangeType.API_CALL: ("execute_tool", "http", "extension"),
    ChangeType.DATABASE_WRITE: ("execute_tool", "database", "datastore"),
    ChangeType.CONFIG_CHANGE: ("execute_tool", "config", "function"),
    ChangeType.AGENT_DECISION: ("plan", None, None),
    ChangeType.MODEL_INFERENCE: ("chat", None, None),
    ChangeType.GIT_COMMIT: ("git_commit", None, None),
    ChangeType.GIT_PUSH: ("git_push", None, None),
    ChangeType.DEPLOYMENT: ("deploy", None, None),
    ChangeType.SERVICE_START: ("service_start", None, None),
    ChangeType.SERVICE_STOP: ("service_stop", None, None),
}
ERROR_LEVELS = frozenset({LogLevel.ERROR, LogLevel.CRITICAL})

# metadata key -> span attribute, copied when the stored value is a string or a number
_META_ATTRIBUTES = {
    "command": "process.command_line",
    "exit_code": "process.exit.code",
    "cwd": "process.working_directory",
    "endpoint": "url.full",
    "method": "http.request.method",
    "status_code": "http.response.status_code",
    "duration_seconds": "ledger.duration_seconds",
    "model": "gen_ai.request.model",
    "tool_use_id": "gen_ai.tool.call.id",
    "commit": "vcs.ref.head.revision",
    "branch": "vcs.ref.head.name",
    "remote": "ledger.git.remote",
    "environment": "deployment.environment.name",
    "decision": "ledger.decision",
    "reasoning": "ledger.decision.reasoning",
}


def require() -> None:
    """Raise InvalidInputError with the install line when the OpenTelemetry SDK is missing."""
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        raise InvalidInputError(INSTALL_HINT) from None


def trace_id(session_id: str) -> int:
    """The session's 128-bit trace id: the same every time, never zero."""
    digest = hashlib.sha256(b"git-ledger trace\0" + session_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:16], "big") or 1


def session_span_id(session_id: str) -> int:
    """The 64-bit id of the session's ``invoke_agent`` span."""
    digest = hashlib.sha256(b"git-ledger session\0" + session_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") or 1


def entry_span_id(entry_id: str) -> int:
    """The 64-bit id of an entry's span: the first 16 hex digits of its commit id."""
    return int(entry_id[:16], 16) or 1


def _nanos(when: dt.datetime) -> int:
    # exact integer arithmetic: a float would lose the microseconds of a timestamp
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _text(value: str) -> str:
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 12] + "…[truncated]"


def duration_of(entry: Entry) -> float | None:
    """The seconds the entry's action took, where it recorded them."""
    value = entry.metadata.get("duration_seconds")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _tool_name(entry: Entry, default: str | None) -> str | None:
    name = entry.metadata.get("tool_name")
    return name if isinstance(name, str) and name else default


def entry_attributes(entry: Entry) -> dict[str, Any]:
    """The attributes of an entry's span (see the table in docs/otel.md)."""
    op, default_tool, tool_type = OPERATIONS[entry.change_type]
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": op,
        "gen_ai.agent.name": entry.agent_id,
        "gen_ai.conversation.id": entry.session_id,
        "ledger.entry.id": entry.id,
        "ledger.change_type": entry.change_type.value,
        "ledger.level": entry.level.value,
        "ledger.description": _text(entry.description),
    }
    tool = _tool_name(entry, default_tool) if op == "execute_tool" else None
    if tool is not None:
        attrs["gen_ai.tool.name"] = tool
        if tool_type is not None:
            attrs["gen_ai.tool.type"] = tool_type
    if entry.file_path is not None:
        attrs["file.path"] = entry.file_path
    for key, name in _META_ATTRIBUTES.items():
        value = entry.metadata.get(key)
        if isinstance(value, str):
            attrs[name] = _text(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            attrs[name] = value
    if entry.level in ERROR_LEVELS:
        attrs["error.type"] = _error_type(entry)
    return attrs


def _error_type(entry: Entry) -> str:
    code = entry.metadata.get("exit_code")
    status = entry.metadata.get("status_code")
    if entry.change_type is ChangeType.SYSTEM_COMMAND and isinstance(code, int) and code:
        return f"exit_code_{code}"
    if isinstance(status, int) and status >= 400:
        return str(status)
    return "_OTHER"


def _span_name(entry: Entry, attrs: Mapping[str, Any]) -> str:
    op = attrs["gen_ai.operation.name"]
    if op == "execute_tool":
        return f"execute_tool {attrs['gen_ai.tool.name']}"
    if op == "chat" and "gen_ai.request.model" in attrs:
        return f"chat {attrs['gen_ai.request.model']}"
    if op == "plan":
        return f"plan {entry.agent_id}"
    return str(op)


@dataclasses.dataclass
class SessionExtent:
    """What the session's span needs, gathered while its entries stream past."""

    session_id: str
    agent_id: str
    start: int
    end: int
    entries: int = 0
    errors: int = 0

    def add(self, start: int, end: int, failed: bool) -> None:
        self.start, self.end = min(self.start, start), max(self.end, end)
        self.entries += 1
        self.errors += failed


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("git-ledger")
    except PackageNotFoundError:  # run from a source tree
        return "0"


def _resource() -> Resource:
    from opentelemetry.sdk.resources import Resource

    return Resource.create({"service.name": "git-ledger", "service.version": _version()})


class SpanBuilder:
    """Turns entries into SDK spans and remembers each session's extent for its own span."""

    def __init__(self) -> None:
        require()
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        self.resource = _resource()
        self.scope = InstrumentationScope(SCOPE_NAME, _version())
        self.sessions: dict[str, SessionExtent] = {}
        self.touched: dict[str, None] = {}  # sessions with entries since session_spans()

    def entry_span(self, entry: Entry) -> ReadableSpan:
        """The span of one entry, a child of its session's ``invoke_agent`` span."""
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        attrs = entry_attributes(entry)
        end = _nanos(entry.timestamp)
        took = duration_of(entry)
        start = end - int(took * 1_000_000_000) if took is not None else end
        failed = entry.level in ERROR_LEVELS
        tid = trace_id(entry.session_id)
        flags = TraceFlags(TraceFlags.SAMPLED)
        extent = self.sessions.setdefault(
            entry.session_id, SessionExtent(entry.session_id, entry.agent_id, start, end)
        )
        extent.add(start, end, failed)
        self.touched[entry.session_id] = None
        status = Status(StatusCode.ERROR, _text(entry.description)) if failed else Status(
            StatusCode.UNSET
        )
        return ReadableSpan(
            name=_span_name(entry, attrs),
            context=SpanContext(tid, entry_span_id(entry.id), False, flags),
            parent=SpanContext(tid, session_span_id(entry.session_id), False, flags),
            resource=self.resource,
            attributes=attrs,
            kind=SpanKind.INTERNAL,
            status=status,
            start_time=start,
            end_time=end,
            instrumentation_scope=self.scope,
        )

    def session_spans(self) -> list[ReadableSpan]:
        """An ``invoke_agent`` span for each session with new entries, spanning all it saw."""
        spans = [self.session_span(self.sessions[s]) for s in self.touched]
        self.touched = {}
        return spans

    def session_span(self, extent: SessionExtent) -> ReadableSpan:
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": extent.agent_id,
            "gen_ai.conversation.id": extent.session_id,
            "ledger.session_id": extent.session_id,
            "ledger.entries": extent.entries,
            "ledger.errors": extent.errors,
        }
        flags = TraceFlags(TraceFlags.SAMPLED)
        ctx = SpanContext(
            trace_id(extent.session_id), session_span_id(extent.session_id), False, flags
        )
        return ReadableSpan(
            name=f"invoke_agent {extent.agent_id}",
            context=ctx,
            parent=None,
            resource=self.resource,
            attributes=attrs,
            kind=SpanKind.INTERNAL,
            status=Status(StatusCode.UNSET),  # a failed entry marks its own span, not the run
            start_time=extent.start,
            end_time=extent.end,
            instrumentation_scope=self.scope,
        )


def batches(
    entries: Iterable[Entry], builder: SpanBuilder, size: int = 512
) -> Iterator[list[ReadableSpan]]:
    """Entry spans in batches of ``size``, then the session spans of every session seen."""
    batch: list[ReadableSpan] = []
    for entry in entries:
        batch.append(builder.entry_span(entry))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
    sessions = builder.session_spans()
    for i in range(0, len(sessions), size):
        yield sessions[i : i + size]
