"""The commit graph of a ledger: walks along first parents, entries of commits.

Every module that walks a session or asks "is this an entry?" uses these, so the rules for
observation commits and foreign commits live in one place.
"""

from __future__ import annotations

from collections.abc import Iterator

import pygit2

from ledger._layout import ENTRY_FILE
from ledger.entry import T_OBSERVATION, parse_trailers


def is_observation(commit: pygit2.Commit) -> bool:
    """True for an observation commit: it records a file state the session found, not an entry."""
    message = commit.message
    return T_OBSERVATION + ":" in message and T_OBSERVATION in parse_trailers(message)


def first_parents(
    repo: pygit2.Repository, start: object, stop_at: object | None = None
) -> Iterator[pygit2.Commit]:
    """Commits from ``start`` back along first parents, newest first (observations included).

    ``start`` is a commit or an id (``Oid``, raw bytes or hex). The walk ends at a root, at a
    non-commit object, or before ``stop_at`` (an id in the same forms).
    """
    commit = _commit(repo, start)
    stop = _oid(stop_at) if stop_at is not None else None
    while isinstance(commit, pygit2.Commit):
        if stop is not None and commit.id == stop:
            return
        yield commit
        if not commit.parent_ids:
            return
        commit = repo.get(commit.parent_ids[0])


def session_entries(
    repo: pygit2.Repository, start: object, stop_at: object | None = None
) -> Iterator[pygit2.Commit]:
    """The entry commits of a session, newest first: :func:`first_parents` less observations."""
    for commit in first_parents(repo, start, stop_at):
        if not is_observation(commit):
            yield commit


def first_parent(commit: pygit2.Commit) -> pygit2.Commit | None:
    """A commit's first parent, or None for a root (or a parent that is not a commit)."""
    if not commit.parent_ids:
        return None
    parent = commit.parents[0]
    return parent if isinstance(parent, pygit2.Commit) else None


def entry_blob(commit: pygit2.Commit) -> pygit2.Blob | None:
    """The ``entry.json`` blob of a commit's tree, or None when it has none."""
    try:
        obj = commit.tree[ENTRY_FILE]
    except KeyError:
        return None
    return obj if isinstance(obj, pygit2.Blob) else None


def _oid(value: object) -> pygit2.Oid:
    if isinstance(value, pygit2.Oid):
        return value
    if isinstance(value, bytes | bytearray):
        return pygit2.Oid(raw=bytes(value))
    return pygit2.Oid(hex=str(value))


def _commit(repo: pygit2.Repository, start: object) -> object:
    if isinstance(start, pygit2.Commit):
        return start
    return repo.get(_oid(start))
