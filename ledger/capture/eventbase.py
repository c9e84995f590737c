"""What every recorder of a git hook's event shares: its time, its repository, its origin."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pygit2

from ledger._repoid import remote_url
from ledger.capture.spool import HookEvent
from ledger.errors import HookEventError
from ledger.write.logger import ChangeLogger


def event_stamp(logger: ChangeLogger, event: HookEvent) -> dt.datetime | None:
    """The event's time, unless the session already holds a later entry or the event is
    dated after the clock's now (a spool file's time set ahead): then now."""
    if event.time > dt.datetime.now(dt.UTC):
        return None
    if logger.store.exists:
        newest = next(iter(logger.store.walk_session(logger.session_id)), None)
        if newest is not None and newest.timestamp > event.time:
            return None
    return event.time


def open_repo(event: HookEvent) -> pygit2.Repository:
    try:
        return pygit2.Repository(str(event.git_dir))
    except pygit2.GitError as exc:
        raise HookEventError(f"repository {event.git_dir} is gone: {exc}") from exc


def event_meta(event: HookEvent) -> dict[str, Any]:
    """Where the event came from: the last keys of every hook entry's metadata."""
    meta: dict[str, Any] = {"repository": str(event.work_tree or event.common_dir)}
    remote = remote_url(str(event.work_tree or event.common_dir))
    if remote:
        meta["remote"] = remote  # the same repository's entries from another clone match
    meta.update(hook=event.hook, hook_event=event.name)
    return meta
