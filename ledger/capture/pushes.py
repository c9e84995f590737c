"""Pushes recorded from git's pre-push hook: one entry naming every ref and what happens to it."""

from __future__ import annotations

import contextlib
from typing import Any

import pygit2

from ledger._repoid import strip_credentials
from ledger.capture.eventbase import event_stamp, open_repo
from ledger.capture.spool import HookEvent
from ledger.types import ChangeType
from ledger.write.logger import ChangeLogger


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


def record_push(logger: ChangeLogger, event: HookEvent) -> int:
    # Pushing to a URL instead of a named remote gives git the URL as the remote's name too.
    remote = strip_credentials(event.args[0]) if event.args else ""
    url = strip_credentials(event.args[1]) if len(event.args) > 1 else ""
    repo = open_repo(event)
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
    title = f"Push to {remote or url or 'remote'}: {_push_summary(refs) or 'nothing'}"
    logger.log(ChangeType.GIT_PUSH, title, meta, timestamp=event_stamp(logger, event))
    return 1
