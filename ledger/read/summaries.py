"""Per-session rows and totals of a query: from the index when it can answer, else from a walk.

Mixed into LogQuery, which provides the store, the index and the session tips these read.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from ledger._graph import first_parents
from ledger._layout import SESSION_REF_PREFIX
from ledger._store import LedgerStore
from ledger.dates import from_micros
from ledger.read.archived import Archives
from ledger.read.filters import Criteria
from ledger.read.index import Progress, QueryIndex
from ledger.read.walk import scan
from ledger.types import LogLevel

Totals = tuple[Counter[str], Counter[str], set[str], dt.datetime | None, dt.datetime | None]


class SessionSummaries:
    """The session listing and the totals behind ``list_sessions`` and ``stats``."""

    store: LedgerStore
    index: QueryIndex | None
    progress: Progress | None

    def scope_sql(self, where: str = "") -> str:
        raise NotImplementedError  # LogQuery's

    def archives(self) -> Archives:
        raise NotImplementedError  # LogQuery's

    def _session_row(
        self,
        session: str,
        agents: list[str],
        first: dt.datetime,
        last: dt.datetime,
        count: int,
        errors: int,
        tips: dict[str, bytes],
    ) -> dict[str, Any]:
        archived = self.archives().sessions.get(session)
        return {
            "session_id": session,
            "agent_id": agents[0] if len(agents) == 1 else ",".join(agents),
            "agents": agents,
            "branch": SESSION_REF_PREFIX + session,
            "tip": tips[session].hex() if session in tips else None,
            "first_timestamp": first.isoformat(),
            "last_timestamp": last.isoformat(),
            "entries": count,
            "errors": errors,
            "archive": archived.bundle if archived is not None else None,
        }

    def _indexed_session_rows(self, tips: dict[str, bytes]) -> dict[str, dict[str, Any]]:
        """The session rows from the index ({} when it cannot be used)."""
        rows: dict[str, dict[str, Any]] = {}
        if self.index is None:
            return rows
        with self.index.session(self.progress) as conn:
            if conn is not None:
                for session, agents, first, last, count, errors in conn.execute(
                    "SELECT session, group_concat(DISTINCT agent), min(ts), max(ts), "
                    "count(*), sum(level IN ('error', 'critical')) "
                    "FROM entries" + self.scope_sql() + " GROUP BY session"
                ):
                    names = sorted(set(agents.split(","))) if agents else []
                    rows[session] = self._session_row(
                        session,
                        names,
                        from_micros(first),
                        from_micros(last),
                        count,
                        errors,
                        tips,
                    )
        return rows

    def _walked_session_rows(self, tips: dict[str, bytes]) -> dict[str, dict[str, Any]]:
        """The session rows read from each session's chain."""
        rows: dict[str, dict[str, Any]] = {}
        for session, tip in tips.items():
            entries = [
                e for e in map(self.store.entry_from_commit, first_parents(self.store.repo, tip))
                if e is not None
            ]
            if not entries:
                continue
            rows[session] = self._session_row(
                session,
                sorted({e.agent_id for e in entries}),
                entries[-1].timestamp,
                entries[0].timestamp,
                len(entries),
                sum(1 for e in entries if e.level.rank >= LogLevel.ERROR.rank),
                tips,
            )
        return rows

    def _indexed_totals(self) -> Totals | None:
        """The whole ledger's figures from the index (None when it cannot be used)."""
        if self.index is None:
            return None
        by_type: Counter[str] = Counter()
        by_level: Counter[str] = Counter()
        first: dt.datetime | None = None
        last: dt.datetime | None = None
        with self.index.session(self.progress) as conn:
            if conn is None:
                return None
            for ctype, level, n in conn.execute(
                "SELECT type, level, count(*) FROM entries" + self.scope_sql()
                + " GROUP BY type, level"
            ):
                by_type[ctype] += n
                by_level[level] += n
            scope = self.scope_sql()
            agents = {a for (a,) in conn.execute("SELECT DISTINCT agent FROM entries" + scope)}
            lo, hi = conn.execute("SELECT min(ts), max(ts) FROM entries" + scope).fetchone()
            if lo is not None:
                first, last = from_micros(lo), from_micros(hi)
        return by_type, by_level, agents, first, last

    def _walked_totals(self) -> Totals:
        """The whole ledger's figures read from every entry."""
        by_type: Counter[str] = Counter()
        by_level: Counter[str] = Counter()
        agents: set[str] = set()
        first: dt.datetime | None = None
        last: dt.datetime | None = None
        for entry in scan(self.store, Criteria(), archived=self.archives()):
            by_type[entry.change_type.value] += 1
            by_level[entry.level.value] += 1
            agents.add(entry.agent_id)
            first = entry.timestamp if first is None else min(first, entry.timestamp)
            last = entry.timestamp if last is None else max(last, entry.timestamp)
        return by_type, by_level, agents, first, last

