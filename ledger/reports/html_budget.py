"""How the HTML audit page stays readable and small: the timeline of events people care
about, and the "first N, then counts" rule every long list follows.

At 10,000 entries a page listing every row and diff would be megabytes tall; the JSON and
Markdown reports keep every row, the page shows the first rows of each list and says how
many more there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger._words import plural
from ledger.reports.html_cells import esc, pill, table, td, when

MAX_ROWS = 100  # rows of each table on the page
MAX_TIMELINE = 150  # timeline events
PAGE_BUDGET_BYTES = 1_000_000  # what the page stays under at 10,000 entries (tested)


def capped(rows: Sequence[Any], limit: int = MAX_ROWS) -> tuple[Sequence[Any], int]:
    """The first ``limit`` rows and how many were left out."""
    return rows[:limit], max(len(rows) - limit, 0)


def more_note(left_out: int, noun: str, many: str | None = None) -> str:
    """"… and 1,234 more errors (every one is in the JSON report)", or nothing."""
    if not left_out:
        return ""
    text = plural(left_out, noun, many).split(" ", 1)[1]
    return (f'<p class="muted">… and {left_out:,} more {esc(text)}; the JSON and Markdown '
            "reports list every one.</p>")


def _who(item: Mapping[str, Any]) -> str:
    return f"{item.get('agent_id', '')} / {item.get('session_id', '')}"


def events(report: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(time, kind, pill class, who, what) of the events people care about, oldest first.

    Each failure appears once (an error-level command is one "failed command" row, not
    also an "error" row, and a critical deployment one "critical" row); deployments,
    configuration changes and undo (restore, revert) are listed; session starts and ends
    are not events.
    """
    rows: list[tuple[str, str, str, str, str]] = []
    seen: set[str] = set()
    for c in report.get("commands") or []:
        if c.get("exit_code") not in (0, None):
            seen.add(str(c.get("id")))
            rows.append((c.get("timestamp") or "", "failed command", "fail", _who(c),
                         f"{c.get('command')} (exit {c.get('exit_code')})"))
    for c in report.get("api_calls") or []:
        status = c.get("status_code")
        if isinstance(status, int) and status >= 400:
            seen.add(str(c.get("id")))
            rows.append((c.get("timestamp") or "", "failed API call", "fail", _who(c),
                         f"{c.get('method') or ''} {c.get('endpoint') or ''} → {status}"))
    for e in report.get("errors") or []:
        if str(e.get("id")) not in seen:
            seen.add(str(e.get("id")))
            level = str(e.get("level") or "error")
            rows.append((e.get("timestamp") or "", level, level, _who(e),
                         e.get("description") or ""))
    for key, kind in (("deployments", "deployment"), ("config_changes", "config change")):
        for item in report.get(key) or []:
            if str(item.get("id")) not in seen:
                rows.append((item.get("timestamp") or "", kind, "event", _who(item),
                             item.get("description") or ""))
    for u in report.get("undos") or []:
        rows.append((u.get("timestamp") or "", str(u.get("undo_kind") or "undo"), "undo",
                     _who(u), u.get("description") or ""))
    rows.sort(key=lambda r: r[0])
    return rows


def timeline(report: Mapping[str, Any]) -> str:
    """Failures (each once), deployments, configuration changes and undo, oldest first."""
    found = events(report)
    shown, left_out = capped(found, MAX_TIMELINE)
    rows = [(td(when(t)), pill(kind, cls), td(who), td(what)) for t, kind, cls, who, what in shown]
    return (table(["Time", "Event", "Agent / session", "Detail"], rows,
                  "No failures, deployments, configuration changes or undo in the period.")
            + more_note(left_out, "event"))


MAX_DIFFS_SHOWN = 40  # folded diffs on the page (each up to 400 lines)
