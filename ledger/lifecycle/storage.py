"""LogStorage: the ledger's size over time — packing, rotation into bundles, quota, export.

Compression is git's own packing (delta compression of file states); rotation archives
sessions idle longer than ``max_log_age_days`` into a verified git bundle under the ledger's
``archive/`` folder before their refs are deleted. The git CLI runs here (repack, prune,
bundle) and never on the write path; writers only ever start it in the background.
Each job lives in its own module (usage, maintenance, packing, archive, read.export); this
class is their one front door.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

from ledger import _upkeep
from ledger.entry import Entry
from ledger.lifecycle import archive as _archive
from ledger.lifecycle import maintenance as _maintenance
from ledger.lifecycle import usage as _usage
from ledger.lifecycle.base import StorageBase
from ledger.read import export as _export


class LogStorage(StorageBase):
    """Storage management for one ledger: usage, maintenance, rotation, quota and export.

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

    # -- usage ----------------------------------------------------------------------------
    def repository_bytes(self) -> int:
        """Bytes the repository takes on disk; the archive and the query cache excluded.

        The query index is a disposable cache rebuilt from the refs: it never counts
        against the budget, so a large index can never make maintenance retire sessions.
        """
        return _usage.repository_bytes(self.ledger_dir)

    def cache_bytes(self) -> int:
        """Bytes of the disposable query index (and its SQLite side files)."""
        return _usage.cache_bytes(self.ledger_dir)

    def get_storage_usage(self) -> dict[str, Any]:
        """Size against the budget, entries and sessions, loose objects and packs.

        ``total_size_mb`` counts the repository without ``archive/`` (the budget applies to
        the live ledger); the archive's size is ``archive_size_mb``.
        """
        return _usage.storage_usage(self)

    def get_storage_size(self) -> dict[str, Any]:
        """The size half of :meth:`get_storage_usage`, without counting entries (cheap)."""
        return _usage.storage_size(self)

    def needs_maintenance(self, threshold: int | None = None) -> bool:
        """True when loose objects or packs pile up (the writers' automatic trigger).

        Like ``git gc --auto``: the loose count is estimated from one fan-out folder; also
        due with more than 50 packs, or when a sampled loose object is older than
        ``compress_after_days``. ``git config ledger.autoMaintenance N`` sets the
        threshold (0 turns the automatic trigger off).
        """
        return _upkeep.needs_maintenance(self.ledger_dir, self.compress_after_days, threshold)

    # -- maintenance and quota ------------------------------------------------------------
    def maintenance(
        self, dry_run: bool = False, *, lock_timeout: float = 0.0, full: bool = False
    ) -> dict[str, Any]:
        """Archive and retire idle sessions, then pack what is new and prune.

        Routine runs cost what was added: new objects go into a pack and small packs are
        rolled up geometrically; ``full=True`` repacks everything into one pack with every
        delta found anew (a full repack reusing deltas is also done by itself once retired
        sessions reach half the packed bytes). Runs of plain fast-forward reflog lines are
        compacted into a record checkpoints seal. Returns (and prints, unless quiet)
        ``compressed`` (loose objects packed), ``archived`` (sessions written to the
        bundle), ``deleted_old`` (session refs removed), ``archive`` (the bundle's path or
        None), ``full_repack``, ``reflog_lines_compacted``, ``bytes_before``/``bytes_after``.
        """
        return _maintenance.maintenance(self, dry_run, lock_timeout=lock_timeout, full=full)

    def enforce_storage_quota(self, archive: bool = True) -> dict[str, Any]:
        """Retire the oldest sessions until the repository is under ``max_storage_mb``.

        Sessions are archived to a verified bundle first unless ``archive=False``. Space of
        objects younger than the prune grace is reclaimed by a later run.
        """
        return _maintenance.enforce_storage_quota(self, archive)

    # -- archives -------------------------------------------------------------------------
    def list_archives(self) -> list[dict[str, Any]]:
        """Every bundle in ``archive/``: path, size, creation time and sessions."""
        return _archive.list_archives(self)

    def restore_archive(self, bundle: str | os.PathLike[str]) -> dict[str, Any]:
        """Bring a bundle's sessions back as session refs; refs never move backwards.

        A session absent from the ledger is recreated; one already at or past the bundled
        tip is left alone; one that the bundled tip extends is moved forward; one whose
        history differs (a new session reused the id) is restored as ``<id>.restored-N``.
        """
        return _archive.restore_archive(self, bundle)

    # -- export ---------------------------------------------------------------------------
    def iter_entries(
        self,
        start_date: dt.datetime | dt.date | str | None = None,
        end_date: dt.datetime | dt.date | str | None = None,
        **filters: Any,
    ) -> Iterator[Entry]:
        """Entries matching the filters, newest first, streamed from the commit graph.

        The filters are :meth:`LogQuery.query`'s (change_types, levels, session_id,
        agent_id, file_path, search_text) and match exactly as they do there.
        """
        return _export.iter_entries(self.ledger_dir, start_date, end_date, **filters)

    def export_logs(
        self,
        output_file: str | os.PathLike[str],
        start_date: dt.datetime | dt.date | str | None = None,
        end_date: dt.datetime | dt.date | str | None = None,
        format: str = "json",
        include_states: bool = False,
        **filters: Any,
    ) -> dict[str, Any]:
        """Write matching entries (newest first) as json, jsonl, csv or otlp, streaming.

        Entries are written one at a time to a temporary file renamed into place at the
        end, so memory stays flat and a failed export leaves nothing behind. Filters:
        change_types, levels, session_id, agent_id, file_path (a folder with a trailing
        ``/``), search_text.
        """
        return _export.export_logs(
            self.ledger_dir,
            output_file,
            start_date,
            end_date,
            format,
            include_states,
            progress=self._tick,
            **filters,
        )

    def export_otlp(self, **options: Any) -> dict[str, Any]:
        """Send matching entries as OpenTelemetry GenAI spans (needs the otel extra).

        To an OTLP receiver (``endpoint=URL``, else the ``OTEL_EXPORTER_OTLP_*`` variables)
        or as OTLP/JSON lines to ``stream``; ``follow_interval=seconds`` then keeps sending
        new entries. Options and filters: see :func:`ledger.read.otlp_export.export_otlp`.
        """
        from ledger.read.otlp_export import export_otlp

        return export_otlp(self.ledger_dir, **options)
