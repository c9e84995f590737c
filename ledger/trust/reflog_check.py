"""verify's check of compacted reflog lines (see :mod:`ledger.lifecycle.reflogs`).

Every record must chain to the one before, every checkpoint's seal must match the records it
sealed, and every record of a live session must regenerate from the commit graph: walking
first parents from ``to`` back ``lines`` commits ends at ``from``, each step is an entry
commit, and the lines the ledger would have written hash to the record's digest. The reflog
must still hold the seam the compaction left (or, after a run killed midway, the lines),
unless the ref was deleted and made again since (its reflog's first line differs).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pygit2

from ledger._snapshot import RefSnapshot
from ledger.lifecycle.reflogs import first_line_digest, parse_lines, plain_line, read_records
from ledger.trust.checkpoint import Checkpoint
from ledger.trust.findings import Findings

CODE = "reflog-compaction"


def check_reflog_compactions(
    repo: pygit2.Repository,
    ledger: Path,
    snap: RefSnapshot,
    chain: list[Checkpoint],
    out: Findings,
) -> None:
    """Report every compaction record that does not prove what its lines proved."""
    data = read_records(ledger)
    lines = data.splitlines(keepends=True)
    _check_seals(lines, chain, out)
    logs: dict[str, _Reflog] = {}
    prev: str | None = None
    for number, raw in enumerate(lines, 1):
        subject = f"reflog compaction record {number}"
        try:
            record = json.loads(raw)
            if record.get("prev") != prev:
                out.problem(CODE, subject, "does not name the record before it: records "
                            "were removed, reordered or changed")
            ref = str(record["ref"])
            if ref in snap.refs:  # else a retired session: its reflog left with it
                if ref not in logs:
                    logs[ref] = _Reflog(ledger / "logs" / ref)
                _check_record(repo, logs[ref], record, subject, out)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            out.problem(CODE, subject, f"is malformed: {exc}")
        prev = hashlib.sha256(raw.rstrip(b"\n")).hexdigest()


def _check_seals(lines: list[bytes], chain: list[Checkpoint], out: Findings) -> None:
    for checkpoint in chain:
        try:
            sealed = json.loads(checkpoint.payload).get("reflog_compactions")
        except ValueError:
            continue  # the chain check reports a malformed checkpoint
        if not sealed:
            continue
        count, digest = int(sealed["records"]), str(sealed["sha256"])
        if len(lines) < count or hashlib.sha256(b"".join(lines[:count])).hexdigest() != digest:
            out.problem(CODE, checkpoint.label(),
                        f"sealed {count} reflog compaction record(s) that are no longer "
                        "as it saw them")


class _Reflog:
    """One ref's reflog, read once: its first line's digest and its seams (consecutive
    lines as (new id of the first, old id of the second))."""

    def __init__(self, path: Path) -> None:
        try:
            self.data = path.read_bytes()
        except OSError:
            self.data = b""
        self.head = first_line_digest(self.data) if self.data else None
        lines = parse_lines(self.data)
        self.seams = {
            (a.new, b.old) for a, b in itertools.pairwise(lines) if a is not None and b is not None
        }


def _check_record(
    repo: pygit2.Repository,
    log: _Reflog,
    record: dict[str, Any],
    subject: str,
    out: Findings,
) -> None:
    ref = str(record["ref"])
    if log.head is not None and log.head != record["head"]:
        return  # the ref was deleted (archived) and made again: another reflog
    body = _regenerate(repo, record)
    if body is None or hashlib.sha256(body).hexdigest() != record["sha256"]:
        out.problem(CODE, subject, f"{ref}: the {record['lines']} line(s) it removed are not "
                    "the plain fast-forwards the commit graph holds")
        return
    if (str(record["from"]), str(record["to"])) in log.seams or body in log.data:
        return
    out.problem(CODE, subject, f"{ref}: the reflog no longer holds the lines around what "
                "was compacted")


def _regenerate(repo: pygit2.Repository, record: dict[str, Any]) -> bytes | None:
    """The lines a record removed, rebuilt from the commits (None when they cannot be)."""
    ident, tz, cur = str(record["ident"]), str(record["tz"]), str(record["to"])
    count = int(record["lines"])
    out: list[bytes] = []
    for _ in range(count):
        try:
            commit = repo[cur]
        except (KeyError, ValueError, pygit2.GitError):
            return None
        if not isinstance(commit, pygit2.Commit) or len(commit.parent_ids) != 1:
            return None
        parent = str(commit.parent_ids[0])
        line = plain_line(repo, parent, cur, ident, tz)
        if line is None:
            return None
        out.append(line)
        cur = parent
    if count < 1 or cur != record["from"]:
        return None
    return b"".join(reversed(out))
