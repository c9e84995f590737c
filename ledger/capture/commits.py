"""Commits recorded from git's hooks: post-commit, post-applypatch, post-merge, post-rewrite.

A commit gets one entry, plus one file entry per file it changes with the exact before- and
after-states read from the work repository; an amend or rebase gets one entry of its mappings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pygit2

from ledger._names import check_path, to_tree_path
from ledger.capture.eventbase import event_meta, event_stamp, open_repo
from ledger.capture.spool import HookEvent
from ledger.errors import HookEventError, InvalidPathError
from ledger.types import ChangeType
from ledger.write.logger import ChangeLogger

MAX_FILE_ENTRIES = 500  # per commit; the rest is listed in the commit entry only
MAX_MESSAGE_CHARS = 100_000
GITLINK = 0o160000

_STATUS = {
    pygit2.enums.DeltaStatus.ADDED: ("added", ChangeType.FILE_CREATE),
    pygit2.enums.DeltaStatus.DELETED: ("deleted", ChangeType.FILE_DELETE),
    pygit2.enums.DeltaStatus.MODIFIED: ("modified", ChangeType.FILE_UPDATE),
    pygit2.enums.DeltaStatus.TYPECHANGE: ("typechange", ChangeType.FILE_UPDATE),
}
_VERBS = {
    ChangeType.FILE_CREATE: "Added",
    ChangeType.FILE_UPDATE: "Changed",
    ChangeType.FILE_DELETE: "Deleted",
}


@dataclasses.dataclass(frozen=True)
class _FileChange:
    """One file of a commit whose before- and after-states the ledger records."""

    path: str
    ctype: ChangeType
    before: bytes | None
    after: bytes | None


def _person(sig: pygit2.Signature) -> dict[str, Any]:
    tz = dt.timezone(dt.timedelta(minutes=sig.offset))
    return {
        "name": sig.name,
        "email": sig.email,
        "time": dt.datetime.fromtimestamp(sig.time, tz).isoformat(),
    }


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS]


def _load_commit(event: HookEvent) -> tuple[pygit2.Repository, pygit2.Commit]:
    head = event.fields.get("head", "")
    if not re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", head):
        raise HookEventError(f"event {event.name} has no commit id")
    repo = open_repo(event)
    try:
        commit = repo[head]
    except (KeyError, ValueError) as exc:
        raise HookEventError(f"commit {head} is not in {event.git_dir}") from exc
    if not isinstance(commit, pygit2.Commit):
        raise HookEventError(f"{head} is not a commit")
    return repo, commit


def _commit_files(
    repo: pygit2.Repository, commit: pygit2.Commit, workdir: Path
) -> tuple[list[dict[str, Any]], list[_FileChange]]:
    """The commit's files as listed in its entry, and the changes that get entries of their own."""
    if commit.parents:
        diff = commit.parents[0].tree.diff_to_tree(commit.tree)  # what repo.diff(a, b) runs
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    files: list[dict[str, Any]] = []
    changes: list[_FileChange] = []
    for delta in diff.deltas:
        status, ctype = _STATUS.get(delta.status, (delta.status_char(), ChangeType.FILE_UPDATE))
        old, new = delta.old_file, delta.new_file
        path = new.path if ctype is not ChangeType.FILE_DELETE else old.path
        item: dict[str, Any] = {"path": path, "status": status}
        if ctype is not ChangeType.FILE_CREATE:
            item["blob_before"] = str(old.id)
        if ctype is not ChangeType.FILE_DELETE:
            item["blob_after"] = str(new.id)
        files.append(item)
        if GITLINK in (old.mode, new.mode):
            item["submodule"] = True
            continue
        try:
            to_tree_path(check_path(path), workdir)
        except InvalidPathError as exc:
            # Git allows names the ledger cannot record (not UTF-8, too long): keep the
            # commit entry, name the file in a form JSON can hold, and skip its states.
            item["path"] = os.fsencode(path).decode("utf-8", "backslashreplace")
            item["not_recorded"] = str(exc)
            continue
        before = repo[old.id].read_raw() if ctype is not ChangeType.FILE_CREATE else None
        after = repo[new.id].read_raw() if ctype is not ChangeType.FILE_DELETE else None
        changes.append(_FileChange(path, ctype, before, after))
    return files, changes


def _commit_meta(
    event: HookEvent, commit: pygit2.Commit, files: list[dict[str, Any]]
) -> dict[str, Any]:
    """The commit entry's metadata (``rebasing`` only while HEAD is detached)."""
    parents = [str(p) for p in commit.parent_ids]
    branch = event.branch
    return {
        "commit": str(commit.id),
        "branch": branch,
        "detached": branch is None,
        "rebasing": event.rebasing if branch is None else None,
        "message": _bounded(commit.message),
        "author": _person(commit.author),
        "committer": _person(commit.committer),
        "parents": parents,
        "merge": len(parents) > 1,
        "root": not parents,
        "files": files,
        **event_meta(event),
    }


def _where(meta: dict[str, Any]) -> dict[str, Any]:
    """The repository keys of a commit entry, for its file entries too."""
    return {k: meta[k] for k in ("repository", "remote") if k in meta}


def _commit_title(commit: pygit2.Commit, meta: dict[str, Any]) -> str:
    branch, rebasing = meta["branch"], meta["rebasing"]
    where = (
        f"on {branch}"
        if branch
        else f"while rebasing {rebasing}"
        if rebasing
        else "on a detached HEAD"
    )
    subject = commit.message.strip().splitlines()[0] if commit.message.strip() else ""
    return f"Commit {str(commit.id)[:7]} {where}: {subject}"


def record_commit(logger: ChangeLogger, event: HookEvent) -> int:
    repo, commit = _load_commit(event)
    files, changes = _commit_files(repo, commit, logger.workdir)
    meta = _commit_meta(event, commit, files)
    if len(changes) > MAX_FILE_ENTRIES:
        meta["file_entries_truncated"] = len(changes) - MAX_FILE_ENTRIES
        changes = changes[:MAX_FILE_ENTRIES]
    stamp = event_stamp(logger, event)
    short = str(commit.id)[:7]
    with logger.batch():
        for change in changes:
            logger.log_file_change(
                change.path,
                change.ctype,
                before_content=change.before,
                after_content=change.after,
                description=f"{_VERBS[change.ctype]} {change.path} in commit {short}",
                metadata={"commit": str(commit.id), "branch": meta["branch"], **_where(meta)},
                timestamp=stamp,
            )
        logger.log(ChangeType.GIT_COMMIT, _commit_title(commit, meta), meta, timestamp=stamp)
    return len(changes) + 1


def record_merge(logger: ChangeLogger, event: HookEvent) -> int:
    """A merge commit; fast-forwards and squashes make no commit here (0 entries)."""
    repo = open_repo(event)
    try:
        commit = repo[event.fields.get("head", "")]
    except (KeyError, ValueError) as exc:
        head = event.fields.get("head")
        raise HookEventError(f"commit {head} is not in {event.git_dir}") from exc
    if not isinstance(commit, pygit2.Commit) or len(commit.parent_ids) < 2:
        return 0
    return record_commit(logger, event)


# -- rewrites (post-rewrite: amend, rebase) ----------------------------------------------------
def record_rewrite(logger: ChangeLogger, event: HookEvent) -> int:
    kind = event.args[0] if event.args else "rewrite"
    mappings = []
    for line in event.stdin.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            mappings.append({"old": parts[0], "new": parts[1]})
    if not mappings:
        return 0
    n = len(mappings)
    meta: dict[str, Any] = {
        "rewrite": kind,
        "mappings": mappings,
        "branch": event.branch,
        **event_meta(event),
    }
    first = mappings[0]
    what = f"{first['old'][:7]} -> {first['new'][:7]}" if n == 1 else f"{n} commits"
    stamp = event_stamp(logger, event)
    logger.log(ChangeType.GIT_COMMIT, f"Rewrote {what} ({kind})", meta, timestamp=stamp)
    return 1
