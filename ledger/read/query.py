"""LogQuery: find what agents did by walking the ledger's commit graph.

Reads go refs -> commits -> trees -> blobs. Ordered queries merge the sessions' linear
chains newest first with a heap, skip sessions whose tip is older than the window, filter
on commit time and message trailers before reading any blob, and stop at the limit.
Questions that must look at every entry (full text, a path, per-session figures) use the
disposable index of :mod:`ledger.read.index` when it can be used, and the walk otherwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import heapq
import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pygit2

from ledger._fs import maintenance_paused
from ledger._graph import first_parents
from ledger._layout import SESSION_REF_PREFIX
from ledger._names import check_path, validate_session_id
from ledger._snapshot import RefSnapshot, snapshot_fsck, take_snapshot
from ledger._store import LedgerStore
from ledger.dates import as_datetime, floor_seconds
from ledger.entry import T_AGENT, T_FILE, T_LEVEL, T_OBSERVATION, T_SESSION, T_TYPE, Entry
from ledger.entry import parse_trailers as _parse_trailers
from ledger.errors import InvalidDateError, InvalidInputError, StorageError
from ledger.location import resolve_ledger_dir
from ledger.read.index import EPOCH, QueryIndex, entry_file, micros, path_bounds, search_text
from ledger.types import FILE_CHANGE_TYPES, ChangeType, LogLevel, change_type, log_level

DateLike = dt.datetime | dt.date | str | None
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` during long work (sessions read so far)."""

FSCK_OUTPUT_LINES = 50


def _normalize_path(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path).strip()
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


@dataclasses.dataclass(frozen=True)
class _Criteria:
    types: frozenset[str] | None = None
    levels: frozenset[str] | None = None
    session: str | None = None
    agent: str | None = None
    path: str | None = None
    folder: bool = True
    text: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None

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
        return not (self.text is not None and self.text not in search_text(entry))


def _iso(ts: dt.datetime | None) -> str | None:
    return ts.isoformat() if ts is not None else None


def _from_micros(value: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=value)


class LogQuery:
    """Query and analyse a ledger.

    Args:
        ledger_dir: the ledger repository (else ``$GIT_LEDGER_DIR``, ``git config
            ledger.dir``, or the per-user default). It must exist: reads never create one.
        use_index: allow the disposable accelerator for full-text, path and per-session
            questions (set False to always walk the commit graph).
        log_dir: the seed's name for ``ledger_dir``.
        progress: called as ``progress(done, total)`` while the index catches up with many
            new sessions (its first use on a large ledger reads every entry once).
    """

    def __init__(
        self,
        ledger_dir: str | os.PathLike[str] | None = None,
        *,
        use_index: bool = True,
        log_dir: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.ledger_dir = resolve_ledger_dir(ledger_dir if ledger_dir is not None else log_dir)
        self.progress = progress
        self.store = LedgerStore(self.ledger_dir)
        self.index: QueryIndex | None = QueryIndex(self.store) if use_index else None

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
        """
        crit = self._criteria(
            change_types, file_path, start_date, end_date, search_text, session_id,
            agent_id, levels,
        )
        if limit is not None:
            if limit < 0:
                raise InvalidInputError(f"limit must be 0 or more, not {limit}")
            if limit == 0:
                return []
        # Text and paths need every entry, and so does a query without a limit: ask the
        # index which entries match rather than reading each commit of the period.
        if crit.session is None and (
            crit.text is not None or crit.path is not None or limit is None
        ):
            found = self._indexed(crit, limit, newest_first=True)
            if found is not None:
                return found
        return list(itertools.islice(self._merged(crit), limit))

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
    ) -> Iterator[Entry]:
        """Like :meth:`query` without a limit, but lazily: entries stream newest first
        from the commit graph, so memory stays flat however many match (exports)."""
        crit = self._criteria(
            change_types, file_path, start_date, end_date, search_text, session_id,
            agent_id, levels,
        )
        return self._merged(crit)

    def get_recent_changes(self, hours: float = 24, limit: int | None = 100) -> list[Entry]:
        """Entries of the last ``hours`` hours, newest first."""
        if hours < 0:
            raise InvalidInputError(f"hours must be 0 or more, not {hours}")
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
        return self.query(start_date=start, limit=limit)

    def get_session_logs(self, session_id: str) -> list[Entry]:
        """Every entry of one session, oldest first (the order they were recorded)."""
        validate_session_id(session_id)
        entries = list(self.store.walk_session(session_id))
        entries.reverse()
        return entries

    def get_entry(self, id_or_prefix: str) -> Entry:
        """One entry by full id or unique prefix (7+ hex digits)."""
        return self.store.get_entry(id_or_prefix)

    def get_file_history(self, file_path: str | os.PathLike[str]) -> list[Entry]:
        """Every entry about this file across all sessions, oldest first.

        Each entry carries ``file_hash_before``/``file_hash_after`` and reads its states on
        demand; :meth:`get_diff` gives the step's unified diff.
        """
        crit = _Criteria(path=_normalize_path(file_path), folder=False)
        found = self._indexed(crit, None, newest_first=False)
        if found is not None:
            return found
        entries = list(self._merged(crit))
        entries.reverse()
        return entries

    def get_diff(self, entry: Entry | str, context: int = 3) -> str:
        """The unified diff of a file change (``""`` for entries without file states)."""
        if isinstance(entry, str):
            entry = self.get_entry(entry)
        if entry.file_path is None or (
            entry.file_hash_before is None and entry.file_hash_after is None
        ):
            return ""
        name = entry_file(entry) or entry.file_path
        before = entry.before_bytes if entry.file_hash_before else None
        after = entry.after_bytes if entry.file_hash_after else None
        if entry.change_type is ChangeType.FILE_CREATE and before is None:
            old_name = "/dev/null"
        else:
            old_name = f"a/{name}"
        new_name = "/dev/null" if entry.change_type is ChangeType.FILE_DELETE else f"b/{name}"
        try:
            old_text = (before or b"").decode("utf-8")
            new_text = (after or b"").decode("utf-8")
        except UnicodeDecodeError:
            return f"Binary files {old_name} and {new_name} differ\n"
        lines = difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            old_name,
            new_name,
            n=context,
        )
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        return "".join(out)

    def list_sessions(self) -> list[dict[str, Any]]:
        """One row per session, most recently active first.

        Keys: session_id, agent_id, agents, branch, tip, first_timestamp, last_timestamp,
        entries, errors (error and critical entries).
        """
        tips = self.store.sessions()
        rows: dict[str, dict[str, Any]] = {}
        if self.index is not None:
            with self.index.session(self.progress) as conn:
                if conn is not None:
                    for session, agents, first, last, count, errors in conn.execute(
                        "SELECT session, group_concat(DISTINCT agent), min(ts), max(ts), "
                        "count(*), sum(level IN ('error', 'critical')) "
                        "FROM entries GROUP BY session"
                    ):
                        names = sorted(set(agents.split(","))) if agents else []
                        rows[session] = self._session_row(
                            session, names, _from_micros(first), _from_micros(last),
                            count, errors, tips,
                        )
        if not rows:
            for session in tips:
                entries = list(self.store.walk_session(session))
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
        out = [rows[s] for s in tips if s in rows]
        out.sort(key=lambda r: r["last_timestamp"], reverse=True)
        return out

    def stats(self) -> dict[str, Any]:
        """Counts for the whole ledger: entries, sessions, agents, by type and by level."""
        by_type: Counter[str] = Counter()
        by_level: Counter[str] = Counter()
        agents: set[str] = set()
        first: dt.datetime | None = None
        last: dt.datetime | None = None
        done = False
        sessions = self.store.sessions()
        if self.index is not None:
            with self.index.session(self.progress) as conn:
                if conn is not None:
                    for ctype, level, n in conn.execute(
                        "SELECT type, level, count(*) FROM entries GROUP BY type, level"
                    ):
                        by_type[ctype] += n
                        by_level[level] += n
                    agents = {a for (a,) in conn.execute("SELECT DISTINCT agent FROM entries")}
                    lo, hi = conn.execute("SELECT min(ts), max(ts) FROM entries").fetchone()
                    if lo is not None:
                        first, last = _from_micros(lo), _from_micros(hi)
                    done = True
        if not done:
            for entry in self._scan(_Criteria()):
                by_type[entry.change_type.value] += 1
                by_level[entry.level.value] += 1
                agents.add(entry.agent_id)
                first = entry.timestamp if first is None else min(first, entry.timestamp)
                last = entry.timestamp if last is None else max(last, entry.timestamp)
        return {
            "ledger_dir": str(self.ledger_dir),
            "total_entries": sum(by_type.values()),
            "sessions": len(sessions),
            "agents": len(agents),
            "by_type": dict(by_type.most_common()),
            "by_level": {lv.value: by_level[lv.value] for lv in LogLevel if by_level[lv.value]},
            "first_timestamp": _iso(first),
            "last_timestamp": _iso(last),
        }

    # -- reports ---------------------------------------------------------------------------
    def generate_audit_report(
        self,
        start_date: DateLike,
        end_date: DateLike = None,
        output_file: str | os.PathLike[str] | None = None,
        format: str = "json",
        *,
        fsck: bool = True,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """An audit of what happened between two dates, as a plain dict.

        The keys are documented in docs/api.md. With ``output_file`` the report is also
        written there, as JSON or (``format="markdown"``) Markdown.

        Args:
            start_date, end_date: the period (``end_date`` defaults to now).
            output_file: where to write the report.
            format: ``json`` or ``markdown`` for the file.
            fsck: run ``git fsck`` for the integrity section.
            progress: called with (sessions read, sessions to read).
        """
        if format not in ("json", "markdown"):
            raise InvalidInputError(f"unknown report format {format!r} (json or markdown)")
        start, end = self._period(start_date, end_date)
        crit = _Criteria(start=start, end=end)
        report = _audit(self._scan(crit, progress), start, end)
        report["generated_at"] = dt.datetime.now(dt.UTC).isoformat()
        report["ledger"] = str(self.ledger_dir)
        snap = take_snapshot(self.ledger_dir, self.store.repo)  # the refs, read once
        tips = {
            name[len(SESSION_REF_PREFIX) :]: bytes.fromhex(oid)
            for name, oid in snap.refs.items()
            if name.startswith(SESSION_REF_PREFIX)
        }
        report["integrity"] = {
            "fsck": self._fsck(snap) if fsck else None,
            "sessions_in_ledger": len(tips),
            "session_tips": [
                {
                    "session_id": s["session_id"],
                    "branch": SESSION_REF_PREFIX + s["session_id"],
                    "tip": tips[s["session_id"]].hex() if s["session_id"] in tips else None,
                }
                for s in report["sessions"]
            ],
        }
        if output_file is not None:
            text = (
                audit_markdown(report)
                if format == "markdown"
                else json.dumps(report, indent=2, ensure_ascii=False) + "\n"
            )
            Path(output_file).write_text(text, encoding="utf-8")
        return report

    def analyze_patterns(
        self,
        start_date: DateLike = None,
        end_date: DateLike = None,
        *,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Activity patterns: by hour and day, files, types, levels, errors, commands, APIs,
        agents and sessions (keys in docs/api.md). Without dates: the whole ledger."""
        start = as_datetime(start_date)
        end = as_datetime(end_date, end=True)
        if start is not None and end is not None and start > end:
            raise InvalidDateError(
                f"the start date ({start.isoformat()}) is after the end date ({end.isoformat()})"
            )
        if start is not None and end is not None and start > end:
            raise InvalidInputError("start date is after end date")
        return _patterns(self._scan(_Criteria(start=start, end=end), progress), start, end)

    # -- internals -----------------------------------------------------------------------
    def _criteria(
        self,
        change_types: Iterable[ChangeType | str] | ChangeType | str | None,
        file_path: str | os.PathLike[str] | None,
        start_date: DateLike,
        end_date: DateLike,
        text: str | None,
        session_id: str | None,
        agent_id: str | None,
        levels: Iterable[LogLevel | str] | LogLevel | str | None,
    ) -> _Criteria:
        types = None
        if change_types is not None:
            items = [change_types] if isinstance(change_types, str) else list(change_types)
            types = frozenset(change_type(t).value for t in items) if items else None
        lvls = None
        if levels is not None:
            items = [levels] if isinstance(levels, str) else list(levels)
            lvls = frozenset(log_level(v).value for v in items) if items else None
        start = as_datetime(start_date)
        end = as_datetime(end_date, end=True)
        if start is not None and end is not None and start > end:
            raise InvalidDateError(
                f"the start date ({start.isoformat()}) is after the end date ({end.isoformat()})"
            )
        if session_id is not None:
            validate_session_id(session_id)
        return _Criteria(
            types=types,
            levels=lvls,
            session=session_id,
            agent=agent_id,
            path=_normalize_path(file_path) if file_path is not None else None,
            text=text.lower() if text else None,
            start=start,
            end=end,
        )

    def _period(self, start_date: DateLike, end_date: DateLike) -> tuple[dt.datetime, dt.datetime]:
        start = as_datetime(start_date)
        if start is None:
            raise InvalidInputError("the report needs a start date")
        end = as_datetime(end_date, end=True) or dt.datetime.now(dt.UTC)
        if start > end:
            raise InvalidInputError("start date is after end date")
        return start, end

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
        }

    def _check(self, commit: pygit2.Commit, crit: _Criteria) -> Entry | None:
        message = commit.message
        trailers = _parse_trailers(message)
        if T_OBSERVATION in trailers or not crit.trailers_ok(trailers):
            return None
        entry = self.store.entry_from_commit(commit)
        if entry is None or not crit.entry_ok(entry):
            return None
        return entry

    def _tips(self, crit: _Criteria) -> dict[str, bytes]:
        if crit.session is not None:
            tip = self.store.tip(crit.session)
            return {crit.session: tip} if tip is not None else {}
        return self.store.sessions()

    def _merged(self, crit: _Criteria) -> Iterator[Entry]:
        """Matching entries newest first: a heap over the sessions' chains by commit time.

        Commit times are whole seconds; entries of one second are ordered by their exact
        timestamps before they are yielded, so a caller may stop at any point.
        """
        repo = self.store.repo
        start_sec, end_sec = crit.start_sec, crit.end_sec
        heap: list[tuple[int, int, pygit2.Commit]] = []
        tips = self._tips(crit)
        known: dict[bytes, int] = {}
        if start_sec is not None and len(tips) > 1 and self.index is not None:
            known = self.index.tip_times(tips.values()) or {}
        for i, tip in enumerate(tips.values()):
            if start_sec is not None and known.get(tip, start_sec) < start_sec:
                continue  # the whole session is older than the window
            head = repo.get(pygit2.Oid(raw=tip))
            if not isinstance(head, pygit2.Commit):
                continue
            if start_sec is not None and head.commit_time < start_sec:
                continue  # the whole session is older than the window
            heap.append((-head.commit_time, i, head))
        heapq.heapify(heap)
        group: list[Entry] = []
        group_sec: int | None = None
        seen: set[str] = set()
        while heap:
            neg, i, current = heap[0]
            when = -neg
            if group_sec is not None and when != group_sec:
                group.sort(key=lambda e: e.timestamp, reverse=True)
                yield from group
                group = []
                # A commit two sessions share (a diverged copy kept under another name)
                # comes up once per session at the same commit time, so duplicates only
                # need looking for within one second: memory stays flat on long walks.
                seen.clear()
            group_sec = when
            if end_sec is None or when <= end_sec:
                entry = self._check(current, crit)
                if entry is not None and len(heap) == 1 and not group:
                    yield entry  # one session left: its chain is already in time order
                elif entry is not None and entry.id not in seen:
                    seen.add(entry.id)
                    group.append(entry)
            parent = repo.get(current.parent_ids[0]) if current.parent_ids else None
            if isinstance(parent, pygit2.Commit) and (
                start_sec is None or parent.commit_time >= start_sec
            ):
                heapq.heapreplace(heap, (-parent.commit_time, i, parent))
            else:
                heapq.heappop(heap)
        group.sort(key=lambda e: e.timestamp, reverse=True)
        yield from group

    def _scan(self, crit: _Criteria, progress: Progress | None = None) -> Iterator[Entry]:
        """Matching entries session by session, in no particular order."""
        repo = self.store.repo
        tips = self._tips(crit)
        start_sec, end_sec = crit.start_sec, crit.end_sec
        seen: set[str] = set()
        total = len(tips)
        for done, tip in enumerate(tips.values(), 1):
            for commit in first_parents(repo, tip):
                when = commit.commit_time
                if start_sec is not None and when < start_sec:
                    break
                if end_sec is None or when <= end_sec:
                    entry = self._check(commit, crit)
                    if entry is not None and entry.id not in seen:
                        seen.add(entry.id)
                        yield entry
            if progress is not None:
                progress(done, total)

    def _indexed(
        self, crit: _Criteria, limit: int | None, *, newest_first: bool
    ) -> list[Entry] | None:
        """Answer through the index; None when it cannot be used (the caller walks)."""
        if self.index is None:
            return None
        where: list[str] = []
        args: list[Any] = []
        if crit.start is not None:
            where.append("ts >= ?")
            args.append(micros(crit.start))
        if crit.end is not None:
            where.append("ts <= ?")
            args.append(micros(crit.end))
        for column, values in (("type", crit.types), ("level", crit.levels)):
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(sorted(values))
        if crit.agent is not None:
            where.append("agent = ?")
            args.append(crit.agent)
        if crit.path is not None:
            exact, prefix, upper = path_bounds(crit.path)
            parts = []
            for column in ("file", "file_path"):
                parts.append(f"{column} = ?")
                args.append(exact)
                if crit.folder:
                    parts.append(f"({column} >= ? AND {column} < ?)")
                    args.extend([prefix, upper])
            where.append("(" + " OR ".join(parts) + ")")
        if crit.text is not None:
            where.append("instr(text, ?) > 0")
            args.append(crit.text)
        sql = "SELECT id FROM entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts DESC" if newest_first else " ORDER BY ts ASC"
        if limit is not None:
            sql += f" LIMIT {int(limit) * 2 + 10}"  # room for the rare shared commit
        with self.index.session(self.progress) as conn:
            if conn is None:
                return None
            ids = [row[0] for row in conn.execute(sql, args)]
        repo = self.store.repo
        out: list[Entry] = []
        seen: set[str] = set()
        for entry_id in ids:
            if entry_id in seen:
                continue
            seen.add(entry_id)
            commit = repo.get(entry_id)
            entry = (
                self.store.entry_from_commit(commit)
                if isinstance(commit, pygit2.Commit)
                else None
            )
            if entry is None or not crit.entry_ok(entry):
                self.index.drop()  # it disagrees with the git data: never trust it again
                return None
            out.append(entry)
            if limit is not None and len(out) >= limit:
                break
        return out

    def _fsck(self, snap: RefSnapshot) -> dict[str, Any]:
        # A repack deleting old packs while fsck lists them makes fsck report damage that
        # is not there: hold maintenance off (a read-only ledger cannot be locked: run anyway).
        with contextlib.ExitStack() as stack:
            with contextlib.suppress(StorageError):
                stack.enter_context(maintenance_paused(self.ledger_dir))
            return self._run_fsck(snap)

    def _run_fsck(self, snap: RefSnapshot) -> dict[str, Any]:
        # The same check as verify's: what the refs read once reach, so writers running
        # beside the audit raise no alarm.
        result = snapshot_fsck(self.ledger_dir, snap, strict=False, full=False)
        return {
            "ok": None if result.exit_code is None else result.ok,
            "exit_code": result.exit_code,
            "command": result.command,
            "output": "\n".join(result.findings[:FSCK_OUTPUT_LINES]),
        }


# -- report building -------------------------------------------------------------------------
def _brief(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "timestamp": entry.timestamp.isoformat(),
        "session_id": entry.session_id,
        "agent_id": entry.agent_id,
    }


def _audit(entries: Iterable[Entry], start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    rows = sorted(entries, key=lambda e: e.timestamp)
    by_type = Counter(e.change_type.value for e in rows)
    by_level = Counter(e.level.value for e in rows)
    agents: dict[str, dict[str, Any]] = {}
    sessions: dict[str, dict[str, Any]] = {}
    files: dict[str, dict[str, Any]] = {}
    errors, commands, api_calls, deployments, configs, drift = [], [], [], [], [], []
    for e in rows:
        stamp = e.timestamp.isoformat()
        is_error = e.level.rank >= LogLevel.ERROR.rank
        a = agents.setdefault(
            e.agent_id,
            {"agent_id": e.agent_id, "entries": 0, "sessions": set(), "errors": 0,
             "first_timestamp": stamp},
        )
        a["entries"] += 1
        a["sessions"].add(e.session_id)
        a["errors"] += is_error
        a["last_timestamp"] = stamp
        s = sessions.setdefault(
            e.session_id,
            {"session_id": e.session_id, "agent_id": e.agent_id, "entries": 0, "errors": 0,
             "first_timestamp": stamp},
        )
        s["entries"] += 1
        s["errors"] += is_error
        s["last_timestamp"] = stamp
        if is_error:
            errors.append(e.to_dict())
        if e.file_path is not None and e.change_type in FILE_CHANGE_TYPES:
            name = entry_file(e) or e.file_path
            f = files.setdefault(
                name,
                {"file_path": name, "changes": 0, "by_type": Counter(), "sessions": set(),
                 "first_change": stamp},
            )
            f["changes"] += 1
            f["by_type"][e.change_type.value] += 1
            f["sessions"].add(e.session_id)
            f["last_change"] = stamp
        meta = e.metadata
        if e.change_type is ChangeType.SYSTEM_COMMAND:
            commands.append(
                {**_brief(e), "command": meta.get("command", e.description),
                 "exit_code": meta.get("exit_code"),
                 "duration_seconds": meta.get("duration_seconds")}
            )
        elif e.change_type is ChangeType.API_CALL:
            api_calls.append(
                {**_brief(e), "method": meta.get("method"), "endpoint": meta.get("endpoint"),
                 "status_code": meta.get("status_code"),
                 "duration_seconds": meta.get("duration_seconds")}
            )
        elif e.change_type is ChangeType.DEPLOYMENT:
            deployments.append(e.to_dict())
        elif e.change_type is ChangeType.CONFIG_CHANGE:
            configs.append(e.to_dict())
        if e.drift:
            drift.append({**_brief(e), "file_path": e.file_path})
    for a in agents.values():
        a["sessions"] = len(a["sessions"])
    file_rows = []
    for f in files.values():
        f["sessions"] = len(f["sessions"])
        f["by_type"] = dict(f["by_type"])
        file_rows.append(f)
    file_rows.sort(key=lambda f: (-f["changes"], f["file_path"]))
    failed_commands = sum(1 for c in commands if c["exit_code"] not in (0, None))
    failed_api = sum(
        1 for c in api_calls if isinstance(c["status_code"], int) and c["status_code"] >= 400
    )
    return {
        "report_type": "audit",
        "report_version": 1,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "summary": {
            "total_entries": len(rows),
            "sessions": len(sessions),
            "agents": len(agents),
            "errors": by_level.get("error", 0),
            "critical": by_level.get("critical", 0),
            "warnings": by_level.get("warning", 0),
            "files_changed": len(file_rows),
            "commands": len(commands),
            "failed_commands": failed_commands,
            "api_calls": len(api_calls),
            "failed_api_calls": failed_api,
            "deployments": len(deployments),
            "config_changes": len(configs),
            "drift_detected": len(drift),
        },
        "changes_by_type": dict(by_type.most_common()),
        "changes_by_level": {lv.value: by_level[lv.value] for lv in LogLevel if by_level[lv.value]},
        "agents": sorted(agents.values(), key=lambda a: (-a["entries"], a["agent_id"])),
        "sessions": sorted(sessions.values(), key=lambda s: s["first_timestamp"]),
        "errors": errors,
        "files_changed": file_rows,
        "commands": commands,
        "api_calls": api_calls,
        "deployments": deployments,
        "config_changes": configs,
        "drift": drift,
    }


def _patterns(
    entries: Iterable[Entry], start: dt.datetime | None, end: dt.datetime | None
) -> dict[str, Any]:
    hours: Counter[str] = Counter()
    days: Counter[str] = Counter()
    day_errors: Counter[str] = Counter()
    files: Counter[str] = Counter()
    types: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    commands: dict[str, dict[str, Any]] = {}
    endpoints: dict[str, dict[str, Any]] = {}
    agents: dict[str, dict[str, Any]] = {}
    sessions: dict[str, dict[str, Any]] = {}
    total = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    for e in entries:
        total += 1
        first = e.timestamp if first is None else min(first, e.timestamp)
        last = e.timestamp if last is None else max(last, e.timestamp)
        day = e.timestamp.strftime("%Y-%m-%d")
        is_error = e.level.rank >= LogLevel.ERROR.rank
        hours[f"{e.timestamp.hour:02d}"] += 1
        days[day] += 1
        day_errors[day] += is_error
        types[e.change_type.value] += 1
        levels[e.level.value] += 1
        if e.file_path is not None and e.change_type in FILE_CHANGE_TYPES:
            files[entry_file(e) or e.file_path] += 1
        meta = e.metadata
        if e.change_type is ChangeType.SYSTEM_COMMAND:
            name = str(meta.get("command", e.description))
            c = commands.setdefault(
                name, {"command": name, "runs": 0, "failures": 0, "exit_codes": Counter()}
            )
            code = meta.get("exit_code")
            c["runs"] += 1
            c["failures"] += code not in (0, None)
            c["exit_codes"][str(code)] += 1
        elif e.change_type is ChangeType.API_CALL:
            name = str(meta.get("endpoint", e.description))
            p = endpoints.setdefault(
                name, {"endpoint": name, "calls": 0, "errors": 0, "methods": Counter(),
                       "_durations": []}
            )
            p["calls"] += 1
            status = meta.get("status_code")
            p["errors"] += isinstance(status, int) and status >= 400
            p["methods"][str(meta.get("method"))] += 1
            if isinstance(meta.get("duration_seconds"), int | float):
                p["_durations"].append(float(meta["duration_seconds"]))
        a = agents.setdefault(
            e.agent_id, {"agent_id": e.agent_id, "entries": 0, "errors": 0, "sessions": set()}
        )
        a["entries"] += 1
        a["errors"] += is_error
        a["sessions"].add(e.session_id)
        s = sessions.setdefault(
            e.session_id,
            {"session_id": e.session_id, "agent_id": e.agent_id, "entries": 0, "errors": 0,
             "first": e.timestamp, "last": e.timestamp},
        )
        s["entries"] += 1
        s["errors"] += is_error
        s["first"] = min(s["first"], e.timestamp)
        s["last"] = max(s["last"], e.timestamp)
    endpoint_rows = []
    for p in endpoints.values():
        durations = p.pop("_durations")
        p["methods"] = dict(p["methods"])
        p["avg_duration_seconds"] = round(sum(durations) / len(durations), 6) if durations else None
        p["max_duration_seconds"] = max(durations) if durations else None
        endpoint_rows.append(p)
    endpoint_rows.sort(key=lambda p: (-p["calls"], p["endpoint"]))
    failing = [
        {**c, "exit_codes": dict(c["exit_codes"])} for c in commands.values() if c["failures"]
    ]
    failing.sort(key=lambda c: (-c["failures"], c["command"]))
    agent_rows = [
        {**a, "sessions": len(a["sessions"]),
         "error_rate": round(a["errors"] / a["entries"], 4)}
        for a in agents.values()
    ]
    agent_rows.sort(key=lambda a: (-a["entries"], a["agent_id"]))
    session_rows = []
    for s in sessions.values():
        first_s, last_s = s.pop("first"), s.pop("last")
        session_rows.append(
            {**s, "first_timestamp": first_s.isoformat(), "last_timestamp": last_s.isoformat(),
             "duration_seconds": (last_s - first_s).total_seconds(),
             "error_rate": round(s["errors"] / s["entries"], 4)}
        )
    session_rows.sort(key=lambda s: s["first_timestamp"])
    timed = [p for p in endpoint_rows if p["avg_duration_seconds"] is not None]
    return {
        "report_type": "patterns",
        "period": {"start": _iso(start), "end": _iso(end)},
        "total_entries": total,
        "first_timestamp": _iso(first),
        "last_timestamp": _iso(last),
        "activity_by_hour": {f"{h:02d}": hours[f"{h:02d}"] for h in range(24)},
        "activity_by_day": dict(sorted(days.items())),
        "most_changed_files": [
            {"file_path": name, "changes": n} for name, n in files.most_common(20)
        ],
        "type_distribution": dict(types.most_common()),
        "level_distribution": {lv.value: levels[lv.value] for lv in LogLevel if levels[lv.value]},
        "error_rate_by_day": {
            day: {"entries": days[day], "errors": day_errors[day],
                  "rate": round(day_errors[day] / days[day], 4)}
            for day in sorted(days)
        },
        "failing_commands": failing,
        "api_endpoints": endpoint_rows,
        "most_frequent_endpoints": [p["endpoint"] for p in endpoint_rows[:10]],
        "slowest_endpoints": [
            p["endpoint"]
            for p in sorted(timed, key=lambda p: -p["avg_duration_seconds"])[:10]
        ],
        "agents": agent_rows,
        "sessions": session_rows,
    }


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return ("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*out, ""]


def audit_markdown(report: dict[str, Any]) -> str:
    """Render an audit report dict (from generate_audit_report) as Markdown."""
    period = report["period"]
    summary = report["summary"]
    lines = [
        "# Audit report",
        "",
        f"Period: {period['start']} to {period['end']}  ",
        f"Generated: {report.get('generated_at', '')}  ",
        f"Ledger: {report.get('ledger', '')}",
        "",
        "## Summary",
        "",
        *_md_table(["Measure", "Count"], summary.items()),
        "## Changes by type",
        "",
        *_md_table(["Type", "Count"], report["changes_by_type"].items()),
        "## Changes by level",
        "",
        *_md_table(["Level", "Count"], report["changes_by_level"].items()),
        "## Agents",
        "",
        *_md_table(
            ["Agent", "Entries", "Sessions", "Errors"],
            [(a["agent_id"], a["entries"], a["sessions"], a["errors"]) for a in report["agents"]],
        ),
        "## Sessions",
        "",
        *_md_table(
            ["Session", "Agent", "First", "Last", "Entries", "Errors"],
            [
                (s["session_id"], s["agent_id"], s["first_timestamp"], s["last_timestamp"],
                 s["entries"], s["errors"])
                for s in report["sessions"]
            ],
        ),
        "## Errors and critical entries",
        "",
        *_md_table(
            ["Time", "Id", "Session", "Level", "Type", "Description"],
            [
                (e["timestamp"], e["id"][:12], e["session_id"], e["level"], e["change_type"],
                 e["description"])
                for e in report["errors"]
            ],
        ),
        "## Files changed",
        "",
        *_md_table(
            ["File", "Changes", "Sessions", "Last change"],
            [(f["file_path"], f["changes"], f["sessions"], f["last_change"])
             for f in report["files_changed"]],
        ),
        "## Commands",
        "",
        *_md_table(
            ["Time", "Id", "Session", "Exit code", "Command"],
            [(c["timestamp"], c["id"][:12], c["session_id"], c["exit_code"], c["command"])
             for c in report["commands"]],
        ),
        "## API calls",
        "",
        *_md_table(
            ["Time", "Id", "Session", "Method", "Endpoint", "Status"],
            [(c["timestamp"], c["id"][:12], c["session_id"], c["method"], c["endpoint"],
              c["status_code"]) for c in report["api_calls"]],
        ),
    ]
    for title, key in (("Deployments", "deployments"), ("Configuration changes", "config_changes")):
        lines += [f"## {title}", ""]
        for e in report[key]:
            lines.append(
                f"- {e['timestamp']} `{e['id'][:12]}` {e['session_id']} ({e['level']}): "
                f"{e['description']}"
            )
            if e.get("metadata"):
                lines.append(f"  - metadata: `{json.dumps(e['metadata'], ensure_ascii=False)}`")
        lines.append("")
    if report.get("drift"):
        lines += ["## Files changed outside the sessions (drift)", ""]
        lines += _md_table(
            ["Time", "Id", "Session", "File"],
            [(d["timestamp"], d["id"][:12], d["session_id"], d["file_path"])
             for d in report["drift"]],
        )
    integrity = report.get("integrity") or {}
    lines += ["## Integrity", ""]
    fsck = integrity.get("fsck")
    if fsck is None:
        lines.append("git fsck: not run")
    else:
        verdict = "clean" if fsck["ok"] else f"FAILED (exit {fsck['exit_code']})"
        lines.append(f"`{fsck['command']}`: {verdict}")
        if fsck.get("output"):
            lines += ["", "```", fsck["output"], "```"]
    lines += ["", f"Sessions in the ledger: {integrity.get('sessions_in_ledger', '')}", ""]
    lines += _md_table(
        ["Session", "Tip commit"],
        [(t["session_id"], t["tip"]) for t in integrity.get("session_tips", [])],
    )
    return "\n".join(lines)
