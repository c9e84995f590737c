"""LogMetrics: what a ledger is doing, for people, Prometheus and health checks.

Values are computed from the ledger at scrape time by a custom prometheus-client Collector
on a private registry (see collector.py); health grading lives in health.py.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pygit2
from prometheus_client import CollectorRegistry, generate_latest

from ledger._graph import first_parents, is_observation
from ledger._layout import ARCHIVE_DIR
from ledger._names import from_tree_path
from ledger._outfile import write_output
from ledger._store import LedgerStore
from ledger._upkeep import packs
from ledger.entry import T_AGENT, T_FILE, parse_trailers
from ledger.errors import InvalidInputError, LedgerError
from ledger.lifecycle.usage import loose_objects, tree_size
from ledger.location import resolve_ledger_dir
from ledger.metrics import health
from ledger.metrics.collector import LedgerCollector
from ledger.metrics.counts import SessionCounts, entry_key, update_counts
from ledger.metrics.health import HealthThresholds

ERROR_LEVELS = frozenset({"error", "critical"})


class LogMetrics:
    """Metrics of one ledger: rates, error rate, counts, sessions, storage and health.

    Args:
        ledger_dir: the ledger (resolved like ChangeLogger's; ``log_dir`` is the original
            system's name).
        max_storage_mb: the storage budget that usage is measured against.
        window_hours: the window of the rate gauges the collector exports.
        thresholds: when health turns warning or critical.
    """

    def __init__(
        self,
        ledger_dir: str | os.PathLike[str] | None = None,
        *,
        max_storage_mb: float = 500,
        window_hours: float = 24,
        thresholds: HealthThresholds | None = None,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if max_storage_mb <= 0 or window_hours <= 0:
            raise InvalidInputError("max_storage_mb and window_hours must be positive")
        self.ledger_dir = resolve_ledger_dir(ledger_dir if ledger_dir is not None else log_dir)
        self.max_storage_mb = max_storage_mb
        self.window_hours = window_hours
        self.thresholds = thresholds or HealthThresholds()
        self._store: LedgerStore | None = None
        self._cache: dict[str, SessionCounts] = {}
        self._lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(LedgerCollector(self))

    @property
    def store(self) -> LedgerStore:
        """The ledger; each thread reads through its own Repository."""
        if self._store is None:
            self._store = LedgerStore(self.ledger_dir, durable=False)
        return self._store

    # -- counting ---------------------------------------------------------------------
    def totals(self) -> dict[str, SessionCounts]:
        """Entry counts per session, updated incrementally from each session's new tip."""
        store = self.store
        repo = store.repo
        with self._lock:
            update_counts(self._cache, repo, store.sessions())
            return dict(self._cache)

    def _window(self, hours: float) -> Iterator[tuple[str, pygit2.Commit]]:
        """(session, commit) of every entry newer than ``hours`` ago."""
        cutoff = time.time() - hours * 3600
        repo = self.store.repo
        for sid, tip in self.store.sessions().items():
            for commit in first_parents(repo, tip):
                if commit.commit_time < cutoff:
                    break
                if not is_observation(commit):
                    yield sid, commit

    def storage(self) -> dict[str, Any]:
        """Sizes only (cheap enough for every scrape)."""
        total = tree_size(self.ledger_dir, frozenset({ARCHIVE_DIR}))
        archive = self.ledger_dir / ARCHIVE_DIR
        loose_n, _ = loose_objects(self.ledger_dir)
        pack_n, _ = packs(self.ledger_dir)
        mb = total / (1024 * 1024)
        return {
            "total_size_bytes": total,
            "total_size_mb": mb,
            "max_storage_mb": self.max_storage_mb,
            "usage_percentage": 100.0 * mb / self.max_storage_mb,
            "loose_objects": loose_n,
            "packs": pack_n,
            "archive_size_bytes": tree_size(archive) if archive.is_dir() else 0,
        }

    # -- the original system's API -------------------------------------------------------
    def get_metrics(self, window_hours: float = 24) -> dict[str, Any]:
        """Activity in the last ``window_hours``, ledger totals and storage usage.

        Returns changes_per_hour, error_rate (percent of the window's entries at error or
        critical level), changes_by_type/level/agent (window), total_changes (window),
        active_sessions (with an entry in the window), total_sessions, total_entries,
        last_entry (ISO time), seconds_since_last_entry, and storage.
        """
        if window_hours <= 0:
            raise InvalidInputError("window_hours must be positive")
        by_type: Counter[str] = Counter()
        by_level: Counter[str] = Counter()
        by_agent: Counter[str] = Counter()
        active: set[str] = set()
        for sid, commit in self._window(window_hours):
            ctype, level, agent = entry_key(commit)
            by_type[ctype] += 1
            by_level[level] += 1
            by_agent[agent] += 1
            active.add(sid)
        total = sum(by_type.values())
        errors = sum(n for level, n in by_level.items() if level in ERROR_LEVELS)
        totals = self.totals()
        last = max((c.last for c in totals.values() if c.last is not None), default=None)
        return {
            "window_hours": window_hours,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(),
            "total_changes": total,
            "changes_per_hour": total / window_hours,
            "error_rate": 100.0 * errors / total if total else 0.0,
            "errors": errors,
            "changes_by_type": dict(by_type),
            "changes_by_level": dict(by_level),
            "changes_by_agent": dict(by_agent),
            "active_sessions": len(active),
            "total_sessions": len(totals),
            "total_entries": sum(sum(c.counts.values()) for c in totals.values()),
            "last_entry": (
                dt.datetime.fromtimestamp(last, dt.UTC).isoformat() if last is not None else None
            ),
            "seconds_since_last_entry": time.time() - last if last is not None else None,
            "storage": self.storage(),
        }

    def top_files(self, hours: float = 24, limit: int = 10) -> list[dict[str, Any]]:
        """The most-changed files in the window: path, changes, agents, last change."""
        if limit <= 0:
            raise InvalidInputError("limit must be positive")
        counts: Counter[str] = Counter()
        agents: dict[str, set[str]] = {}
        last: dict[str, int] = {}
        for _sid, commit in self._window(hours):
            trailers = parse_trailers(commit.message)
            tree_path = trailers.get(T_FILE)
            if not tree_path:
                continue
            try:
                path = from_tree_path(tree_path)
            except InvalidInputError:
                continue
            counts[path] += 1
            agents.setdefault(path, set()).add(trailers.get(T_AGENT, commit.author.name))
            last[path] = max(last.get(path, 0), commit.commit_time)
        return [
            {
                "file_path": path,
                "changes": n,
                "agents": sorted(agents[path]),
                "last_change": dt.datetime.fromtimestamp(last[path], dt.UTC).isoformat(),
            }
            for path, n in counts.most_common(limit)
        ]

    def check_integrity(self, deep: bool = False) -> tuple[bool, str]:
        """Every session tip is a readable entry commit; ``deep`` adds ``git fsck``."""
        return health.check_integrity(self.store, self.ledger_dir, deep)

    def get_health_status(self, window_hours: float = 24, deep: bool = False) -> dict[str, Any]:
        """``status`` healthy/warning/critical with a ``message`` and each check's verdict.

        Checks: error rate in the window, storage against the budget, time since the last
        entry, and repository integrity (``deep=True`` runs ``git fsck`` too).
        """
        if window_hours <= 0:  # bad input, not an unreadable ledger
            raise InvalidInputError("window_hours must be positive")
        try:
            metrics = self.get_metrics(window_hours)
        except LedgerError as exc:
            return health.unreadable(exc)
        try:
            integrity = self.check_integrity(deep)
        except LedgerError as exc:
            integrity = (False, str(exc))
        return health.assess(metrics, self.thresholds, self.max_storage_mb, window_hours, integrity)

    # -- Prometheus ---------------------------------------------------------------------
    def exposition(self) -> str:
        """The metrics in the Prometheus text format, computed now."""
        return generate_latest(self.registry).decode("utf-8")

    def export_prometheus_metrics(self, output_file: str | os.PathLike[str] | None = None) -> str:
        """Write the metrics atomically as a ``.prom`` textfile (for node_exporter); return them.

        The file is written to a temporary name and renamed, so the textfile collector
        never reads half a file; ``-`` is standard output, a device or FIFO is written
        through, a symbolic link is refused (see :mod:`ledger._outfile`).
        """
        text = self.exposition()
        if output_file is not None:
            write_output(output_file, text)
        return text
