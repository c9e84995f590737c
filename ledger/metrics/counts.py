"""Entry counts per session by (type, level, agent), kept up to date from each session's tip.

Only the commits added since the last count are walked; a rewritten session is counted anew.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping

import pygit2

from ledger._graph import first_parents, is_observation
from ledger.entry import T_AGENT, T_LEVEL, T_TYPE, parse_trailers


@dataclasses.dataclass
class SessionCounts:
    """One session's counts as of ``tip``."""

    tip: bytes
    counts: Counter[tuple[str, str, str]]
    agent_last: dict[str, int]
    last: int | None


def entry_key(commit: pygit2.Commit) -> tuple[str, str, str]:
    """(type, level, agent) of an entry commit, from its trailers."""
    trailers = parse_trailers(commit.message)
    return (
        trailers.get(T_TYPE, "unknown"),
        trailers.get(T_LEVEL, "unknown"),
        trailers.get(T_AGENT, commit.author.name),
    )


def update_counts(
    cache: dict[str, SessionCounts], repo: pygit2.Repository, sessions: Mapping[str, bytes]
) -> None:
    """Bring ``cache`` up to ``sessions`` (name -> tip): drop gone ones, count new commits."""
    for gone in set(cache) - set(sessions):
        del cache[gone]
    for sid, tip in sessions.items():
        cached = cache.get(sid)
        if cached is not None and cached.tip == tip:
            continue
        cache[sid] = _count(repo, tip, cached)


def _count(repo: pygit2.Repository, tip: bytes, cached: SessionCounts | None) -> SessionCounts:
    fresh = SessionCounts(tip, Counter(), {}, None)
    reached = False
    for commit in first_parents(repo, tip):
        if cached is not None and bytes(commit.id.raw) == cached.tip:
            reached = True
            break
        if is_observation(commit):
            continue
        key = entry_key(commit)
        fresh.counts[key] += 1
        when = commit.commit_time
        fresh.agent_last[key[2]] = max(fresh.agent_last.get(key[2], 0), when)
        fresh.last = when if fresh.last is None else max(fresh.last, when)
    if reached and cached is not None:
        fresh.counts.update(cached.counts)
        for agent, when in cached.agent_last.items():
            fresh.agent_last[agent] = max(fresh.agent_last.get(agent, 0), when)
        if cached.last is not None:
            fresh.last = max(fresh.last or 0, cached.last)
    return fresh
