"""Archived sessions as part of every answer: the catalogue read, each bundle's objects opened.

Maintenance rotates idle sessions into bundles under ``archive/`` and deletes their refs;
each bundle has a catalogue entry beside it (same stem, ``.json``) with every session's tip,
entry count and first and last entry times. Readers take each session's tip from there, and
read its objects from the bundle's pack, indexed once into ``archive/objects/pack`` (a cache
git-ledger adds to a reader's object database as an alternate: no ref is restored, and
writers never see it). Until maintenance prunes them the objects are in the ledger too, so a
bundle that is missing or unreadable loses nothing until then; after that its sessions are
reported as not covered, in one line each bundle, never dropped silently.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2

from ledger._git import run_git
from ledger._layout import (
    ARCHIVE_DIR,
    ARCHIVE_OBJECTS,
    BUNDLE_PREFIX,
    BUNDLE_SUFFIX,
    MANIFEST_SUFFIX,
    SESSION_REF_PREFIX,
)
from ledger._store import LedgerStore
from ledger.errors import LedgerError

BUNDLE_HEADER_LIMIT = 64 * 1024 * 1024  # refs of a bundle of very many sessions


@dataclass(frozen=True)
class ArchivedSession:
    """One session as a bundle holds it."""

    session: str
    tip: bytes
    bundle: str
    entries: int | None = None
    first_entry: str | None = None
    last_entry: str | None = None


@dataclass
class Uncovered:
    """A bundle whose sessions an answer could not include, and why."""

    bundle: str
    reason: str
    sessions: list[ArchivedSession] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The audit's row: bundle, reason, sessions, entries, first and last entry."""
        firsts = [s.first_entry for s in self.sessions if s.first_entry]
        lasts = [s.last_entry for s in self.sessions if s.last_entry]
        return {
            "bundle": self.bundle,
            "reason": self.reason,
            "sessions": sorted(s.session for s in self.sessions),
            "entries": sum(s.entries or 0 for s in self.sessions),
            "first_entry": min(firsts, default=None),
            "last_entry": max(lasts, default=None),
        }

    def line(self) -> str:
        """What an answer says about it, in one line."""
        row = self.as_dict()
        span = (
            f" from {row['first_entry']} to {row['last_entry']}" if row["first_entry"] else ""
        )
        return (
            f"warning: archive {self.bundle} {self.reason}: {len(row['sessions'])} session(s), "
            f"{row['entries']} entries{span} are not included"
        )


@dataclass
class Archives:
    """What the archive adds to answers: sessions by key, and what could not be read."""

    sessions: dict[str, ArchivedSession] = field(default_factory=dict)
    uncovered: list[Uncovered] = field(default_factory=list)

    def keys_of(self, session: str) -> list[str]:
        """The keys under which a session's archived copies are read."""
        return [k for k, s in self.sessions.items() if s.session == session]

    def tips(self) -> dict[str, bytes]:
        """Each archived copy's tip by key."""
        return {k: s.tip for k, s in self.sessions.items()}


def archive_dir(ledger: Path) -> Path:
    """``<ledger>/archive``."""
    return ledger / ARCHIVE_DIR


def cache_pack(ledger: Path, stem: str) -> Path:
    """Where a bundle's pack is kept for readers."""
    return archive_dir(ledger) / ARCHIVE_OBJECTS / "pack" / f"pack-{stem}.pack"


def catalogue(ledger: Path) -> dict[str, list[ArchivedSession]]:
    """Every bundle's sessions by bundle name, from its catalogue entry (or the bundle).

    A catalogue entry whose bundle is gone is listed too: its sessions are known, even if
    their objects may not be.
    """
    folder = archive_dir(ledger)
    if not folder.is_dir():
        return {}
    stems = {
        p.name[: -len(suffix)]
        for suffix in (BUNDLE_SUFFIX, MANIFEST_SUFFIX)
        for p in folder.glob(BUNDLE_PREFIX + "*" + suffix)
    }
    out: dict[str, list[ArchivedSession]] = {}
    for stem in sorted(stems):
        name = stem + BUNDLE_SUFFIX
        out[name] = _manifest_sessions(folder / (stem + MANIFEST_SUFFIX), name)
        if not out[name] and (folder / name).is_file():
            out[name] = _bundle_sessions(ledger, folder / name)
    return out


def _manifest_sessions(path: Path, name: str) -> list[ArchivedSession]:
    try:
        data = json.loads(path.read_text())
        rows = dict(data.get("sessions") or {})
        return [
            ArchivedSession(
                str(sid), bytes.fromhex(str(row["tip"])), name, _int(row.get("entries")),
                row.get("first_entry"), row.get("last_entry"),
            )
            for sid, row in rows.items()
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _bundle_sessions(ledger: Path, bundle: Path) -> list[ArchivedSession]:
    try:
        proc = run_git(ledger, "bundle", "list-heads", str(bundle), check=False)
    except LedgerError:
        return []
    out = []
    for line in proc.stdout.splitlines():
        oid, _, ref = line.partition(" ")
        if ref.startswith(SESSION_REF_PREFIX) and len(oid) == 40:
            out.append(ArchivedSession(ref[len(SESSION_REF_PREFIX) :], bytes.fromhex(oid),
                                       bundle.name))
    return out


def unpack_bundle(ledger: Path, bundle: Path) -> str | None:
    """Index the bundle's pack into the readers' cache once; None, or why it failed."""
    target = cache_pack(ledger, bundle.name[: -len(BUNDLE_SUFFIX)])
    if target.with_suffix(".idx").is_file():
        return None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".pack", dir=target.parent)
    except OSError as exc:
        return f"cannot be opened ({exc.strerror or exc})"
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(bundle, "rb") as src:
            if not _skip_header(src):
                return "is not a git bundle"
            while chunk := src.read(1 << 20):
                out.write(chunk)
        proc = run_git(ledger, "index-pack", str(tmp), check=False)
        if proc.returncode != 0:
            return f"is unreadable ({proc.stderr.strip().splitlines()[-1:] or ['index-pack']})"
        # The pack first, its index last: a reader sees the index only with its pack.
        os.replace(tmp, target)
        os.replace(tmp.with_suffix(".idx"), target.with_suffix(".idx"))
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    finally:
        for leftover in (tmp, tmp.with_suffix(".idx")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _skip_header(src: Any) -> bool:
    """Read past a bundle's header (signature, prerequisites, refs, blank line)."""
    first = src.readline(256)
    if not first.startswith(b"# v") or b"git bundle" not in first:
        return False
    read = len(first)
    while read < BUNDLE_HEADER_LIMIT:
        line = src.readline(1 << 16)
        if not line:
            return False
        read += len(line)
        if line == b"\n":
            return True
    return False


def open_archives(store: LedgerStore, live: dict[str, bytes]) -> Archives:
    """The archived sessions an answer must include besides the live ones, readable.

    A copy the live session (or a later bundle) already holds is left out; a copy whose
    history differs from the live session's is read under the key ``<session>@<bundle>``.
    """
    found = Archives()
    books = catalogue(store.path)
    if not books:
        return found
    readable = _open_bundles(store, books, found)
    repo = store.repo
    copies: dict[str, list[tuple[int, ArchivedSession]]] = {}
    for rank, name in enumerate(readable):
        for item in books[name]:
            copies.setdefault(item.session, []).append((rank, item))
    for rank, name in enumerate(readable):
        for item in books[name]:
            others = [(r, s) for r, s in copies[item.session] if s is not item]
            if _superseded(repo, item, live, others, rank):
                continue
            key = item.session if item.session not in live else f"{item.session}@{name}"
            found.sessions[key] = item
    return found


def _open_bundles(
    store: LedgerStore, books: dict[str, list[ArchivedSession]], found: Archives
) -> list[str]:
    """Make each bundle's objects readable; the names of those that are."""
    folder = archive_dir(store.path)
    problems: dict[str, str] = {}
    for name in books:
        bundle = folder / name
        if not bundle.is_file():
            problems[name] = "is missing"
        else:
            why = unpack_bundle(store.path, bundle)
            if why is not None:
                problems[name] = why
    store.attach_archives()
    repo = store.repo
    readable = []
    for name, sessions in books.items():
        if name in problems and not all(_present(repo, s.tip) for s in sessions):
            found.uncovered.append(Uncovered(name, problems[name], sessions))
        else:
            readable.append(name)
    return readable


def _superseded(
    repo: pygit2.Repository,
    item: ArchivedSession,
    live: dict[str, bytes],
    copies: list[tuple[int, ArchivedSession]],
    rank: int,
) -> bool:
    """True when the live session or another copy holds everything ``item`` holds
    (of two equal copies, the later bundle's is read)."""
    tip = live.get(item.session)
    if tip is not None and _holds(repo, tip, item.tip):
        return True
    return any(
        _holds(repo, other.tip, item.tip) and (other.tip != item.tip or r > rank)
        for r, other in copies
    )


def _present(repo: pygit2.Repository, tip: bytes) -> bool:
    return isinstance(repo.get(pygit2.Oid(raw=tip)), pygit2.Commit)


def _holds(repo: pygit2.Repository, newer: bytes, older: bytes) -> bool:
    """True when ``newer`` is ``older`` or descends from it."""
    if newer == older:
        return True
    try:
        return bool(repo.descendant_of(pygit2.Oid(raw=newer), pygit2.Oid(raw=older)))
    except pygit2.GitError:
        return False


def _when(text: str | None) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=dt.UTC)


def in_period(
    items: Iterable[Uncovered], start: dt.datetime | None, end: dt.datetime | None
) -> list[Uncovered]:
    """The uncovered bundles' sessions that may have entries between start and end."""
    out = []
    for item in items:
        keep = []
        for s in item.sessions:
            first, last = _when(s.first_entry), _when(s.last_entry)
            if (start and last and last < start) or (end and first and first > end):
                continue
            keep.append(s)
        if keep:
            out.append(Uncovered(item.bundle, item.reason, keep))
    return out
