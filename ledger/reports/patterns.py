"""Pattern analysis: when agents work, what they change, what fails, how fast APIs answer.

``LogQuery.analyze_patterns`` delegates here; entries are tallied in one streaming pass.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ledger.dates import iso_or_none
from ledger.entry import Entry
from ledger.read.filters import Criteria, DateLike, date_range
from ledger.read.index import Progress
from ledger.read.index_rows import entry_file
from ledger.read.walk import scan
from ledger.types import FILE_CHANGE_TYPES, ChangeType, LogLevel

if TYPE_CHECKING:  # annotations only: LogQuery loads this module when a report is asked for
    from ledger.read.query import LogQuery


def analyze_patterns(
    query: LogQuery,
    start_date: DateLike = None,
    end_date: DateLike = None,
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The patterns of ``query``'s ledger in a period; see ``LogQuery.analyze_patterns``."""
    start, end = date_range(start_date, end_date)
    crit = Criteria(start=start, end=end)
    return pattern_data(scan(query.store, crit, progress, query.archives()), start, end)


class _Tally:
    """Everything the analysis counts, filled one entry at a time (memory stays small)."""

    def __init__(self) -> None:
        self.hours: Counter[str] = Counter()
        self.days: Counter[str] = Counter()
        self.day_errors: Counter[str] = Counter()
        self.files: Counter[str] = Counter()
        self.types: Counter[str] = Counter()
        self.levels: Counter[str] = Counter()
        self.commands: dict[str, dict[str, Any]] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.total = 0
        self.first: dt.datetime | None = None
        self.last: dt.datetime | None = None

    def add(self, e: Entry) -> None:
        self.total += 1
        self.first = e.timestamp if self.first is None else min(self.first, e.timestamp)
        self.last = e.timestamp if self.last is None else max(self.last, e.timestamp)
        day = e.timestamp.strftime("%Y-%m-%d")
        is_error = e.level.rank >= LogLevel.ERROR.rank
        self.hours[f"{e.timestamp.hour:02d}"] += 1
        self.days[day] += 1
        self.day_errors[day] += is_error
        self.types[e.change_type.value] += 1
        self.levels[e.level.value] += 1
        if e.file_path is not None and e.change_type in FILE_CHANGE_TYPES:
            self.files[entry_file(e) or e.file_path] += 1
        if e.change_type is ChangeType.SYSTEM_COMMAND:
            self._add_command(e)
        elif e.change_type is ChangeType.API_CALL:
            self._add_call(e)
        self._add_agent_and_session(e, is_error)

    def _add_command(self, e: Entry) -> None:
        meta = e.metadata
        name = str(meta.get("command", e.description))
        c = self.commands.setdefault(
            name, {"command": name, "runs": 0, "failures": 0, "exit_codes": Counter()}
        )
        code = meta.get("exit_code")
        c["runs"] += 1
        c["failures"] += code not in (0, None)
        c["exit_codes"][str(code)] += 1

    def _add_call(self, e: Entry) -> None:
        meta = e.metadata
        name = str(meta.get("endpoint", e.description))
        p = self.endpoints.setdefault(
            name,
            {"endpoint": name, "calls": 0, "errors": 0, "methods": Counter(), "_durations": []},
        )
        p["calls"] += 1
        status = meta.get("status_code")
        p["errors"] += isinstance(status, int) and status >= 400
        p["methods"][str(meta.get("method"))] += 1
        if isinstance(meta.get("duration_seconds"), int | float):
            p["_durations"].append(float(meta["duration_seconds"]))

    def _add_agent_and_session(self, e: Entry, is_error: bool) -> None:
        a = self.agents.setdefault(
            e.agent_id, {"agent_id": e.agent_id, "entries": 0, "errors": 0, "sessions": set()}
        )
        a["entries"] += 1
        a["errors"] += is_error
        a["sessions"].add(e.session_id)
        s = self.sessions.setdefault(
            e.session_id,
            {
                "session_id": e.session_id,
                "agent_id": e.agent_id,
                "entries": 0,
                "errors": 0,
                "first": e.timestamp,
                "last": e.timestamp,
            },
        )
        s["entries"] += 1
        s["errors"] += is_error
        s["first"] = min(s["first"], e.timestamp)
        s["last"] = max(s["last"], e.timestamp)


def _endpoint_rows(endpoints: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for p in endpoints.values():
        durations = p.pop("_durations")
        p["methods"] = dict(p["methods"])
        p["avg_duration_seconds"] = round(sum(durations) / len(durations), 6) if durations else None
        p["max_duration_seconds"] = max(durations) if durations else None
        rows.append(p)
    rows.sort(key=lambda p: (-p["calls"], p["endpoint"]))
    return rows


def _failing_commands(commands: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    failing = [
        {**c, "exit_codes": dict(c["exit_codes"])} for c in commands.values() if c["failures"]
    ]
    failing.sort(key=lambda c: (-c["failures"], c["command"]))
    return failing


def _agent_rows(agents: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        {**a, "sessions": len(a["sessions"]), "error_rate": round(a["errors"] / a["entries"], 4)}
        for a in agents.values()
    ]
    rows.sort(key=lambda a: (-a["entries"], a["agent_id"]))
    return rows


def _session_rows(sessions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for s in sessions.values():
        first_s, last_s = s.pop("first"), s.pop("last")
        rows.append(
            {
                **s,
                "first_timestamp": first_s.isoformat(),
                "last_timestamp": last_s.isoformat(),
                "duration_seconds": (last_s - first_s).total_seconds(),
                "error_rate": round(s["errors"] / s["entries"], 4),
            }
        )
    rows.sort(key=lambda s: s["first_timestamp"])
    return rows


def pattern_data(
    entries: Iterable[Entry], start: dt.datetime | None, end: dt.datetime | None
) -> dict[str, Any]:
    """The pattern report (keys in docs/api.md) of the entries of the period."""
    t = _Tally()
    for e in entries:
        t.add(e)
    endpoint_rows = _endpoint_rows(t.endpoints)
    timed = [p for p in endpoint_rows if p["avg_duration_seconds"] is not None]
    return {
        "report_type": "patterns",
        "period": {"start": iso_or_none(start), "end": iso_or_none(end)},
        "total_entries": t.total,
        "first_timestamp": iso_or_none(t.first),
        "last_timestamp": iso_or_none(t.last),
        "activity_by_hour": {f"{h:02d}": t.hours[f"{h:02d}"] for h in range(24)},
        "activity_by_day": dict(sorted(t.days.items())),
        "most_changed_files": [
            {"file_path": name, "changes": n} for name, n in t.files.most_common(20)
        ],
        "type_distribution": dict(t.types.most_common()),
        "level_distribution": {
            lv.value: t.levels[lv.value] for lv in LogLevel if t.levels[lv.value]
        },
        "error_rate_by_day": {
            day: {
                "entries": t.days[day],
                "errors": t.day_errors[day],
                "rate": round(t.day_errors[day] / t.days[day], 4),
            }
            for day in sorted(t.days)
        },
        "failing_commands": _failing_commands(t.commands),
        "api_endpoints": endpoint_rows,
        "most_frequent_endpoints": [p["endpoint"] for p in endpoint_rows[:10]],
        "slowest_endpoints": [
            p["endpoint"] for p in sorted(timed, key=lambda p: -p["avg_duration_seconds"])[:10]
        ],
        "agents": _agent_rows(t.agents),
        "sessions": _session_rows(t.sessions),
    }
