"""Walking the commit graph for a query: the sessions merged newest first, or scanned one by one.

Both filter on commit time and message trailers before they read any entry blob.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

import pygit2

from ledger._graph import first_parents
from ledger._store import LedgerStore
from ledger.entry import T_OBSERVATION, Entry
from ledger.entry import parse_trailers as _parse_trailers
from ledger.read.archived import Archives
from ledger.read.filters import Criteria
from ledger.read.index import Progress, QueryIndex


def matching_entry(store: LedgerStore, commit: pygit2.Commit, crit: Criteria) -> Entry | None:
    """The commit's entry when it matches ``crit`` (None for observations and misses)."""
    message = commit.message
    trailers = _parse_trailers(message)
    if T_OBSERVATION in trailers or not crit.trailers_ok(trailers):
        return None
    entry = store.entry_from_commit(commit)
    if entry is None or not crit.entry_ok(entry):
        return None
    return entry


def session_tips(
    store: LedgerStore, crit: Criteria, archived: Archives | None = None
) -> dict[str, bytes]:
    """The tips of the sessions ``crit`` can match: its one session, or all of them
    (archived copies included when ``archived`` is given)."""
    if crit.session is not None:
        tip = store.tip(crit.session)
        tips = {crit.session: tip} if tip is not None else {}
        if archived is not None:
            tips.update((k, archived.sessions[k].tip) for k in archived.keys_of(crit.session))
        return tips
    tips = store.sessions()
    if archived is not None:
        tips.update(archived.tips())
    return tips


def _heads(
    store: LedgerStore, index: QueryIndex | None, crit: Criteria, archived: Archives | None
) -> list[tuple[int, int, pygit2.Commit]]:
    """The heap's first rows: each session's tip commit, unless it is older than the window."""
    repo = store.repo
    start_sec = crit.start_sec
    heap: list[tuple[int, int, pygit2.Commit]] = []
    tips = session_tips(store, crit, archived)
    known: dict[bytes, int] = {}
    if start_sec is not None and len(tips) > 1 and index is not None:
        known = index.tip_times(tips.values()) or {}
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
    return heap


def merged(
    store: LedgerStore,
    index: QueryIndex | None,
    crit: Criteria,
    archived: Archives | None = None,
) -> Iterator[Entry]:
    """Matching entries newest first: a heap over the sessions' chains by commit time.

    Commit times are whole seconds; entries of one second are ordered by their exact
    timestamps before they are yielded, so a caller may stop at any point.
    """
    repo = store.repo
    start_sec, end_sec = crit.start_sec, crit.end_sec
    heap = _heads(store, index, crit, archived)
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
            entry = matching_entry(store, current, crit)
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


def scan(
    store: LedgerStore,
    crit: Criteria,
    progress: Progress | None = None,
    archived: Archives | None = None,
) -> Iterator[Entry]:
    """Matching entries session by session, in no particular order.

    Args:
        store: the ledger.
        crit: what to match.
        progress: called as ``progress(sessions read, sessions to read)``.
        archived: archived sessions to read as well.
    """
    repo = store.repo
    tips = session_tips(store, crit, archived)
    start_sec, end_sec = crit.start_sec, crit.end_sec
    seen: set[str] = set()
    total = len(tips)
    for done, tip in enumerate(tips.values(), 1):
        for commit in first_parents(repo, tip):
            when = commit.commit_time
            if start_sec is not None and when < start_sec:
                break
            if end_sec is None or when <= end_sec:
                entry = matching_entry(store, commit, crit)
                if entry is not None and entry.id not in seen:
                    seen.add(entry.id)
                    yield entry
        if progress is not None:
            progress(done, total)
