"""The agents' spool drainer: events the fast hook queued, recorded in order.

One drainer per ledger at a time (an ``flock`` on ``.drain.lock`` that dies with it). An event
file is deleted only after its entries are written; an event that can never be recorded is
moved to ``failed/`` and noted in the agent's log; a passing trouble (a lock held too long,
the disk) leaves it in place for the next drainer. After releasing the lock the drainer looks
once more, so an event spooled while it was leaving is never stranded.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from ledger._layout import AGENTS_DIR
from ledger.capture.agents.base import PUSH_AFTER, Adapter, Outcome, note
from ledger.capture.agents.fasthook import EVENT_SUFFIX, LOCK_NAME, spool_dir
from ledger.capture.agents.filestate import SPOOLED
from ledger.capture.agents.registry import ADAPTERS
from ledger.errors import (
    AgentEventError,
    ConcurrentUpdateError,
    LedgerError,
    LedgerLocationError,
    LockTimeoutError,
    StorageError,
)

FAILED_DIR = "failed"
LAST_EVENTS = "last-events.json"
LINGER_SECONDS = 2.0
POLL = 0.02
MAX_ATTEMPTS = 3
TRANSIENT = (LedgerLocationError, StorageError, LockTimeoutError, ConcurrentUpdateError, OSError)


def pending(ledger: Path) -> list[Path]:
    """The spooled events, oldest first."""
    spool = spool_dir(ledger)
    try:
        names = os.listdir(spool)
    except OSError:
        return []
    return [spool / n for n in sorted(names) if n.startswith("ev-") and n.endswith(EVENT_SUFFIX)]


def failed(ledger: Path) -> list[Path]:
    folder = spool_dir(ledger) / FAILED_DIR
    try:
        return sorted(folder / n for n in os.listdir(folder) if n.startswith("ev-"))
    except OSError:
        return []


def _set_aside(path: Path) -> None:
    folder = path.parent / FAILED_DIR
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.replace(path, folder / path.name)


def _remember(ledger: Path, last: dict[str, dict[str, Any]]) -> None:
    """Keep the last event of each agent for ``git ledger status``."""
    if not last:
        return
    path = ledger / AGENTS_DIR / LAST_EVENTS
    with contextlib.suppress(OSError, ValueError):
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        known = known if isinstance(known, dict) else {}
        known.update(last)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(known, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def record_one(ledger: Path, path: Path) -> tuple[str, Outcome]:
    """Record one spooled event and delete it: (agent, outcome); raises to be tried again."""
    try:
        record = json.loads(path.read_bytes())
        agent = record["agent"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        note(ledger, "spool", f"unreadable spooled event {path.name}: {exc}; set aside")
        _set_aside(path)
        return "spool", Outcome("failed", "", "unreadable spooled event")
    adapter: Adapter | None = ADAPTERS.get(agent) if isinstance(agent, str) else None
    event = record.get("event")
    if adapter is None or not isinstance(event, dict):
        what = f"unknown agent {agent!r}" if adapter is None else "malformed event"
        note(ledger, str(agent), f"{what} in {path.name}: {str(record.get('raw', ''))[:200]}")
        path.unlink(missing_ok=True)
        return str(agent), Outcome("failed", "", what)
    extra = event.get(SPOOLED)
    if isinstance(extra, dict):
        extra["spool_id"] = path.name[: -len(EVENT_SUFFIX)]
    try:
        outcome = adapter.handle(event, ledger)
    except AgentEventError as exc:
        note(ledger, adapter.name, f"malformed event: {exc}")
        outcome = Outcome("failed", str(event.get("hook_event_name", "")), str(exc))
    except TRANSIENT:
        raise
    except LedgerError as exc:
        note(ledger, adapter.name, f"not recorded: {exc}")
        _set_aside(path)
        return adapter.name, Outcome("failed", "", str(exc))
    path.unlink(missing_ok=True)
    if outcome.status == "recorded" and outcome.event in PUSH_AFTER:
        from ledger.sync.push import push_in_background  # only at a session's end

        push_in_background(ledger)
    return adapter.name, outcome


def _drain_locked(ledger: Path, linger: float) -> int:
    done = 0
    attempts: dict[str, int] = {}
    last: dict[str, dict[str, Any]] = {}
    idle_since = time.monotonic()
    while True:
        batch = pending(ledger)
        for path in batch:
            try:
                agent, outcome = record_one(ledger, path)
            except Exception as exc:  # a passing trouble, or a bug: try again, then set aside
                attempts[path.name] = attempts.get(path.name, 0) + 1
                if attempts[path.name] >= MAX_ATTEMPTS:
                    note(ledger, "spool", f"{path.name} failed {MAX_ATTEMPTS} times: {exc}")
                    _set_aside(path)
                time.sleep(0.2)
                break  # keep the order: nothing after it before it is recorded
            done += 1
            last[agent] = {"time": time.time(), "event": outcome.event, "status": outcome.status}
        if batch:
            idle_since = time.monotonic()
            continue
        if time.monotonic() - idle_since >= linger:
            break
        time.sleep(POLL)
    _remember(ledger, last)
    return done


def drain(ledger: Path, *, wait: bool = False, linger: float = 0.0) -> int | None:
    """Record every spooled event; the count, or None when another drainer holds the spool.

    ``wait``: wait for a running drainer to finish, then drain what is left.
    """
    spool = spool_dir(ledger)
    if not spool.is_dir():
        return 0
    total = 0
    while True:
        fd = os.open(spool / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except OSError:
                return None if total == 0 else total
            total += _drain_locked(ledger, linger)
        finally:
            os.close(fd)
        if not pending(ledger):
            return total
        linger = 0.0  # an event came while we were leaving: go round once more


def detach() -> None:
    """Leave the caller's session and yield the CPU (a background drainer)."""
    with contextlib.suppress(OSError):
        os.setsid()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(10)


def linger_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("GIT_LEDGER_DRAIN_LINGER", LINGER_SECONDS)))
    except ValueError:
        return LINGER_SECONDS
