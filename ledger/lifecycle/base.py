"""What every lifecycle job shares: the ledger, its settings, messages, progress and lock.

LogStorage is this plus one delegating method per job; the job modules take it as ``storage``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ledger._fs import maintenance_lock
from ledger._layout import ARCHIVE_DIR
from ledger._store import LedgerStore
from ledger._upkeep import DEFAULT_COMPRESS_AFTER_DAYS
from ledger.errors import InvalidInputError
from ledger.location import resolve_ledger_dir
from ledger.read.export import Progress

# Unreachable objects younger than this survive pruning: an in-flight writer may have
# written them and not yet published the ref that reaches them.
DEFAULT_PRUNE_GRACE_SECONDS = 14 * 86400  # git's gc.pruneExpire default

Echo = Callable[[str], None]


class StorageBase:
    """One ledger's settings for maintenance, rotation and quota, and the means they share.

    Args:
        ledger_dir: the ledger (resolved like ChangeLogger's; ``log_dir`` is the seed's name).
        max_log_age_days: sessions whose last entry is older than this are archived.
        max_storage_mb: the size budget of the repository (the archive folder excluded).
        compress_after_days: loose objects older than this make writers start maintenance
            even below the loose-object threshold.
        prune_grace_seconds: unreachable objects younger than this are never pruned, so
            objects of an in-flight writer survive.
        quiet: do not print what maintenance did.
        progress: called as ``progress(stage, done, total)`` during long work.
    """

    def __init__(
        self,
        ledger_dir: str | os.PathLike[str] | None = None,
        max_log_age_days: float = 30,
        max_storage_mb: float = 500,
        compress_after_days: float = DEFAULT_COMPRESS_AFTER_DAYS,
        *,
        prune_grace_seconds: int = DEFAULT_PRUNE_GRACE_SECONDS,
        quiet: bool = False,
        progress: Progress | None = None,
        echo: Echo | None = None,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if max_log_age_days < 0 or max_storage_mb <= 0 or compress_after_days < 0:
            raise InvalidInputError(
                "max_log_age_days and compress_after_days must be >= 0, max_storage_mb > 0"
            )
        if prune_grace_seconds < 0:
            raise InvalidInputError("prune_grace_seconds must be >= 0")
        self.ledger_dir = resolve_ledger_dir(ledger_dir if ledger_dir is not None else log_dir)
        self.max_log_age_days = max_log_age_days
        self.max_storage_mb = max_storage_mb
        self.compress_after_days = compress_after_days
        self.prune_grace_seconds = prune_grace_seconds
        self.quiet = quiet
        self.progress = progress
        self._echo = echo
        self._store: LedgerStore | None = None

    @property
    def store(self) -> LedgerStore:
        """The ledger (LedgerNotFoundError when there is none yet)."""
        if self._store is None:
            # Durable: restore writes refs; reads pay nothing for it.
            self._store = LedgerStore(self.ledger_dir)
        return self._store

    @property
    def archive_dir(self) -> Path:
        """Where retired sessions' bundles go: ``<ledger>/archive``."""
        return self.ledger_dir / ARCHIVE_DIR

    def _say(self, text: str) -> None:
        if self.quiet:
            return
        if self._echo is not None:
            self._echo(text)
        else:
            print(text)

    def _tick(self, stage: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    @contextlib.contextmanager
    def maintenance_lock(self, timeout: float = 0.0) -> Iterator[None]:
        """Hold the ledger's maintenance lock (a kernel flock: it dies with its holder)."""
        with maintenance_lock(self.ledger_dir, timeout):
            yield
