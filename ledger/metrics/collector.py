"""The prometheus-client Collector that reads the ledger at each scrape.

Labels are bounded (type, level, agent); never a session or a path.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ledger.metrics.counts import SessionCounts
from ledger.metrics.health import HEALTH_CODES

PREFIX = "git_ledger"


class MetricsSource(Protocol):
    """What the collector reads (LogMetrics provides it)."""

    window_hours: float
    max_storage_mb: float

    def totals(self) -> Mapping[str, SessionCounts]: ...

    def get_health_status(self, window_hours: float = 24, deep: bool = False) -> dict[str, Any]: ...

    def storage(self) -> dict[str, Any]: ...


class LedgerCollector(Collector):
    """A prometheus-client Collector that reads the ledger at each scrape."""

    def __init__(self, metrics: MetricsSource) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # computed at scrape time; nothing to describe up front

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        m = self.metrics
        entries, last, per_agent = _entry_families(m.totals().values())
        yield entries
        health = m.get_health_status(m.window_hours)
        window = health["metrics"] or {}
        yield from _window_gauges(m.window_hours, window)
        yield _gauge(
            "last_entry_timestamp_seconds", "Time of the newest entry (Unix).", float(last or 0)
        )
        yield per_agent
        yield from _storage_gauges(window.get("storage") or m.storage(), m.max_storage_mb)
        yield _gauge(
            "health_status",
            "Health: 0 healthy, 1 warning, 2 critical.",
            HEALTH_CODES[health["status"]],
        )
        yield _gauge(
            "scrape_duration_seconds",
            "Time this scrape took to compute.",
            time.perf_counter() - started,
        )


def _entry_families(
    totals: Iterable[SessionCounts],
) -> tuple[CounterMetricFamily, int | None, GaugeMetricFamily]:
    """Entries by (type, level, agent), the newest entry's time, and each agent's newest."""
    entries = CounterMetricFamily(
        f"{PREFIX}_entries",
        "Entries recorded in the ledger (archived sessions leave).",
        labels=["type", "level", "agent"],
    )
    counts: Counter[tuple[str, str, str]] = Counter()
    agent_last: dict[str, int] = {}
    last = None
    for cached in totals:
        counts.update(cached.counts)
        for agent, when in cached.agent_last.items():
            agent_last[agent] = max(agent_last.get(agent, 0), when)
        if cached.last is not None:
            last = cached.last if last is None else max(last, cached.last)
    for (ctype, level, agent), n in sorted(counts.items()):
        entries.add_metric([ctype, level, agent], n)
    per_agent = GaugeMetricFamily(
        f"{PREFIX}_agent_last_entry_timestamp_seconds",
        "Time of each agent's newest entry (Unix).",
        labels=["agent"],
    )
    for agent, when in sorted(agent_last.items()):
        per_agent.add_metric([agent], float(when))
    return entries, last, per_agent


def _window_gauges(window_hours: float, window: Mapping[str, Any]) -> Iterator[Metric]:
    """Rates and session counts over the window."""
    yield _gauge(
        "window_seconds",
        "The window of changes_per_hour, error_ratio and active_sessions, in seconds.",
        window_hours * 3600,
    )
    yield _gauge(
        "changes_per_hour",
        "Entries per hour over the window.",
        window.get("changes_per_hour", 0.0),
    )
    yield _gauge(
        "error_ratio",
        "Share of the window's entries at error or critical level.",
        window.get("error_rate", 0.0) / 100.0,
    )
    yield _gauge("sessions", "Sessions in the ledger.", window.get("total_sessions", 0))
    yield _gauge(
        "active_sessions",
        "Sessions with an entry in the window.",
        window.get("active_sessions", 0),
    )


def _storage_gauges(storage: Mapping[str, Any], max_storage_mb: float) -> Iterator[Metric]:
    """Sizes, loose objects, packs and the archive."""
    yield _gauge(
        "storage_bytes",
        "Bytes the repository takes (archive/ excluded).",
        storage["total_size_bytes"],
    )
    yield _gauge(
        "storage_budget_bytes", "The storage budget, in bytes.", max_storage_mb * 1024 * 1024
    )
    yield _gauge(
        "storage_loose_objects", "Loose objects waiting to be packed.", storage["loose_objects"]
    )
    yield _gauge("storage_packs", "Pack files.", storage["packs"])
    yield _gauge(
        "archive_bytes", "Bytes of archived session bundles.", storage["archive_size_bytes"]
    )


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)
