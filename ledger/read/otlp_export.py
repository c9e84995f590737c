"""``export --format otlp`` and ``--otlp-endpoint``: matching entries out as OTLP, then follow.

What goes out is the mapping of :mod:`ledger.read.otlp`; the same filters as every export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ledger.read.export import iter_entries
from ledger.read.otlp import SpanBuilder, require
from ledger.read.otlp_io import Follower, JsonLinesExporter, follow, make_exporter, send_otlp

DateLike = dt.datetime | dt.date | str | None


def export_otlp(
    ledger_dir: Path,
    *,
    endpoint: str | None = None,
    stream: TextIO | None = None,
    start_date: DateLike = None,
    end_date: DateLike = None,
    follow_interval: float | None = None,
    rounds: int | None = None,
    on_sent: Callable[[dict[str, int]], None] | None = None,
    **filters: Any,
) -> dict[str, Any]:
    """Send matching entries (newest first) as spans to ``stream`` (OTLP/JSON lines) or to an
    OTLP receiver (``endpoint``, else the ``OTEL_EXPORTER_OTLP_*`` variables).

    With ``follow_interval`` it then keeps sending entries as they are recorded, looking every
    that many seconds (``rounds`` looks, or until interrupted); entries recorded during the
    first export are sent again rather than missed, under the same span ids.
    """
    require()
    if stream is not None:
        exporter: Any = JsonLinesExporter(stream)
        where = "the output"
    else:
        exporter, where = make_exporter(endpoint)
    watcher = Follower(ledger_dir, **filters) if follow_interval is not None else None
    if watcher is not None:
        watcher.mark_all_seen()  # before the export: nothing recorded meanwhile is missed
    builder = SpanBuilder()
    try:
        entries = iter_entries(ledger_dir, start_date, end_date, **filters)
        result: dict[str, Any] = {"endpoint": where, **send_otlp(entries, exporter, where, builder)}
        if on_sent is not None:
            on_sent(result)
        if watcher is not None and follow_interval is not None:
            follow(watcher, exporter, where, builder=builder, interval=follow_interval,
                   rounds=rounds, on_sent=on_sent)
    finally:
        if stream is None:
            exporter.shutdown()
    return result
