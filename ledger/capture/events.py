"""Hook events turned into ledger entries: one recorder per hook (commit, merge, am, push, rewrite).

Each recorder (:mod:`ledger.capture.commits`, :mod:`ledger.capture.pushes`) reads what it
needs from the work repository with pygit2 and writes the entries in the event's session;
:func:`record_event` picks the recorder and skips an event whose entries a killed drainer
already wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from ledger.capture.commits import record_commit, record_merge, record_rewrite
from ledger.capture.pushes import record_push
from ledger.capture.sessions import DEFAULT_HOOK_AGENT, repo_session, session_id_from
from ledger.capture.spool import HookEvent
from ledger.errors import HookEventError
from ledger.write.logger import ChangeLogger

RECENT_CHECK = 50  # entries of the session searched for an event already recorded


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


_HANDLERS: dict[str, Callable[[ChangeLogger, HookEvent], int]] = {
    "post-commit": record_commit,
    "post-merge": record_merge,
    "post-applypatch": record_commit,
    "pre-push": record_push,
    "post-rewrite": record_rewrite,
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
