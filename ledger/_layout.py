"""Every name inside a ledger folder, in one place: files, folders and refs.

A ledger is a bare git repository; git-ledger keeps its own files beside git's. Nothing else
in the package spells one of these names.
"""

from __future__ import annotations

from pathlib import Path

# -- refs -------------------------------------------------------------------------------------
SESSION_REF_PREFIX = "refs/heads/sessions/"
"""One branch per agent session: ``refs/heads/sessions/<session>``."""
LEDGER_REF_PREFIX = "refs/ledger/"
"""The ledger's own refs (checkpoints)."""
CHECKPOINT_REF = "refs/ledger/checkpoints"
"""The chain of checkpoint commits."""
COPY_MARKER = "--from-"
"""A diverged copy of session ``<id>`` from elsewhere is ``<id>--from-<origin>-<tip>``."""
STAGING_PREFIX = "refs/ledger-remotes/"
"""Where a pull stages a remote's refs before adopting them."""

# -- an entry commit's tree ---------------------------------------------------------------------
ENTRY_FILE = "entry.json"
"""The entry itself, canonical JSON, at the root of every entry commit's tree."""
FILES_DIR = "files"
"""File states the session knows, under ``files/<path>``."""

# -- files and folders beside git's in the ledger folder -----------------------------------------
LOCK_FOLDER = "ledger-locks"
"""flock files: one per session, maintenance, push, pull."""
PUSH_LOCK = "sync-push.lock"
"""Inside the lock folder: held by the one running background push."""
PUSH_PENDING = "sync-push.pending"
"""Inside the lock folder: a push was asked for while one ran."""
CENTRAL_PUSH_LOCK = "central-push.lock"
"""Inside a local central's lock folder: held by every git-ledger push writing to it."""
MAINTENANCE_LOCK = "maintenance.lock"
"""Inside the lock folder: held by maintenance, and by readers that must not race a repack."""
AUTO_STAMP = "auto-maintenance.stamp"
"""Inside the lock folder: when automatic maintenance last started."""
INDEX_FILE = "ledger-query-index.sqlite"
"""The disposable query index (SQLite)."""
INDEX_SIDE_FILES = tuple(INDEX_FILE + s for s in ("-wal", "-shm", "-journal"))
"""SQLite's companions of the index."""
SPOOL_DIR = "ledger-spool"
"""Events the git hooks queued for the drainer."""
SPOOL_FAILED_DIR = "failed"
"""Inside the spool: events the drainer could not record."""
AGENTS_DIR = "ledger-agents"
"""Agent adapters' private state (before-state snapshots)."""
AGENTS_PENDING_DIR = "pending"
"""Inside the agents folder: snapshots waiting for their PostToolUse."""
STATE_DIR = "ledger-state"
"""Trust state: the last accepted checkpoint."""
ACCEPTED_FILE = "accepted-checkpoint.json"
"""Inside the state folder: the checkpoint verify last accepted."""
ARCHIVE_DIR = "archive"
"""Bundles of sessions rotated out by maintenance, and their catalogue."""
BUNDLE_PREFIX = "sessions-"
"""Inside the archive folder: how a bundle's name starts (``sessions-<UTC stamp>.bundle``)."""
BUNDLE_SUFFIX = ".bundle"
"""Inside the archive folder: a git bundle of retired sessions."""
MANIFEST_SUFFIX = ".json"
"""Inside the archive folder: the catalogue entry beside each bundle (same stem)."""
ARCHIVE_OBJECTS = "objects"
"""Inside the archive folder: each bundle's pack, indexed so that readers can open archived
entries without restoring refs (a cache: safe to delete, rebuilt from the bundles)."""
MAINTENANCE_STATE = "ledger-maintenance.json"
"""The packs maintenance wrote, so that it knows them for old ones later."""
KEY_FILE = "ledger-redact.key"
"""The secret key of redaction fingerprints."""
SYNC_LOG = "ledger-sync.log"
"""What background pushes did."""
MAINTENANCE_LOG = "ledger-maintenance.log"
"""What background maintenance did."""
RECOVERY_LOG = "ledger-recovery.log"
"""Stale locks removed and other recoveries."""


def sessions_held(ref_session: str) -> set[str]:
    """The session ids whose entries a session ref may hold: its own, and for a diverged
    copy (``<id>--from-<origin>-<tip>``) that of the session it copies."""
    return {ref_session, ref_session.split(COPY_MARKER, 1)[0]}


def ledger_path(ledger: Path, name: str, *more: str) -> Path:
    """``ledger/name/more…``: a path inside the ledger folder."""
    return ledger.joinpath(name, *more)
