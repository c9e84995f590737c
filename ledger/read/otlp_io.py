"""OTLP out of the ledger: OTLP/JSON lines to a file or stream, OTLP/HTTP (or gRPC) to a receiver.

The protocol is the OpenTelemetry SDK's: its encoder builds the ExportTraceServiceRequest and
its exporter sends it (with its retries, headers, TLS and ``OTEL_EXPORTER_OTLP_*`` variables).
The only thing done here is what OTLP/JSON asks beyond protobuf's JSON mapping: trace and span
ids as hex, not base64.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ledger.entry import Entry
from ledger.errors import InvalidInputError, SyncError
from ledger.read.otlp import SpanBuilder, batches, require

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter

_ID_KEYS = ("traceId", "spanId", "parentSpanId")
ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
PROTOCOL_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


def _hex_ids(node: Any) -> Any:
    """protobuf's JSON of an OTLP request, with its id fields turned from base64 into hex."""
    if isinstance(node, dict):
        return {
            k: base64.b64decode(v).hex() if k in _ID_KEYS and isinstance(v, str) else _hex_ids(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(v) for v in node]
    return node


def otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """One ExportTraceServiceRequest in OTLP/JSON form (camelCase, enums as numbers, hex ids)."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    message = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    return dict(_hex_ids(message))


class JsonLinesExporter:
    """A span exporter that writes OTLP/JSON lines, one request per line, to a text stream.

    The format of the OpenTelemetry collector's file exporter (and its otlpjsonfile receiver).
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def export(self, spans: Sequence[ReadableSpan]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        line = json.dumps(otlp_json(spans), ensure_ascii=False, separators=(",", ":"))
        self.out.write(line + "\n")
        self.out.flush()
        return SpanExportResult.SUCCESS


def write_otlp(out: TextIO, entries: Iterable[Entry], tick: Callable[[int], None]) -> int:
    """Write entries as OTLP/JSON lines; the sessions' spans follow. Returns the entry count."""
    return send_otlp(_counted(entries, tick), JsonLinesExporter(out), "the output")["entries"]


def _counted(entries: Iterable[Entry], tick: Callable[[int], None]) -> Iterator[Entry]:
    for n, entry in enumerate(entries, 1):
        yield entry
        if n % 1000 == 0:
            tick(n)


def _traces_url(endpoint: str) -> str:
    """An OTLP/HTTP base URL gets ``/v1/traces``, as OTEL_EXPORTER_OTLP_ENDPOINT does."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(f"OTLP endpoint {endpoint!r} is not an http:// or https:// URL")
    if parts.path in ("", "/"):
        return endpoint.rstrip("/") + "/v1/traces"
    return endpoint


def make_exporter(endpoint: str | None) -> tuple[SpanExporter, str]:
    """The SDK's OTLP span exporter for ``endpoint`` (else the OTEL_EXPORTER_OTLP_* variables).

    Returns the exporter and the endpoint it sends to, for messages.
    """
    require()
    protocol = next((os.environ[v] for v in PROTOCOL_VARS if os.environ.get(v)), "http/protobuf")
    named = endpoint or next((os.environ[v] for v in ENDPOINT_VARS if os.environ.get(v)), None)
    if named is None:
        raise InvalidInputError(
            "nowhere to export to: give OUTPUT_FILE, or --otlp-endpoint URL, "
            "or set OTEL_EXPORTER_OTLP_ENDPOINT"
        )
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError:
            raise InvalidInputError(
                "OTLP over gRPC needs: pip install opentelemetry-exporter-otlp-proto-grpc"
            ) from None
        return GrpcExporter(endpoint=endpoint), named
    if protocol != "http/protobuf":
        raise InvalidInputError(
            f"OTLP protocol {protocol!r} is not supported (use http/protobuf or grpc)"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if endpoint is None:
        return OTLPSpanExporter(), named  # the SDK reads the variables itself
    url = _traces_url(endpoint)
    return OTLPSpanExporter(endpoint=url), url


def _send(
    exporter: SpanExporter | JsonLinesExporter, spans: Sequence[ReadableSpan], where: str
) -> None:
    from opentelemetry.sdk.trace.export import SpanExportResult

    if exporter.export(spans) is not SpanExportResult.SUCCESS:
        raise SyncError(f"the OTLP receiver at {where} did not accept {len(spans)} span(s)")


def send_otlp(
    entries: Iterable[Entry],
    exporter: SpanExporter | JsonLinesExporter,
    where: str,
    builder: SpanBuilder | None = None,
) -> dict[str, int]:
    """Send entries' spans, then their sessions' spans; counts of what was accepted."""
    builder = builder or SpanBuilder()
    sent = {"entries": 0, "spans": 0}
    for batch in batches(entries, builder):
        _send(exporter, batch, where)
        sent["spans"] += len(batch)
        sent["entries"] += sum(1 for s in batch if s.parent is not None)
    sent["sessions"] = len(builder.sessions)
    return sent


class Follower:
    """New matching entries since the last look, session by session, oldest first.

    It remembers each session's tip and walks from the new tip back to it, so one look costs
    the new commits only. A session whose tip is not a descendant (rewritten, restored) is
    read again in full; its spans carry the same ids, so a receiver sees no new ones.
    """

    def __init__(self, ledger_dir: Path, **filters: Any) -> None:
        from ledger.read.filters import build_criteria

        self.ledger_dir = ledger_dir
        self.crit = build_criteria(
            filters.get("change_types"), filters.get("file_path"), None, None,
            filters.get("search_text"), filters.get("session_id"), filters.get("agent_id"),
            filters.get("levels"), filters.get("repo"),
        )
        self.tips: dict[str, bytes] = {}

    def mark_all_seen(self) -> None:
        """Start from now: what the ledger holds already is not new."""
        self.new_entries()

    def new_entries(self) -> list[Entry]:
        from ledger._graph import first_parents
        from ledger._store import LedgerStore
        from ledger.read.walk import matching_entry, session_tips

        store = LedgerStore(self.ledger_dir)
        if not store.exists:
            return []
        found: list[Entry] = []
        for session, tip in session_tips(store, self.crit).items():
            old = self.tips.get(session)
            if old == tip:
                continue
            for commit in first_parents(store.repo, tip, stop_at=old):
                entry = matching_entry(store, commit, self.crit)
                if entry is not None:
                    found.append(entry)
            self.tips[session] = tip
        found.sort(key=lambda e: e.timestamp)
        return found


def follow(
    watcher: Follower,
    exporter: SpanExporter | JsonLinesExporter,
    where: str,
    *,
    builder: SpanBuilder | None = None,
    interval: float = 2.0,
    rounds: int | None = None,
    on_sent: Callable[[dict[str, int]], None] | None = None,
) -> None:
    """Send entries as they are recorded, looking every ``interval`` seconds.

    ``watcher`` knows what was already sent (call its ``mark_all_seen`` before exporting what
    the ledger holds, so nothing recorded meanwhile is missed); ``builder`` carries the
    sessions' extents over from that export. ``rounds`` bounds the looks (None: until
    interrupted).
    """
    builder = builder or SpanBuilder()
    done = 0
    while rounds is None or done < rounds:
        time.sleep(interval)
        done += 1
        fresh = watcher.new_entries()
        if not fresh:
            continue
        sent = send_otlp(fresh, exporter, where, builder)
        if on_sent is not None:
            on_sent(sent)
