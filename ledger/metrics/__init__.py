"""Metrics of a ledger for people, Prometheus and health checks: LogMetrics and its server.

``from ledger.metrics import LogMetrics, HealthThresholds, make_server, ...`` is the public
import path; the modules below are its parts (counts, collector, health, server).
"""

from __future__ import annotations

from ledger.metrics.collector import PREFIX, LedgerCollector
from ledger.metrics.health import HEALTH_CODES, HealthThresholds
from ledger.metrics.log_metrics import ERROR_LEVELS, LogMetrics
from ledger.metrics.server import (
    DEFAULT_PATH,
    DEFAULT_PORT,
    HEALTH_PATH,
    STANDARD_PATH,
    TOP_FILES_PATH,
    make_server,
)

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_PORT",
    "ERROR_LEVELS",
    "HEALTH_CODES",
    "HEALTH_PATH",
    "PREFIX",
    "STANDARD_PATH",
    "TOP_FILES_PATH",
    "HealthThresholds",
    "LedgerCollector",
    "LogMetrics",
    "make_server",
]
