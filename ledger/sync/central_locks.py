"""Stale ref locks on a central on this machine, left there by a push that was killed.

A push to a local-path or ``file://`` central writes that repository from this process:
libgit2 creates ``refs/.../<ref>.lock`` (or ``packed-refs.lock``), writes it and renames it
over the ref. A push killed in between leaves the ``.lock`` behind and every later push of
that ref fails for good. Every git-ledger push to a local central therefore holds a flock
in the central's lock folder (it dies with its holder); a ref lock found while holding it
whose file has not changed for :data:`STALE_SECONDS` was left by a dead push, and is
removed with a line in the pushing ledger's sync log, as the writers do for their own. A
lock that cannot be removed stops the push with one line saying what to run.
"""

from __future__ import annotations

import contextlib
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from ledger._fs import flock
from ledger._layout import CENTRAL_PUSH_LOCK, LOCK_FOLDER
from ledger.errors import StorageError, SyncError

STALE_SECONDS = 2.0
"""A ref lock unchanged this long, found under the central's push flock, is stale."""
WAIT_SECONDS = 600.0
"""How long a push waits for another git-ledger push to the same central."""
_LOCK_ROOTS = ("refs/heads/sessions", "refs/ledger")


def central_path(url: str) -> Path | None:
    """The folder of a central on this machine (a path or ``file://`` URL), else None."""
    if url.startswith("file://"):
        parsed = urllib.parse.urlsplit(url)
        if parsed.netloc not in ("", "localhost"):
            return None
        return Path(urllib.parse.unquote(parsed.path))
    if "://" in url:
        return None
    return Path(os.path.expanduser(url))


def ref_locks(central: Path) -> list[Path]:
    """The ref ``.lock`` files in a central (``packed-refs.lock`` and ledger refs')."""
    found = [central / "packed-refs.lock"] if (central / "packed-refs.lock").exists() else []
    for root in _LOCK_ROOTS:
        base = central / root
        if base.is_dir():
            found.extend(p for p in sorted(base.rglob("*.lock")) if not p.is_symlink())
    return found


@contextlib.contextmanager
def central_push_lock(central: Path, timeout: float = WAIT_SECONDS) -> Iterator[bool]:
    """Hold the central's push flock; yield False (holding nothing) when it cannot be made.

    A central that this user may not write has no flock to take: the push then goes on
    and reports any lock it meets with what to run (:func:`blocked_hint`).
    """
    if not (central / "objects").is_dir() or not os.access(central, os.W_OK):
        yield False
        return
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                flock(
                    central / LOCK_FOLDER,
                    CENTRAL_PUSH_LOCK,
                    what=f"lock the central {central}",
                    timeout=timeout,
                    busy=lambda: SyncError(
                        f"another push to {central} has been running for {timeout:.0f}s;"
                        " try again later"
                    ),
                )
            )
        except StorageError:
            held = False  # a lock folder that cannot be made is no reason to fail the push
        else:
            held = True
        yield held


def clear_stale_locks(central: Path, log: Callable[[str], None]) -> None:
    """Remove the ref locks a killed push left in ``central`` (call with its flock held).

    A lock is removed once its file has been unchanged for :data:`STALE_SECONDS` (this
    waits for younger ones, at most twice that): under the flock no git-ledger push is
    writing, and git itself holds a ref lock for a moment only.
    """
    deadline = time.monotonic() + STALE_SECONDS * 2
    for lock in ref_locks(central):
        while True:
            try:
                age = time.time() - lock.lstat().st_mtime
            except FileNotFoundError:
                break
            if age < STALE_SECONDS and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            try:
                lock.unlink()
            except FileNotFoundError:
                break
            except OSError as exc:
                raise SyncError(
                    f"a killed push left {lock} and it cannot be removed ({exc.strerror}); "
                    f"if no push to {central} is running: rm '{lock}'"
                ) from exc
            log(f"removed stale lock {lock.relative_to(central)} in central {central}"
                f" (unchanged {age:.0f}s, left by a killed push)")
            break


def blocked_hint(central: Path) -> str:
    """What to run about the ref locks left in ``central`` ('' when there are none)."""
    locks = ref_locks(central)
    if not locks:
        return ""
    names = " ".join(f"'{p}'" for p in locks[:5])
    return f"; a killed push left locks in {central}: if no push to it is running, rm {names}"
