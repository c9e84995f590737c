"""The metrics HTTP endpoint: the Prometheus exposition, top files and health as JSON.

A plain ThreadingHTTPServer; ``git ledger metrics serve`` runs it.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ledger.errors import InvalidInputError, LedgerError
from ledger.metrics.log_metrics import LogMetrics

DEFAULT_PATH = "/metrics/agent_logs"
STANDARD_PATH = "/metrics"  # where Prometheus scrapes when a job names no metrics_path
# Not 9090 (Prometheus itself) nor anything in 9100-9999, which the Prometheus
# default-port allocations list has handed out in full; past the last allocation seen
# there (10049) and clear of Zabbix (10050, 10051) and IANA's 10055.
DEFAULT_PORT = 10058
TOP_FILES_PATH = "/api/top-files"
HEALTH_PATH = "/api/health"


def make_server(
    metrics: LogMetrics,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    path: str = DEFAULT_PATH,
) -> ThreadingHTTPServer:
    """An HTTP server (not started) for the metrics, top files and health.

    Routes: ``path`` and ``/metrics`` — the Prometheus exposition;
    ``/api/top-files?hours=24&limit=10`` (or ``from``/``to`` in ms) — the most-changed
    files as JSON (for the dashboard's table); ``/api/health`` — the health status as
    JSON (503 when critical).
    """
    if not path.startswith("/"):
        raise InvalidInputError(f"metrics path must start with '/': {path!r}")

    class Handler(BaseHTTPRequestHandler):
        server_version = "git-ledger-metrics"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            try:
                if url.path in (path, STANDARD_PATH):
                    body = generate_latest(metrics.registry)
                    self._send(200, CONTENT_TYPE_LATEST, body)
                elif url.path == TOP_FILES_PATH:
                    hours = _hours(query)
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


def _hours(query: dict[str, list[str]]) -> float:
    """The window of a top-files request: ``hours``, or Grafana's ``from``/``to`` (ms).

    The dashboard's table passes the time picker's range as ``from`` and ``to`` so the
    table follows it; a bare request covers the last 24 hours.
    """
    if "from" in query:
        start = float(query["from"][0]) / 1000
        end = float(query.get("to", [str(time.time() * 1000)])[0]) / 1000
        return max(end - start, 0.0) / 3600
    return float(query.get("hours", ["24"])[0])
