"""What a walk of a session's commit messages tells without reading any blob.

Usage counts, the archive catalogue and dry runs all need entry counts and first/last times.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pygit2

from ledger._graph import first_parents, is_observation
from ledger.entry import T_AGENT, T_LEVEL, T_TYPE, parse_trailers


@dataclasses.dataclass
class SessionFacts:
    """What a walk of one session's commit messages tells without reading any blob."""

    session_id: str
    tip: str
    entries: int = 0
    first: int | None = None
    last: int | None = None
    counts: dict[tuple[str, str, str], int] = dataclasses.field(default_factory=dict)


def session_facts(
    repo: pygit2.Repository, session_id: str, tip: bytes, stop_at: bytes | None = None
) -> SessionFacts:
    """Count a session's entries by (type, level, agent) from commit trailers alone."""
    facts = SessionFacts(session_id, tip.hex())
    for commit in first_parents(repo, tip):
        if stop_at is not None and bytes(commit.id.raw) == stop_at:
            break
        if is_observation(commit):
            continue
        trailers = parse_trailers(commit.message)
        key = (
            trailers.get(T_TYPE, "unknown"),
            trailers.get(T_LEVEL, "unknown"),
            trailers.get(T_AGENT, commit.author.name),
        )
        facts.counts[key] = facts.counts.get(key, 0) + 1
        facts.entries += 1
        when = commit.commit_time
        facts.last = when if facts.last is None else max(facts.last, when)
        facts.first = when if facts.first is None else min(facts.first, when)
    return facts


def iso(seconds: int | None) -> str | None:
    """A commit time as an ISO 8601 UTC string (None stays None)."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()
