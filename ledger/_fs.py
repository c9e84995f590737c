"""File-system helpers: flock lock files (the maintenance lock among them) and atomic writes."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ledger._layout import LOCK_FOLDER, MAINTENANCE_LOCK
from ledger.errors import LedgerError, MaintenanceBusyError, StorageError


@contextlib.contextmanager
def flock(
    folder: str | os.PathLike[str],
    name: str,
    *,
    what: str,
    timeout: float | None,
    busy: Callable[[], LedgerError] | None = None,
    delay: float = 0.05,
    max_delay: float = 0.05,
) -> Iterator[int]:
    """Hold an exclusive kernel flock on ``folder/name`` and yield its descriptor.

    The folder is created 0700 and the file 0600. A flock dies with its holder, so a
    killed writer never leaves a lock behind. ``timeout=None`` waits as long as it takes;
    otherwise the lock is polled (``delay`` doubling up to ``max_delay``) and ``busy()`` is
    raised once ``timeout`` seconds have passed. A lock that cannot be opened or taken is a
    StorageError "cannot <what>: ...". Closing the descriptor on exit releases the lock.
    """
    path = os.path.join(folder, name)
    try:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the folder comes first
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o700)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageError(f"cannot {what}: {exc}") from exc
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StorageError(f"cannot {what}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise (busy() if busy is not None else StorageError(f"cannot {what}"))
                time.sleep(delay)
                delay = min(delay * 2, max_delay)
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def maintenance_lock(ledger: Path, timeout: float = 0.0) -> Iterator[None]:
    """Hold the ledger's maintenance lock (a kernel flock: it dies with its holder).

    Raises MaintenanceBusyError when another holder keeps it past ``timeout`` seconds.
    """
    with flock(
        ledger / LOCK_FOLDER,
        MAINTENANCE_LOCK,
        what="take the maintenance lock",
        timeout=timeout,
        busy=lambda: MaintenanceBusyError(
            f"maintenance of {ledger} is already running; try again later"
        ),
    ) as fd:
        # The holder's pid is for people; a full disk must not stop maintenance (which
        # is what frees space) nor the readers that pause it.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield


@contextlib.contextmanager
def maintenance_paused(ledger: str | os.PathLike[str], timeout: float = 600.0) -> Iterator[None]:
    """Keep maintenance from repacking while the block runs (waiting for a running one).

    ``git fsck`` lists the pack folder once; a repack that deletes old packs meanwhile
    makes it report packs "not opened" and objects missing that are safely elsewhere.
    Readers that run fsck (verify, health checks, audit reports) hold this around it.
    """
    with maintenance_lock(Path(ledger), timeout):
        yield


def atomic_write(
    path: Path, data: bytes, *, mode: int | None = None, durable: bool = False
) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Readers see the old content or the new, never a part. ``mode`` sets the new file's
    permission bits; None keeps those of the file being replaced (a new file gets 0600).
    ``durable``: the data reaches the disk before the rename, so a crash cannot leave the
    new name on an empty file. The temporary file is removed if anything fails.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
