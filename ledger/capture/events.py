"""Hook events turned into ledger entries: one recorder per hook (commit, merge, am, push, rewrite).

Each recorder reads what it needs from the work repository with pygit2 and writes the
entries in the event's session; :func:`record_event` picks the recorder and skips an event
whose entries a killed drainer already wrote.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2

from ledger._names import check_path, to_tree_path
from ledger._repoid import remote_url, strip_credentials
from ledger.capture.sessions import DEFAULT_HOOK_AGENT, repo_session, session_id_from
from ledger.capture.spool import HookEvent
from ledger.errors import HookEventError, InvalidPathError
from ledger.types import ChangeType
from ledger.write.logger import ChangeLogger

MAX_FILE_ENTRIES = 500  # per commit; the rest is listed in the commit entry only
MAX_MESSAGE_CHARS = 100_000
RECENT_CHECK = 50  # entries of the session searched for an event already recorded
GITLINK = 0o160000


# -- what every recorder shares ----------------------------------------------------------------
def _session_for(event: HookEvent) -> tuple[str, str]:
    session = event.fields.get("session", "").strip()
    agent = event.fields.get("agent", "").strip() or DEFAULT_HOOK_AGENT
    sid = session_id_from(session) if session else repo_session(event.repo_name(), event.time)
    return sid, agent


def _already_recorded(logger: ChangeLogger, event: HookEvent) -> bool:
    """True if a drainer wrote this event's entries but died before deleting the event."""
    if not logger.store.exists:
        return False
    for i, entry in enumerate(logger.store.walk_session(logger.session_id)):
        if entry.metadata.get("hook_event") == event.name:
            return True
        if i >= RECENT_CHECK or entry.timestamp < event.time - dt.timedelta(minutes=10):
            return False
    return False


def _stamp(logger: ChangeLogger, event: HookEvent) -> dt.datetime | None:
    """The event's time, unless the session already holds a later entry or the event is
    dated after the clock's now (a spool file's time set ahead): then now."""
    if event.time > dt.datetime.now(dt.UTC):
        return None
    if logger.store.exists:
        newest = next(iter(logger.store.walk_session(logger.session_id)), None)
        if newest is not None and newest.timestamp > event.time:
            return None
    return event.time


def _open_repo(event: HookEvent) -> pygit2.Repository:
    try:
        return pygit2.Repository(str(event.git_dir))
    except pygit2.GitError as exc:
        raise HookEventError(f"repository {event.git_dir} is gone: {exc}") from exc


def _event_meta(event: HookEvent) -> dict[str, Any]:
    """Where the event came from: the last keys of every hook entry's metadata."""
    meta: dict[str, Any] = {"repository": str(event.work_tree or event.common_dir)}
    remote = remote_url(str(event.work_tree or event.common_dir))
    if remote:
        meta["remote"] = remote  # the same repository's entries from another clone match
    meta.update(hook=event.hook, hook_event=event.name)
    return meta


# -- commits (post-commit, post-applypatch, post-merge) ----------------------------------------
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
    repo = _open_repo(event)
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
        **_event_meta(event),
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


def _record_commit(logger: ChangeLogger, event: HookEvent) -> int:
    repo, commit = _load_commit(event)
    files, changes = _commit_files(repo, commit, logger.workdir)
    meta = _commit_meta(event, commit, files)
    if len(changes) > MAX_FILE_ENTRIES:
        meta["file_entries_truncated"] = len(changes) - MAX_FILE_ENTRIES
        changes = changes[:MAX_FILE_ENTRIES]
    stamp = _stamp(logger, event)
    short = str(commit.id)[:7]
    with logger.batch():
        for change in changes:
            logger.log_file_change(
                change.path,
                change.ctype,
                before_content=change.before,
                after_content=change.after,
                description=f"{_VERBS[change.ctype]} {change.path} in commit {short}",
                metadata={"commit": str(commit.id), "branch": meta["branch"],
                          **_where(meta)},
                timestamp=stamp,
            )
        logger.log(ChangeType.GIT_COMMIT, _commit_title(commit, meta), meta, timestamp=stamp)
    return len(changes) + 1


def _record_merge(logger: ChangeLogger, event: HookEvent) -> int:
    """A merge commit; fast-forwards and squashes make no commit here (0 entries)."""
    repo = _open_repo(event)
    try:
        commit = repo[event.fields.get("head", "")]
    except (KeyError, ValueError) as exc:
        head = event.fields.get("head")
        raise HookEventError(f"commit {head} is not in {event.git_dir}") from exc
    if not isinstance(commit, pygit2.Commit) or len(commit.parent_ids) < 2:
        return 0
    return _record_commit(logger, event)


# -- pushes (pre-push) -----------------------------------------------------------------------
def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _remote_tips(repo: pygit2.Repository, remote: str) -> list[str]:
    prefix = f"refs/remotes/{remote}/"
    out = []
    for name in repo.references:
        if remote and name.startswith(prefix):
            with contextlib.suppress(pygit2.GitError, KeyError):
                out.append(str(repo.references[name].peel(pygit2.Commit).id))
    return out


def _count(repo: pygit2.Repository, new: str, hide: list[str], limit: int = 10_000) -> int | None:
    try:
        walker = repo.walk(pygit2.Oid(hex=new), pygit2.enums.SortMode.NONE)
        for oid in hide:
            with contextlib.suppress(pygit2.GitError, KeyError, ValueError):
                walker.hide(pygit2.Oid(hex=oid))
        n = 0
        for _commit in walker:
            n += 1
            if n >= limit:
                return None
        return n
    except (pygit2.GitError, KeyError, ValueError):
        return None


def _pushed_ref(repo: pygit2.Repository, remote: str, parts: list[str]) -> dict[str, Any]:
    """One line of pre-push's input: what happens to one remote ref."""
    local_ref, local_oid, remote_ref, remote_oid = parts
    item: dict[str, Any] = {
        "local_ref": None if local_ref == "(delete)" else local_ref,
        "remote_ref": remote_ref,
        "old": None if set(remote_oid) == {"0"} else remote_oid,
        "new": None if set(local_oid) == {"0"} else local_oid,
    }
    if item["new"] is None:
        item["action"] = "delete"
    elif item["old"] is None:
        item["action"] = "create"
        item["commits"] = _count(repo, item["new"], _remote_tips(repo, remote))
    else:
        item["action"] = "update"
        known = item["old"] in repo
        if known:
            fast = item["old"] == item["new"] or repo.descendant_of(item["new"], item["old"])
            item["forced"] = not fast
            item["commits"] = _count(repo, item["new"], [item["old"]])
    return item


def _push_summary(refs: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{_short_ref(r['remote_ref'])} "
        + (
            "deleted"
            if r["action"] == "delete"
            else f"{(r['old'] or 'new')[:7]}..{r['new'][:7]}"
            + (" (forced)" if r.get("forced") else "")
        )
        for r in refs
    )


def _record_push(logger: ChangeLogger, event: HookEvent) -> int:
    # Pushing to a URL instead of a named remote gives git the URL as the remote's name too.
    remote = strip_credentials(event.args[0]) if event.args else ""
    url = strip_credentials(event.args[1]) if len(event.args) > 1 else ""
    repo = _open_repo(event)
    refs = [
        _pushed_ref(repo, remote, parts)
        for parts in (line.split() for line in event.stdin.splitlines())
        if len(parts) == 4
    ]
    meta: dict[str, Any] = {
        "remote": remote,
        "url": url,
        "refs": refs,
        "repository": str(event.work_tree or event.common_dir),
        "branch": event.branch,
        "hook": event.hook,
        "hook_event": event.name,
        "note": "recorded by pre-push, before the transfer",
    }
    name = remote or url or "remote"
    logger.log(
        ChangeType.GIT_PUSH,
        f"Push to {name}: {_push_summary(refs) or 'nothing'}",
        meta,
        timestamp=_stamp(logger, event),
    )
    return 1


# -- rewrites (post-rewrite: amend, rebase) ----------------------------------------------------
def _record_rewrite(logger: ChangeLogger, event: HookEvent) -> int:
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
        **_event_meta(event),
    }
    first = mappings[0]
    what = f"{first['old'][:7]} -> {first['new'][:7]}" if n == 1 else f"{n} commits"
    logger.log(
        ChangeType.GIT_COMMIT,
        f"Rewrote {what} ({kind})",
        meta,
        timestamp=_stamp(logger, event),
    )
    return 1


_HANDLERS: dict[str, Callable[[ChangeLogger, HookEvent], int]] = {
    "post-commit": _record_commit,
    "post-merge": _record_merge,
    "post-applypatch": _record_commit,
    "pre-push": _record_push,
    "post-rewrite": _record_rewrite,
}


def record_event(ledger_dir: Path, event: HookEvent) -> int:
    """Write the entries for one event; return how many (0 if it was already recorded)."""
    handler = _HANDLERS.get(event.hook)
    if handler is None:
        raise HookEventError(f"event {event.name} is from an unknown hook {event.hook!r}")
    session, agent = _session_for(event)
    logger = ChangeLogger(
        ledger_dir=ledger_dir,
        agent_id=agent,
        session_id=session,
        workdir=event.work_tree or event.common_dir,
    )
    if _already_recorded(logger, event):
        return 0
    return handler(logger, event)
