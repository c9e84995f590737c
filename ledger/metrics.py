"""LogMetrics: what a ledger is doing, for people, Prometheus and health checks.

Values are computed from the ledger at scrape time by a custom prometheus-client Collector
on a private registry. Labels are bounded (type, level, agent); never a session or a path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pygit2
from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from ledger._fs import maintenance_paused
from ledger._git import run_git
from ledger._graph import first_parents, is_observation
from ledger._layout import ARCHIVE_DIR, ENTRY_FILE
from ledger._names import from_tree_path
from ledger._store import LedgerStore
from ledger._upkeep import packs
from ledger.entry import T_AGENT, T_FILE, T_LEVEL, T_TYPE, parse_trailers
from ledger.errors import InvalidInputError, LedgerError
from ledger.lifecycle.usage import loose_objects, tree_size
from ledger.location import resolve_ledger_dir

PREFIX = "git_ledger"
ERROR_LEVELS = frozenset({"error", "critical"})
HEALTH_CODES = {"healthy": 0, "warning": 1, "critical": 2}
DEFAULT_PATH = "/metrics/agent_logs"
TOP_FILES_PATH = "/api/top-files"
HEALTH_PATH = "/api/health"


@dataclasses.dataclass
class _Cached:
    tip: bytes
    counts: Counter[tuple[str, str, str]]
    agent_last: dict[str, int]
    last: int | None


@dataclasses.dataclass(frozen=True)
class HealthThresholds:
    """When health turns warning or critical (None turns a check off)."""

    error_rate_warning: float | None = 10.0
    error_rate_critical: float | None = 50.0
    storage_warning: float | None = 80.0
    storage_critical: float | None = 95.0
    idle_warning_hours: float | None = 24.0
    idle_critical_hours: float | None = None


class LogMetrics:
    """Metrics of one ledger: rates, error rate, counts, sessions, storage and health.

    Args:
        ledger_dir: the ledger (resolved like ChangeLogger's; ``log_dir`` is the seed's name).
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
        self._cache: dict[str, _Cached] = {}
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
    def totals(self) -> dict[str, _Cached]:
        """Entry counts per session, updated incrementally from each session's new tip."""
        store = self.store
        repo = store.repo
        with self._lock:
            sessions = store.sessions()
            for gone in set(self._cache) - set(sessions):
                del self._cache[gone]
            for sid, tip in sessions.items():
                cached = self._cache.get(sid)
                if cached is not None and cached.tip == tip:
                    continue
                fresh = _Cached(tip, Counter(), {}, None)
                reached = False
                for commit in first_parents(repo, tip):
                    if cached is not None and bytes(commit.id.raw) == cached.tip:
                        reached = True
                        break
                    if is_observation(commit):
                        continue
                    key = _key(commit)
                    fresh.counts[key] += 1
                    when = commit.commit_time
                    fresh.agent_last[key[2]] = max(fresh.agent_last.get(key[2], 0), when)
                    fresh.last = when if fresh.last is None else max(fresh.last, when)
                if reached and cached is not None:
                    fresh.counts.update(cached.counts)
                    for agent, when in cached.agent_last.items():
                        fresh.agent_last[agent] = max(fresh.agent_last.get(agent, 0), when)
                    if cached.last is not None:
                        fresh.last = max(fresh.last or 0, cached.last)
                self._cache[sid] = fresh
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

    # -- the seed's API ---------------------------------------------------------------
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
            ctype, level, agent = _key(commit)
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
        repo = self.store.repo
        bad = []
        sessions = self.store.sessions()
        for sid, tip in sessions.items():
            try:
                commit = repo[pygit2.Oid(raw=tip)]
                ok = isinstance(commit, pygit2.Commit) and ENTRY_FILE in commit.tree
            except (KeyError, ValueError, pygit2.GitError):
                ok = False
            if not ok:
                bad.append(sid)
        if bad:
            return False, f"unreadable session tip(s): {', '.join(sorted(bad)[:5])}"
        if deep:
            with maintenance_paused(self.ledger_dir):
                proc = run_git(
                    self.ledger_dir, "fsck", "--connectivity-only", "--no-dangling", check=False
                )
            if proc.returncode != 0:
                lines = (proc.stdout + proc.stderr).strip().splitlines()
                return False, f"git fsck failed: {lines[0] if lines else proc.returncode}"
            return True, f"{len(sessions)} session tips readable; git fsck clean"
        return True, f"{len(sessions)} session tips readable"

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
            return {
                "status": "critical",
                "message": f"ledger unreadable: {exc}",
                "checks": {},
                "metrics": None,
            }
        th = self.thresholds
        checks: dict[str, dict[str, Any]] = {}
        rate = metrics["error_rate"]
        checks["error_rate"] = _grade(
            rate,
            th.error_rate_warning,
            th.error_rate_critical,
            f"error rate {rate:.1f}% over {window_hours:g}h "
            f"({metrics['errors']} of {metrics['total_changes']})",
        )
        used = metrics["storage"]["usage_percentage"]
        checks["storage"] = _grade(
            used,
            th.storage_warning,
            th.storage_critical,
            f"storage at {used:.1f}% of {self.max_storage_mb:g} MB",
        )
        idle = metrics["seconds_since_last_entry"]
        if idle is None:
            checks["activity"] = {"status": "warning", "value": None, "message": "no entries yet"}
        else:
            checks["activity"] = _grade(
                idle / 3600,
                th.idle_warning_hours,
                th.idle_critical_hours,
                f"last entry {_ago(idle)} ago",
            )
        try:
            ok, text = self.check_integrity(deep)
        except LedgerError as exc:
            ok, text = False, str(exc)
        checks["integrity"] = {
            "status": "healthy" if ok else "critical",
            "value": ok,
            "message": text,
        }
        worst = max((c["status"] for c in checks.values()), key=HEALTH_CODES.__getitem__)
        problems = [c["message"] for c in checks.values() if c["status"] != "healthy"]
        message = (
            "; ".join(problems)
            if problems
            else "all checks passed: " + "; ".join(c["message"] for c in checks.values())
        )
        return {"status": worst, "message": message, "checks": checks, "metrics": metrics}

    # -- Prometheus ---------------------------------------------------------------------
    def exposition(self) -> str:
        """The metrics in the Prometheus text format, computed now."""
        return generate_latest(self.registry).decode("utf-8")

    def export_prometheus_metrics(self, output_file: str | os.PathLike[str] | None = None) -> str:
        """Write the metrics atomically as a ``.prom`` textfile (for node_exporter); return them.

        The file is written to a temporary name and renamed, so the textfile collector
        never reads half a file.
        """
        if output_file is not None:
            path = Path(os.fspath(output_file))
            if not path.parent.is_dir():
                raise InvalidInputError(f"cannot write {path}: {path.parent} is not a folder")
            write_to_textfile(str(path), self.registry)
            return path.read_text(encoding="utf-8")
        return self.exposition()


def _key(commit: pygit2.Commit) -> tuple[str, str, str]:
    trailers = parse_trailers(commit.message)
    return (
        trailers.get(T_TYPE, "unknown"),
        trailers.get(T_LEVEL, "unknown"),
        trailers.get(T_AGENT, commit.author.name),
    )


def _grade(
    value: float, warning: float | None, critical: float | None, message: str
) -> dict[str, Any]:
    status = "healthy"
    if critical is not None and value >= critical:
        status = "critical"
    elif warning is not None and value >= warning:
        status = "warning"
    return {"status": status, "value": value, "message": message}


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


class LedgerCollector(Collector):
    """A prometheus-client Collector that reads the ledger at each scrape."""

    def __init__(self, metrics: LogMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # computed at scrape time; nothing to describe up front

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        m = self.metrics
        entries = CounterMetricFamily(
            f"{PREFIX}_entries",
            "Entries recorded in the ledger (archived sessions leave).",
            labels=["type", "level", "agent"],
        )
        counts: Counter[tuple[str, str, str]] = Counter()
        agent_last: dict[str, int] = {}
        last = None
        for cached in m.totals().values():
            counts.update(cached.counts)
            for agent, when in cached.agent_last.items():
                agent_last[agent] = max(agent_last.get(agent, 0), when)
            if cached.last is not None:
                last = cached.last if last is None else max(last, cached.last)
        for (ctype, level, agent), n in sorted(counts.items()):
            entries.add_metric([ctype, level, agent], n)
        yield entries
        health = m.get_health_status(m.window_hours)
        window = health["metrics"] or {}
        yield _gauge(
            "window_seconds",
            "The window of changes_per_hour, error_ratio and active_sessions, in seconds.",
            m.window_hours * 3600,
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
        yield _gauge(
            "last_entry_timestamp_seconds", "Time of the newest entry (Unix).", float(last or 0)
        )
        per_agent = GaugeMetricFamily(
            f"{PREFIX}_agent_last_entry_timestamp_seconds",
            "Time of each agent's newest entry (Unix).",
            labels=["agent"],
        )
        for agent, when in sorted(agent_last.items()):
            per_agent.add_metric([agent], float(when))
        yield per_agent
        storage = window.get("storage") or m.storage()
        yield _gauge(
            "storage_bytes",
            "Bytes the repository takes (archive/ excluded).",
            storage["total_size_bytes"],
        )
        yield _gauge(
            "storage_budget_bytes", "The storage budget, in bytes.", m.max_storage_mb * 1024 * 1024
        )
        yield _gauge(
            "storage_loose_objects", "Loose objects waiting to be packed.", storage["loose_objects"]
        )
        yield _gauge("storage_packs", "Pack files.", storage["packs"])
        yield _gauge(
            "archive_bytes", "Bytes of archived session bundles.", storage["archive_size_bytes"]
        )
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


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)


# -- the HTTP endpoint ----------------------------------------------------------------------
def make_server(
    metrics: LogMetrics, host: str = "127.0.0.1", port: int = 9090, path: str = DEFAULT_PATH
) -> ThreadingHTTPServer:
    """An HTTP server (not started) for the metrics, top files and health.

    Routes: ``path`` — the Prometheus exposition; ``/api/top-files?hours=24&limit=10`` —
    the most-changed files as JSON (for the dashboard's table); ``/api/health`` — the
    health status as JSON (503 when critical).
    """
    if not path.startswith("/"):
        raise InvalidInputError(f"metrics path must start with '/': {path!r}")

    class Handler(BaseHTTPRequestHandler):
        server_version = "git-ledger-metrics"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            try:
                if url.path == path:
                    body = generate_latest(metrics.registry)
                    self._send(200, CONTENT_TYPE_LATEST, body)
                elif url.path == TOP_FILES_PATH:
                    hours = float(query.get("hours", ["24"])[0])
                    limit = int(query.get("limit", ["10"])[0])
                    rows = metrics.top_files(hours, limit)
                    self._send(200, "application/json", json.dumps(rows).encode())
                elif url.path == HEALTH_PATH:
                    health = metrics.get_health_status()
                    code = 503 if health["status"] == "critical" else 200
                    self._send(code, "application/json", json.dumps(health, default=str).encode())
                else:
                    text = f"git-ledger metrics: see {path}, {TOP_FILES_PATH}, {HEALTH_PATH}\n"
                    self._send(404, "text/plain; charset=utf-8", text.encode())
            except (ValueError, LedgerError) as exc:
                self._send(
                    400 if isinstance(exc, ValueError) else 500,
                    "text/plain; charset=utf-8",
                    f"{exc}\n".encode(),
                )

        def _send(self, code: int, ctype: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: a scrape every 15 s is not news

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
