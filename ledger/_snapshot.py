"""A consistent snapshot of a ledger's refs, and ``git fsck`` of exactly what it reaches.

Writers keep appending while verify and audit run. ``git fsck`` on its own lists the objects,
then reads the refs and reflogs later: a commit written in between is "missing", a reflog
line being appended is "invalid". So the refs and reflogs are read once, here, before fsck
starts, and fsck is handed their ids as its heads (``--no-reflogs``): everything they reach
was on disk before fsck listed a single object, and whatever is written afterwards is
neither checked nor an error. Real damage to what the snapshot reaches is still found.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pygit2

from ledger._git import FsckResult, fsck
from ledger._layout import SESSION_REF_PREFIX

_ZERO = "0" * 40
_LINE = re.compile(rb"^([0-9a-f]{40}) ([0-9a-f]{40}) [^\n]*$")


@dataclasses.dataclass(frozen=True)
class RefSnapshot:
    """Every ref's target and every reflog's complete lines, read once.

    ``refs`` maps a ref name to the object id it named; ``reflog_ids`` holds the ids the
    reflogs named at that moment; ``reflog_problems`` names complete reflog lines that
    cannot be parsed (a line still being appended is not complete, and is left alone).
    """

    refs: dict[str, str]
    reflog_ids: frozenset[str]
    reflog_problems: tuple[str, ...]

    def sessions(self) -> dict[str, bytes]:
        """Every session id with its tip commit id (raw), as the snapshot read them."""
        return {
            name[len(SESSION_REF_PREFIX) :]: bytes.fromhex(oid)
            for name, oid in self.refs.items()
            if name.startswith(SESSION_REF_PREFIX)
        }

    def heads(self) -> list[str]:
        """The ids to trace from: ref targets and reflog ids, each once, sorted."""
        return sorted(set(self.refs.values()) | self.reflog_ids)


def take_snapshot(ledger: Path, repo: pygit2.Repository | None = None) -> RefSnapshot:
    """Read the refs, then their reflogs (so every id a reflog names is on disk already)."""
    repo = repo if repo is not None else pygit2.Repository(str(ledger))
    refs: dict[str, str] = {}
    for name in repo.references:
        try:
            ref = repo.references[name]
        except (KeyError, ValueError, pygit2.GitError):
            continue  # deleted since it was listed: not part of any snapshot
        if ref.type == pygit2.enums.ReferenceType.DIRECT:
            refs[name] = str(ref.target)
    ids: set[str] = set()
    problems: list[str] = []
    for name in sorted(refs):
        _read_reflog(ledger / "logs" / name, name, ids, problems)
    return RefSnapshot(refs, frozenset(ids), tuple(problems))


def _read_reflog(path: Path, name: str, ids: set[str], problems: list[str]) -> None:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return
    except OSError as exc:
        problems.append(f"{name}: cannot read its reflog: {exc}")
        return
    complete = data[: data.rfind(b"\n") + 1]
    for number, line in enumerate(complete.split(b"\n")[:-1], 1):
        found = _LINE.match(line)
        if found is None:
            problems.append(f"{name}: reflog line {number} is malformed")
            continue
        ids.update(h.decode() for h in found.groups() if h.decode() != _ZERO)


def snapshot_fsck(
    ledger: Path,
    snapshot: RefSnapshot | None = None,
    *,
    strict: bool = True,
    full: bool = True,
) -> FsckResult:
    """``git fsck`` of what a snapshot reaches (taken now when not given).

    Callers hold the maintenance lock around it, as for :func:`ledger._git.fsck`.
    """
    snap = snapshot if snapshot is not None else take_snapshot(ledger)
    result = fsck(ledger, strict=strict, full=full, heads=snap.heads())
    if not snap.reflog_problems:
        return result
    return FsckResult(
        1 if result.exit_code is not None else None,
        result.findings + snap.reflog_problems,
        result.command,
    )
