"""The audit's entries straight from the query index: no entry is read in full unless the
report lists it in full (errors, deployments, configuration changes).

The index keeps, for every entry, what the report counts and lists: time, type, level,
agent, session, file, drift, and a command's or API call's fields. A 30-day audit so reads
rows from SQLite instead of parsing every entry of the period from git.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pygit2

from ledger.dates import from_micros
from ledger.errors import EntryNotFoundError
from ledger.read.filters import Criteria
from ledger.read.repos import repo_label
from ledger.types import ChangeType, LogLevel

if TYPE_CHECKING:
    from ledger.read.query import LogQuery

_ERRORS = frozenset({LogLevel.ERROR.value, LogLevel.CRITICAL.value})
_COLUMNS = ("id, session_id, ts, type, level, agent, file, file_path, drift, extra, "
            "repo_root, repo_remote")


class IndexedEntry:
    """The fields of an entry the audit needs, from one index row; ``to_dict`` reads the
    entry in full from git."""

    __slots__ = ("_query", "agent_id", "change_type", "drift", "error", "file_path", "id",
                 "level", "metadata", "repository", "session_id", "stamp", "timestamp",
                 "tree_path")

    def __init__(self, query: LogQuery, row: tuple[Any, ...]) -> None:
        entry_id, session, ts, ctype, level, agent, file, file_path, drift, extra = row[:10]
        self.repository: str | None = repo_label(row[10], row[11])
        self._query = query
        self.id: str = entry_id
        self.session_id: str = session
        self.timestamp: dt.datetime = from_micros(ts)
        self.stamp = self.timestamp.isoformat()
        self.change_type = ChangeType(ctype)
        self.level = LogLevel(level)
        self.error = level in _ERRORS
        self.agent_id: str = agent
        self.file_path: str | None = file or file_path
        self.tree_path = None  # file_path already holds the workspace-relative form
        self.drift = bool(drift)
        self.metadata: dict[str, Any] = json.loads(extra) if extra else {}

    @property
    def description(self) -> str:
        return str(self.metadata.get("command", self.metadata.get("description", "")))

    def to_dict(self) -> dict[str, Any]:
        """The entry in full, read from git."""
        commit = self._query.store.repo.get(self.id)
        entry = (
            self._query.store.entry_from_commit(commit)
            if isinstance(commit, pygit2.Commit)
            else None
        )
        if entry is None:
            raise EntryNotFoundError(f"the index lists {self.id}, which git does not hold")
        return entry.to_dict()


def indexed_entries(query: LogQuery, crit: Criteria) -> list[IndexedEntry] | None:
    """The period's entries from the index (each once), or None when it cannot be used."""
    if query.index is None:
        return None
    where, args = crit.sql_where()
    sql = f"SELECT {_COLUMNS} FROM entries" + query.scope_sql(where) + " ORDER BY ts"
    with query.index.session(query.progress) as conn:
        if conn is None:
            return None
        return list(_unique(query, conn.execute(sql, args)))


def _unique(query: LogQuery, rows: Any) -> Iterator[IndexedEntry]:
    seen: set[str] = set()
    for row in rows:
        if row[0] not in seen:  # a commit two copies of a session share
            seen.add(row[0])
            yield IndexedEntry(query, row)
