"""The one filter of every query: which entries match, built once from a query's arguments.

The same Criteria rules commits out by their message trailers, tests each entry exactly, and
gives the SQL that asks the index for the same entries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable
from typing import Any

from ledger._names import check_path, validate_session_id
from ledger.dates import as_datetime, floor_seconds, micros
from ledger.entry import T_AGENT, T_FILE, T_LEVEL, T_SESSION, T_TYPE, Entry
from ledger.errors import InvalidDateError, InvalidInputError
from ledger.read.index_rows import entry_file, path_bounds, search_text
from ledger.read.repos import RepoScope, repo_scope
from ledger.types import ChangeType, LogLevel, change_type, log_level

DateLike = dt.datetime | dt.date | str | None


def normalize_path(path: str | os.PathLike[str]) -> str:
    """A file path to match, without leading ``./`` or trailing ``/``; refuses an empty one.

    Nothing else changes: a name may begin or end with spaces, as a recorded one may.
    """
    text = os.fspath(path)
    while text.startswith("./"):
        text = text[2:]
    if not text:
        raise InvalidInputError("file path to match is empty")
    check_path(text)  # a path the ledger would refuse to record can match nothing: say so
    base = text.rstrip("/")
    return base


def path_matches(entry: Entry, base: str, *, folder: bool = True) -> bool:
    """True when the entry's file (as given, or workspace-relative) is ``base`` or under it."""
    for cand in (entry.file_path, entry_file(entry)):
        if cand is None:
            continue
        while cand.startswith("./"):
            cand = cand[2:]
        if cand == base or (folder and cand.startswith(base + "/")):
            return True
    return False


def date_range(
    start_date: DateLike, end_date: DateLike
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Both bounds as aware UTC (a bare end day means the whole day); refuses start > end."""
    start = as_datetime(start_date)
    end = as_datetime(end_date, end=True)
    if start is not None and end is not None and start > end:
        raise InvalidDateError(
            f"the start date ({start.isoformat()}) is after the end date ({end.isoformat()})"
        )
    return start, end


@dataclasses.dataclass(frozen=True)
class Criteria:
    """What a query asks for; None (or False for ``folder``) leaves a field unfiltered."""

    types: frozenset[str] | None = None
    levels: frozenset[str] | None = None
    session: str | None = None
    agent: str | None = None
    path: str | None = None
    folder: bool = True
    text: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    repo: RepoScope | None = None

    @property
    def start_sec(self) -> int | None:
        return floor_seconds(self.start) if self.start is not None else None

    @property
    def end_sec(self) -> int | None:
        return floor_seconds(self.end) if self.end is not None else None

    def trailers_ok(self, trailers: dict[str, str]) -> bool:
        """What the commit message alone can rule out (necessary, never sufficient)."""
        if self.types is not None and trailers.get(T_TYPE) not in self.types:
            return False
        if self.levels is not None and trailers.get(T_LEVEL) not in self.levels:
            return False
        if self.session is not None and trailers.get(T_SESSION) != self.session:
            return False
        if self.agent is not None and trailers.get(T_AGENT) != self.agent:
            return False
        return not (self.path is not None and T_FILE not in trailers)

    def entry_ok(self, entry: Entry) -> bool:
        """The exact test, on the entry read from its blob."""
        if self.types is not None and entry.change_type.value not in self.types:
            return False
        if self.levels is not None and entry.level.value not in self.levels:
            return False
        if self.session is not None and entry.session_id != self.session:
            return False
        if self.agent is not None and entry.agent_id != self.agent:
            return False
        if self.start is not None and entry.timestamp < self.start:
            return False
        if self.end is not None and entry.timestamp > self.end:
            return False
        if self.path is not None and not path_matches(entry, self.path, folder=self.folder):
            return False
        if self.repo is not None and not self.repo.entry_ok(entry.metadata):
            return False
        return not (self.text is not None and self.text not in search_text(entry))

    def sql_where(self) -> tuple[str, list[Any]]:
        """The index's ``WHERE`` clause for these criteria (``""`` for none) and its arguments.

        The session is not part of it: session queries walk their one chain instead.
        """
        where: list[str] = []
        args: list[Any] = []
        if self.start is not None:
            where.append("ts >= ?")
            args.append(micros(self.start))
        if self.end is not None:
            where.append("ts <= ?")
            args.append(micros(self.end))
        for column, values in (("type", self.types), ("level", self.levels)):
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(sorted(values))
        if self.agent is not None:
            where.append("agent = ?")
            args.append(self.agent)
        if self.path is not None:
            exact, prefix, upper = path_bounds(self.path)
            parts = []
            for column in ("file", "file_path"):
                parts.append(f"{column} = ?")
                args.append(exact)
                if self.folder:
                    parts.append(f"({column} >= ? AND {column} < ?)")
                    args.extend([prefix, upper])
            where.append("(" + " OR ".join(parts) + ")")
        if self.text is not None:
            where.append("instr(text, ?) > 0")
            args.append(self.text)
        if self.repo is not None:
            cond, more = self.repo.sql()
            where.append(cond)
            args.extend(more)
        return (" WHERE " + " AND ".join(where) if where else ""), args


def _values_of(items: Iterable[Any] | Any, coerce: Any) -> frozenset[str] | None:
    """One value or several, coerced to their enum values; None when none are given."""
    if items is None:
        return None
    listed = [items] if isinstance(items, str) else list(items)
    return frozenset(coerce(v).value for v in listed) if listed else None


def build_criteria(
    change_types: Iterable[ChangeType | str] | ChangeType | str | None,
    file_path: str | os.PathLike[str] | None,
    start_date: DateLike,
    end_date: DateLike,
    text: str | None,
    session_id: str | None,
    agent_id: str | None,
    levels: Iterable[LogLevel | str] | LogLevel | str | None,
    repo: str | os.PathLike[str] | RepoScope | None = None,
) -> Criteria:
    """The Criteria of :meth:`LogQuery.query`'s arguments, each checked and normalised."""
    types = _values_of(change_types, change_type)
    lvls = _values_of(levels, log_level)
    start, end = date_range(start_date, end_date)
    if session_id is not None:
        validate_session_id(session_id)
    return Criteria(
        types=types,
        levels=lvls,
        session=session_id,
        agent=agent_id,
        path=normalize_path(file_path) if file_path is not None else None,
        text=text.lower() if text else None,
        start=start,
        end=end,
        repo=as_scope(repo),
    )


def as_scope(repo: str | os.PathLike[str] | RepoScope | None) -> RepoScope | None:
    """A ``repo=`` argument as a scope: a folder, a recorded root or a remote URL."""
    if repo is None or isinstance(repo, RepoScope):
        return repo
    return repo_scope(repo)
