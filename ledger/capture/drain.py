"""The drainer: turns the events in the hooks' spool into ledger entries, one drainer at a time.

A hook writes one event file and returns; the drainer records it (``ledger.capture.events``)
and only then deletes it, so an event is never lost. One drainer per spool at a time (an
``flock`` that dies with it); a detached drainer lingers a little for the next events.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ledger._fs import flock
from ledger._layout import SPOOL_DIR, SPOOL_FAILED_DIR
from ledger.capture.events import record_event
from ledger.capture.spool import list_events, note_failure, parse_event, set_aside
from ledger.errors import (
    ConcurrentUpdateError,
    HookEventError,
    LedgerError,
    LedgerLocationError,
    LockTimeoutError,
    StorageError,
)

LOCK_NAME = ".drain.lock"
PID_NAME = ".drainer.pid"
LINGER_SECONDS = 2.0  # a detached drainer waits this long for more events before leaving
LINGER_POLL = 0.02
ENV_LINGER = "GIT_LEDGER_DRAIN_LINGER"
DRAINER_NICE = 10

# Failures that say nothing about the event itself: keep it and try again next time.
TRANSIENT = (LedgerLocationError, StorageError, LockTimeoutError, ConcurrentUpdateError, OSError)


@dataclasses.dataclass
class DrainReport:
    """What one drain did."""

    events: int = 0
    entries: int = 0
    failed: int = 0
    kept: int = 0
    busy: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def add(self, part: DrainReport) -> None:
        """Count another drain's work in this one."""
        self.events += part.events
        self.entries += part.entries
        self.failed += part.failed
        self.kept += part.kept
        self.busy = self.busy or part.busy


class _Busy(LedgerError):
    """Another drainer holds the spool's lock."""


@contextlib.contextmanager
def _spool_lock(spool: Path, wait: bool) -> Iterator[bool]:
    """Hold the spool's drain lock; yield False when another drainer has it (or no lock)."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                flock(
                    spool,
                    LOCK_NAME,
                    what="lock the spool",
                    timeout=None if wait else 0.0,
                    busy=_Busy,
                )
            )
        except (_Busy, StorageError):
            yield False
            return
        yield True


@contextlib.contextmanager
def _pid_file(spool: Path) -> Iterator[None]:
    """Keep the drainer's pid in the spool while it runs: hooks then start no other."""
    pidfile = spool / PID_NAME
    with contextlib.suppress(OSError):
        pidfile.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            pidfile.unlink()


def drain_spool(
    ledger_dir: Path, spool: Path, wait: bool = False, linger: float = 0.0
) -> DrainReport:
    """Turn every event in one spool into entries (one drainer per spool at a time).

    Args:
        ledger_dir: the ledger the entries go to.
        spool: the spool folder.
        wait: wait for a running drainer to finish instead of leaving the work to it.
        linger: seconds to stay for more events once the spool is empty, so that a burst
            of commits (a rebase) is drained by one process. While it runs the drainer
            keeps its pid in ``.drainer.pid``, and hooks do not start another.
    """
    report = DrainReport()
    kept: set[str] = set()
    while True:
        if not [p for p in list_events(spool) if p.name not in kept]:
            return report
        with _spool_lock(spool, wait) as locked:
            if not locked:
                report.busy = True
                return report
            with _pid_file(spool):
                _drain_while_busy(ledger_dir, spool, linger, kept, report)
        # A hook that saw our pid file did not start a drainer: look once more after
        # removing it, so that its event is not left behind.


def _drain_while_busy(
    ledger_dir: Path, spool: Path, linger: float, kept: set[str], report: DrainReport
) -> None:
    """Record events as they come until the spool stayed empty for ``linger`` seconds."""
    idle_until = time.monotonic() + linger
    while True:
        todo = [p for p in list_events(spool) if p.name not in kept]
        if todo:
            for path in todo:
                if not _drain_one(ledger_dir, spool, path, report):
                    kept.add(path.name)
            idle_until = time.monotonic() + linger
        elif time.monotonic() >= idle_until:
            return
        else:
            time.sleep(LINGER_POLL)


def _drain_one(ledger_dir: Path, spool: Path, path: Path, report: DrainReport) -> bool:
    """Record one event; False when it must stay in the spool for a later try."""
    log_dir = spool.parent
    try:
        event = parse_event(path)
    except HookEventError as exc:
        if not path.exists():
            return True  # recorded by a drainer that held the lock before us
        report.failed += 1
        note_failure(log_dir, "drain", f"{exc}; set aside in {SPOOL_DIR}/{SPOOL_FAILED_DIR}")
        set_aside(path, spool)
        return True
    if event.common_dir.is_dir():
        log_dir = event.common_dir
    try:
        report.entries += record_event(ledger_dir, event)
    except TRANSIENT as exc:
        report.kept += 1
        note_failure(log_dir, event.hook, f"not recorded yet (kept for the next try): {exc}")
        return False
    except Exception as exc:  # the event's fault, or a bug: set it aside, go on with the rest
        report.failed += 1
        what = str(exc) if isinstance(exc, LedgerError) else f"{type(exc).__name__}: {exc}"
        note_failure(
            log_dir,
            event.hook,
            f"cannot record {event.name}: {what}; set aside in {SPOOL_FAILED_DIR}",
        )
        set_aside(path, spool)
        return True
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        # Recorded; the next drain sees the entry (hook_event) and only removes the event.
        note_failure(log_dir, event.hook, f"recorded, but cannot remove {event.name}: {exc}")
        return False
    report.events += 1
    return True


def drain(
    ledger_dir: str | os.PathLike[str],
    git_dir: str | os.PathLike[str] | None = None,
    wait: bool = False,
    linger: float = 0.0,
) -> DrainReport:
    """Drain the ledger's spool and, given a repository's git dir, that repository's own.

    Args:
        ledger_dir: the ledger the entries go to (created if missing).
        git_dir: a repository's common git dir whose fallback spool should be drained too.
        wait: wait for a running drainer instead of leaving the work to it.
        linger: seconds to wait for more events in the ledger's spool before returning.
    """
    ledger = Path(ledger_dir)
    total = DrainReport()
    spools = [ledger / SPOOL_DIR]
    if git_dir is not None:
        spools.append(Path(git_dir) / SPOOL_DIR)
    for i, spool in enumerate(spools):
        total.add(drain_spool(ledger, spool, wait, linger if i == 0 else 0.0))
    if total.entries:
        from ledger.sync.push import push_in_background  # deferred: most ledgers have no remote

        push_in_background(ledger)  # no-op unless ledger.autoPush names a remote
    return total


def linger_seconds() -> float:
    """How long a detached drainer waits for more events (``$GIT_LEDGER_DRAIN_LINGER``)."""
    try:
        return max(0.0, float(os.environ.get(ENV_LINGER, LINGER_SECONDS)))
    except ValueError:
        return LINGER_SECONDS


def detach() -> None:
    """Leave the terminal's session (closing it must not stop a background drainer), nicely."""
    with contextlib.suppress(OSError):
        os.setsid()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(DRAINER_NICE)  # background work yields the CPU to the user's git commands
