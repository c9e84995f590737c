"""Reflog compaction: runs of plain fast-forward lines leave the reflog for a record.

A session's reflog has one line per entry. A line that is a *plain fast-forward* -- its new id
is a ledger entry commit whose only parent is its old id, and the line is exactly the one the
ledger writes for it (the ledger's identity, the commit's own time, ``ledger: <type>``) -- says
nothing the commit graph does not: it can be regenerated, byte for byte, from the commit. So
maintenance keeps the first and the last line of each run of such lines and removes the ones
between, appending to ``ledger-state/reflog-compactions.jsonl`` a record of what it removed:
the ref, the first and last ids of the removed stretch, how many lines, the identity and time
zone they carried, the SHA-256 of their exact bytes and of the reflog's first line. Records
are chained (each names the SHA-256 of the one before) and every checkpoint written
afterwards seals the file's digest.

``verify`` regenerates each record's lines from the commit graph and checks their digest,
the chain, the seal of every checkpoint, and that the reflog holds either the seam (the kept
line ending at ``from`` directly followed by the one starting at ``to``) or the lines
themselves (a run killed between the record and the reflog rewrite). Lines that are not plain
fast-forwards -- rewrites, deletions, batches, restores, lines after a stale-lock recovery
with another time -- are never removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygit2

from ledger._fs import atomic_write
from ledger._layout import SESSION_REF_PREFIX, STATE_DIR
from ledger._store import LedgerStore
from ledger.errors import LockTimeoutError

RECORD_FILE = "reflog-compactions.jsonl"
COMPACT_KEY = "ledger.compactReflogs"  # git config: false leaves reflogs whole
ZERO = "0" * 40
MIN_RUN = 3  # a run of fewer lines has nothing between its first and last
_LINE = re.compile(rb"^([0-9a-f]{40}) ([0-9a-f]{40}) (.+) (\d+) ([+-]\d{4})\t(.*)$")
_TYPE = re.compile(r"^Ledger-Type: (\S+)$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Line:
    """One complete reflog line, as read (``raw`` includes its newline)."""

    old: str
    new: str
    ident: str
    tz: str
    raw: bytes


def parse_lines(data: bytes) -> list[Line | None]:
    """The complete lines of a reflog; None for a line that does not parse."""
    out: list[Line | None] = []
    for raw in data[: data.rfind(b"\n") + 1].splitlines(keepends=True):
        found = _LINE.match(raw.rstrip(b"\n"))
        if found is None:
            out.append(None)
            continue
        old, new, ident, _, tz, _ = (g.decode("utf-8", "replace") for g in found.groups())
        out.append(Line(old, new, ident, tz, raw))
    return out


def plain_line(repo: pygit2.Repository, old: str, new: str, ident: str, tz: str) -> bytes | None:
    """The line the ledger writes when an entry commit ``new`` is added on ``old``; None when
    ``new`` is not such a commit (not a commit, a merge, another parent, no entry type)."""
    try:
        commit = repo[new]
    except (KeyError, ValueError, pygit2.GitError):
        return None
    if not isinstance(commit, pygit2.Commit) or [str(p) for p in commit.parent_ids] != [old]:
        return None
    found = _TYPE.search(commit.message)
    if found is None:
        return None
    return f"{old} {new} {ident} {commit.commit_time} {tz}\tledger: {found.group(1)}\n".encode()


def _is_plain(repo: pygit2.Repository, line: Line | None) -> bool:
    return (
        line is not None
        and line.old != ZERO
        and plain_line(repo, line.old, line.new, line.ident, line.tz) == line.raw
    )


def runs(repo: pygit2.Repository, lines: list[Line | None]) -> Iterator[tuple[int, int]]:
    """(first, last) indexes of each run of at least ``MIN_RUN`` consecutive plain lines,
    each starting where the one before ended, under one identity and time zone."""
    start = 0
    while start < len(lines):
        first = lines[start]
        if first is None or not _is_plain(repo, first):
            start += 1
            continue
        end = start
        while end + 1 < len(lines):
            nxt, cur = lines[end + 1], lines[end]
            assert cur is not None
            if nxt is None or nxt.old != cur.new or (nxt.ident, nxt.tz) != (first.ident, first.tz):
                break
            if not _is_plain(repo, nxt):
                break
            end += 1
        if end - start + 1 >= MIN_RUN:
            yield start, end
        start = end + 1


def first_line_digest(log: bytes) -> str:
    """SHA-256 of a reflog's first line: which life of the ref a record belongs to (a ref
    deleted, by archiving, and made again, by a restore, starts a new reflog)."""
    return hashlib.sha256(log[: log.find(b"\n") + 1]).hexdigest()


def record_path(ledger: Path) -> Path:
    return ledger / STATE_DIR / RECORD_FILE


def read_records(ledger: Path) -> bytes:
    """The record file's complete lines (empty when there is none)."""
    try:
        data = record_path(ledger).read_bytes()
    except FileNotFoundError:
        return b""
    return data[: data.rfind(b"\n") + 1]


def seal(ledger: Path) -> dict[str, Any]:
    """What a checkpoint records of the compactions so far: {} when there were none."""
    data = read_records(ledger)
    if not data:
        return {}
    count = data.count(b"\n")
    return {"reflog_compactions": {"records": count, "sha256": hashlib.sha256(data).hexdigest()}}


def _append_record(ledger: Path, record: dict[str, Any]) -> None:
    data = read_records(ledger)
    last = data.splitlines()[-1] if data else b""
    record["prev"] = hashlib.sha256(last).hexdigest() if last else None
    line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
    path = record_path(ledger)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        if f.tell() != len(data):
            f.truncate(len(data))  # a record torn by a crash: it was never acted on
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def compact_ref(store: LedgerStore, refname: str) -> int:
    """Compact one ref's reflog (the caller holds the session's writer lock, so no ledger
    writer appends meanwhile). Returns the number of lines removed."""
    ledger = store.path
    log = ledger / "logs" / refname
    lock = ledger / (refname + ".lock")
    try:  # git's own ref lock keeps git CLI writers out too; taken, the ref is left alone
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return 0
    try:
        try:
            data = log.read_bytes()
        except FileNotFoundError:
            return 0
        lines = parse_lines(data)
        found = list(runs(store.repo, lines))
        if not found:
            return 0
        removed = 0
        drop: set[int] = set()
        for start, end in found:
            middle = [ln for ln in lines[start + 1 : end] if ln is not None]
            body = b"".join(ln.raw for ln in middle)
            _append_record(ledger, {
                "ref": refname,
                "from": middle[0].old,
                "to": middle[-1].new,
                "lines": len(middle),
                "ident": middle[0].ident,
                "tz": middle[0].tz,
                "sha256": hashlib.sha256(body).hexdigest(),
                "head": first_line_digest(data),
            })
            drop.update(range(start + 1, end))
            removed += len(middle)
        # Lines that do not parse are kept as they were (verify reports them); so is a
        # torn last line.
        complete = data.rfind(b"\n") + 1
        kept = b"".join(
            raw for i, raw in enumerate(data[:complete].splitlines(keepends=True))
            if i not in drop
        ) + data[complete:]
        atomic_write(log, kept)
        return removed
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def compact_reflogs(store: LedgerStore, lock_timeout: float = 0.0) -> tuple[int, int]:
    """Compact every session's reflog; (lines removed, sessions compacted). A session whose
    writer holds its lock is skipped and done by a later run."""
    removed = sessions = 0
    for sid in sorted(store.sessions()):
        try:
            with store.session_lock(sid, lock_timeout):
                n = compact_ref(store, SESSION_REF_PREFIX + sid)
        except LockTimeoutError:
            continue  # a writer is at work: a later run compacts it
        removed += n
        sessions += 1 if n else 0
    return removed, sessions
