"""LogQuery: find what agents did by walking the ledger's commit graph.

Reads go refs -> commits -> trees -> blobs. Ordered queries merge the sessions' linear
chains newest first with a heap (:mod:`ledger.read.walk`), skip sessions whose tip is older
than the window, filter on commit time and message trailers before reading any blob
(:mod:`ledger.read.filters`), and stop at the limit. Questions that must look at every entry
(full text, a path, per-session figures) use the disposable index of :mod:`ledger.read.index`
when it can be used, and the walk otherwise. Reports on a period live in :mod:`ledger.reports`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterable, Iterator
from typing import Any

import pygit2

from ledger._names import validate_session_id
from ledger._store import LedgerStore
from ledger.dates import iso_or_none
from ledger.entry import Entry
from ledger.errors import InvalidInputError
from ledger.location import resolve_ledger_dir
from ledger.read.archived import Archives, open_archives
from ledger.read.diff import entry_diff
from ledger.read.filters import Criteria, DateLike, as_scope, build_criteria, normalize_path
from ledger.read.index import LIVE_SQL, Progress, QueryIndex
from ledger.read.repos import RepoScope
from ledger.read.summaries import SessionSummaries
from ledger.read.walk import merged
from ledger.types import ChangeType, LogLevel

"""Whole-ledger figures: entries by type, by level, the agents, first and last timestamps."""


class LogQuery(SessionSummaries):
    """Query and analyse a ledger.

    Args:
        ledger_dir: the ledger repository (else ``$GIT_LEDGER_DIR``, ``git config
            ledger.dir``, or the per-user default). It must exist: reads never create one.
        use_index: allow the disposable accelerator for full-text, path and per-session
            questions (set False to always walk the commit graph).
        log_dir: the seed's name for ``ledger_dir``.
        progress: called as ``progress(done, total)`` while the index catches up with many
            new sessions (its first use on a large ledger reads every entry once).
        live_only: leave out the sessions maintenance archived into bundles (by default
            every answer includes them, read from the bundles without restoring refs).
    """

    def __init__(
        self,
        ledger_dir: str | os.PathLike[str] | None = None,
        *,
        use_index: bool = True,
        log_dir: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
        live_only: bool = False,
    ) -> None:
        self.ledger_dir = resolve_ledger_dir(ledger_dir if ledger_dir is not None else log_dir)
        self.progress = progress
        self.live_only = live_only
        self.store = LedgerStore(self.ledger_dir, archives=not live_only)
        self._archives: Archives | None = None
        self.index: QueryIndex | None = (
            QueryIndex(self.store, self._sources, live_only=live_only) if use_index else None
        )

    # -- the archive ---------------------------------------------------------------------
    def archives(self) -> Archives:
        """The archived sessions answers include (none with ``live_only``), read once."""
        if self._archives is None:
            self._archives = (
                Archives() if self.live_only else open_archives(self.store, self.store.sessions())
            )
        return self._archives

    @property
    def archives_opened(self) -> bool:
        """True once an answer has read the archive catalogue."""
        return self._archives is not None

    def not_covered(self) -> list[dict[str, Any]]:
        """The bundles answers could not include (missing or unreadable), one row each."""
        return [u.as_dict() for u in self.archives().uncovered]

    def warnings(self) -> list[str]:
        """One line for each bundle answers could not include."""
        return [u.line() for u in self.archives().uncovered]

    def _sources(self) -> dict[str, tuple[bytes, bool]]:
        out = {s: (t, False) for s, t in self.store.sessions().items()}
        out.update((k, (t, True)) for k, t in self.archives().tips().items())
        return out

    def _tips(self) -> dict[str, bytes]:
        """Every session's tip, archived copies included unless ``live_only``."""
        return {k: t for k, (t, _) in self._sources().items()}

    # -- the seed's API ----------------------------------------------------------------
    def query(
        self,
        change_types: Iterable[ChangeType | str] | ChangeType | str | None = None,
        file_path: str | os.PathLike[str] | None = None,
        start_date: DateLike = None,
        end_date: DateLike = None,
        search_text: str | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        levels: Iterable[LogLevel | str] | LogLevel | str | None = None,
        limit: int | None = None,
        repo: str | os.PathLike[str] | RepoScope | None = None,
    ) -> list[Entry]:
        """Entries matching every given filter, newest first.

        Args:
            change_types: one type or several; any of them matches.
            file_path: a file or a folder prefix (``api/`` finds ``api/main.py``), matched
                against the path as recorded and its workspace-relative form.
            start_date, end_date: inclusive bounds; naive datetimes are local time, a bare
                date as ``end_date`` means the whole day; strings as for the CLI (``7d``).
            search_text: case-insensitive text in the description or any metadata value
                (command, output, decision, reasoning, endpoint, ...).
            session_id, agent_id: exact ids.
            levels: one level or several.
            limit: at most this many entries (the newest).
            repo: only this repository's entries: a folder inside it, the workspace root
                as recorded, or its remote URL (``git@host:a/b.git`` and
                ``https://host/a/b`` are the same repository).
        """
        crit = build_criteria(
            change_types,
            file_path,
            start_date,
            end_date,
            search_text,
            session_id,
            agent_id,
            levels,
            repo,
        )
        if limit is not None:
            if limit < 0:
                raise InvalidInputError(f"limit must be 0 or more, not {limit}")
            if limit == 0:
                return []
        # Text and paths need every entry, and so does a query without a limit: ask the
        # index which entries match rather than reading each commit of the period.
        if crit.session is None and (
            crit.text is not None or crit.path is not None or crit.repo is not None
            or limit is None
        ):
            found = self._indexed(crit, limit, newest_first=True)
            if found is not None:
                return found
        walk = merged(self.store, self.index, crit, self.archives())
        return list(itertools.islice(walk, limit))

    def iter_query(
        self,
        change_types: Iterable[ChangeType | str] | ChangeType | str | None = None,
        file_path: str | os.PathLike[str] | None = None,
        start_date: DateLike = None,
        end_date: DateLike = None,
        search_text: str | None = None,
        session_id: str | None = None,
        agent_id: str | None = None,
        levels: Iterable[LogLevel | str] | LogLevel | str | None = None,
        repo: str | os.PathLike[str] | RepoScope | None = None,
    ) -> Iterator[Entry]:
        """Like :meth:`query` without a limit, but lazily: entries stream newest first
        from the commit graph, so memory stays flat however many match (exports)."""
        crit = build_criteria(
            change_types,
            file_path,
            start_date,
            end_date,
            search_text,
            session_id,
            agent_id,
            levels,
            repo,
        )
        return merged(self.store, self.index, crit, self.archives())

    def get_recent_changes(
        self,
        hours: float = 24,
        limit: int | None = 100,
        repo: str | os.PathLike[str] | RepoScope | None = None,
    ) -> list[Entry]:
        """Entries of the last ``hours`` hours, newest first (``repo``: as for :meth:`query`)."""
        if hours < 0:
            raise InvalidInputError(f"hours must be 0 or more, not {hours}")
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
        return self.query(start_date=start, limit=limit, repo=repo)

    def get_session_logs(self, session_id: str) -> list[Entry]:
        """Every entry of one session, oldest first (the order they were recorded)."""
        validate_session_id(session_id)
        entries = list(self.store.walk_session(session_id))
        keys = self.archives().keys_of(session_id)
        if not keys:
            entries.reverse()
            return entries
        crit = Criteria(session=session_id)
        entries = list(merged(self.store, None, crit, self.archives()))
        entries.reverse()
        return entries

    def get_entry(self, id_or_prefix: str) -> Entry:
        """One entry by full id or unique prefix (7+ hex digits)."""
        return self.store.get_entry(id_or_prefix, self.archives().tips().values())

    def get_file_history(
        self,
        file_path: str | os.PathLike[str],
        repo: str | os.PathLike[str] | RepoScope | None = None,
    ) -> list[Entry]:
        """Every entry about this file across all sessions, oldest first.

        ``repo`` keeps one repository's entries (as for :meth:`query`); without it the same
        path in every repository is listed.

        Each entry carries ``file_hash_before``/``file_hash_after`` and reads its states on
        demand; :meth:`get_diff` gives the step's unified diff.
        """
        crit = Criteria(path=normalize_path(file_path), folder=False, repo=as_scope(repo))
        found = self._indexed(crit, None, newest_first=False)
        if found is not None:
            return found
        entries = list(merged(self.store, self.index, crit, self.archives()))
        entries.reverse()
        return entries

    def get_diff(self, entry: Entry | str, context: int = 3) -> str:
        """The unified diff of a file change (``""`` for entries without file states)."""
        if isinstance(entry, str):
            entry = self.get_entry(entry)
        return entry_diff(entry, context)

    def list_sessions(
        self, repo: str | os.PathLike[str] | RepoScope | None = None
    ) -> list[dict[str, Any]]:
        """One row per session, most recently active first.

        Keys: session_id, agent_id, agents, branch, tip, first_timestamp, last_timestamp,
        entries, errors (error and critical entries), archive (the bundle of an archived
        session, else None). ``repo``: only sessions with an entry in that repository.
        """
        tips = self._tips()
        scope = as_scope(repo)
        if scope is not None:
            keep = {e.session_id for e in self.iter_query(repo=scope)}
            archived = self.archives().sessions
            tips = {
                k: t for k, t in tips.items()
                if (archived[k].session if k in archived else k) in keep
            }
        rows = self._indexed_session_rows(tips)
        if not rows:
            rows = self._walked_session_rows(tips)
        out = [rows[s] for s in tips if s in rows]
        out.sort(key=lambda r: r["last_timestamp"], reverse=True)
        return out

    def stats(self) -> dict[str, Any]:
        """Counts for the whole ledger: entries, sessions, agents, by type and by level."""
        sessions = self._tips()
        totals = self._indexed_totals()
        if totals is None:
            totals = self._walked_totals()
        by_type, by_level, agents, first, last = totals
        return {
            "ledger_dir": str(self.ledger_dir),
            "total_entries": sum(by_type.values()),
            "sessions": len(sessions),
            "archived_sessions": len(self.archives().sessions),
            "agents": len(agents),
            "by_type": dict(by_type.most_common()),
            "by_level": {lv.value: by_level[lv.value] for lv in LogLevel if by_level[lv.value]},
            "first_timestamp": iso_or_none(first),
            "last_timestamp": iso_or_none(last),
        }

    # -- reports (they sit above the read side, so they load on first use) ---------------
    def generate_audit_report(
        self,
        start_date: DateLike,
        end_date: DateLike = None,
        output_file: str | os.PathLike[str] | None = None,
        format: str = "json",
        *,
        fsck: bool = True,
        verify: bool = False,
        progress: Progress | None = None,
        repo: str | os.PathLike[str] | RepoScope | None = None,
    ) -> dict[str, Any]:
        """An audit of what happened between two dates, as a plain dict.

        The keys are documented in docs/api.md. With ``output_file`` the report is also
        written there, as JSON or (``format="markdown"``) Markdown.

        Args:
            start_date, end_date: the period (``end_date`` defaults to now).
            output_file: where to write the report.
            format: ``json`` or ``markdown`` for the file.
            fsck: run ``git fsck`` for the integrity section.
            verify: add ``git ledger verify``'s result (checkpoints, signatures, problems)
                to the integrity section as ``integrity.verify``.
            progress: called with (sessions read, sessions to read).
            repo: only this repository's entries (as for :meth:`query`).
        """
        from ledger.reports.audit import generate_audit_report

        return generate_audit_report(
            self, start_date, end_date, output_file, format, fsck=fsck, verify=verify,
            progress=progress, repo=repo,
        )

    def analyze_patterns(
        self,
        start_date: DateLike = None,
        end_date: DateLike = None,
        *,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Activity patterns: by hour and day, files, types, levels, errors, commands, APIs,
        agents and sessions (keys in docs/api.md). Without dates: the whole ledger."""
        from ledger.reports.patterns import analyze_patterns

        return analyze_patterns(self, start_date, end_date, progress=progress)

    # -- internals -----------------------------------------------------------------------
    def _indexed(
        self, crit: Criteria, limit: int | None, *, newest_first: bool
    ) -> list[Entry] | None:
        """Answer through the index; None when it cannot be used (the caller walks)."""
        if self.index is None:
            return None
        where, args = crit.sql_where()
        sql = "SELECT id FROM entries" + self.scope_sql(where)
        sql += " ORDER BY ts DESC" if newest_first else " ORDER BY ts ASC"
        if limit is not None:
            sql += f" LIMIT {int(limit) * 2 + 10}"  # room for the rare shared commit
        with self.index.session(self.progress) as conn:
            if conn is None:
                return None
            ids = [row[0] for row in conn.execute(sql, args)]
        return self._read_back(self.index, ids, crit, limit)

    def scope_sql(self, where: str = "") -> str:
        """``where`` narrowed to live sessions when ``live_only``."""
        if not self.live_only:
            return where
        return where + (" AND " if where else " WHERE ") + LIVE_SQL

    def _read_back(
        self, index: QueryIndex, ids: list[str], crit: Criteria, limit: int | None
    ) -> list[Entry] | None:
        """The index's answer read from git and checked again; None (and the index dropped)
        when the two disagree."""
        repo = self.store.repo
        out: list[Entry] = []
        seen: set[str] = set()
        for entry_id in ids:
            if entry_id in seen:
                continue
            seen.add(entry_id)
            commit = repo.get(entry_id)
            entry = (
                self.store.entry_from_commit(commit) if isinstance(commit, pygit2.Commit) else None
            )
            if entry is None or not crit.entry_ok(entry):
                index.drop()  # it disagrees with the git data: never trust it again
                return None
            out.append(entry)
            if limit is not None and len(out) >= limit:
                break
        return out
