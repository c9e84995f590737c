"""Health: each check graded healthy, warning or critical against thresholds, and the verdict.

Checks: error rate in the window, storage against the budget, time since the last entry,
and repository integrity (every session tip readable; optionally ``git fsck``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pygit2

from ledger._fs import maintenance_paused
from ledger._git import run_git
from ledger._layout import ENTRY_FILE
from ledger._store import LedgerStore

HEALTH_CODES = {"healthy": 0, "warning": 1, "critical": 2}


@dataclasses.dataclass(frozen=True)
class HealthThresholds:
    """When health turns warning or critical (None turns a check off)."""

    error_rate_warning: float | None = 10.0
    error_rate_critical: float | None = 50.0
    storage_warning: float | None = 80.0
    storage_critical: float | None = 95.0
    idle_warning_hours: float | None = 24.0
    idle_critical_hours: float | None = None


def check_integrity(store: LedgerStore, ledger: Path, deep: bool = False) -> tuple[bool, str]:
    """Every session tip is a readable entry commit; ``deep`` adds ``git fsck``."""
    repo = store.repo
    bad = []
    sessions = store.sessions()
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
        with maintenance_paused(ledger):
            proc = run_git(ledger, "fsck", "--connectivity-only", "--no-dangling", check=False)
        if proc.returncode != 0:
            lines = (proc.stdout + proc.stderr).strip().splitlines()
            return False, f"git fsck failed: {lines[0] if lines else proc.returncode}"
        return True, f"{len(sessions)} session tips readable; git fsck clean"
    return True, f"{len(sessions)} session tips readable"


def unreadable(exc: Exception) -> dict[str, Any]:
    """The health of a ledger whose metrics cannot be read."""
    return {
        "status": "critical",
        "message": f"ledger unreadable: {exc}",
        "checks": {},
        "metrics": None,
    }


def assess(
    metrics: dict[str, Any],
    thresholds: HealthThresholds,
    max_storage_mb: float,
    window_hours: float,
    integrity: tuple[bool, str],
) -> dict[str, Any]:
    """``status`` (the worst check's), ``message``, each check's verdict, and the metrics."""
    checks = _checks(metrics, thresholds, max_storage_mb, window_hours)
    ok, text = integrity
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


def _checks(
    metrics: dict[str, Any], th: HealthThresholds, max_storage_mb: float, window_hours: float
) -> dict[str, dict[str, Any]]:
    """Grade the error rate, the storage used and the time since the last entry."""
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
        f"storage at {used:.1f}% of {max_storage_mb:g} MB",
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
    return checks


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
