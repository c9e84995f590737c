"""git-ledger: a git-native change ledger for AI agents.

Every action an agent records becomes a commit on ``refs/heads/sessions/<session>`` of a
dedicated bare repository, so ``git log`` and ``git show`` read the ledger directly.

The public names load lazily: a git hook or an agent adapter that only writes entries does
not pay for importing the query, storage, metrics and report modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it. Every error of ledger.errors is public, and so
# are the names the docs import from ledger.sync and ledger.metrics.
_EXPORTS = {
    "AgentEventError": "ledger.errors",
    "AgentSettingsError": "ledger.errors",
    "AmbiguousEntryError": "ledger.errors",
    "ArchiveError": "ledger.errors",
    "ArchiveNotFoundError": "ledger.errors",
    "ChangeLogger": "ledger.write.logger",
    "ChangeType": "ledger.types",
    "CheckpointError": "ledger.errors",
    "ConcurrentUpdateError": "ledger.errors",
    "ConflictError": "ledger.errors",
    "Entry": "ledger.entry",
    "EntryNotFoundError": "ledger.errors",
    "GitUnavailableError": "ledger.errors",
    "HealthThresholds": "ledger.metrics",
    "HookEventError": "ledger.errors",
    "HookInstallError": "ledger.errors",
    "ImportFormatError": "ledger.errors",
    "InputError": "ledger.errors",
    "IntegrityError": "ledger.errors",
    "InvalidAgentIdError": "ledger.errors",
    "InvalidEntryIdError": "ledger.errors",
    "InvalidDateError": "ledger.errors",
    "InvalidInputError": "ledger.errors",
    "InvalidMetadataError": "ledger.errors",
    "InvalidPathError": "ledger.errors",
    "InvalidRemoteError": "ledger.errors",
    "InvalidSessionIdError": "ledger.errors",
    "LedgerError": "ledger.errors",
    "LedgerLocationError": "ledger.errors",
    "LedgerNotFoundError": "ledger.errors",
    "LockTimeoutError": "ledger.errors",
    "LogLevel": "ledger.types",
    "LogMetrics": "ledger.metrics",
    "LogQuery": "ledger.read.query",
    "LogStorage": "ledger.lifecycle.storage",
    "MaintenanceBusyError": "ledger.errors",
    "NotARepositoryError": "ledger.errors",
    "NotFoundError": "ledger.errors",
    "RedactionConfigError": "ledger.errors",
    "RemoteError": "ledger.errors",
    "Restorer": "ledger.undo.restore",
    "SessionNotFoundError": "ledger.errors",
    "SigningError": "ledger.errors",
    "StorageError": "ledger.errors",
    "SyncError": "ledger.errors",
    "TimestampOrderError": "ledger.errors",
    "UndoConflictError": "ledger.errors",
    "UnrestorableError": "ledger.errors",
    "WorkspaceEscapeError": "ledger.errors",
    "push_in_background": "ledger.sync.push",
    "verify_ledger": "ledger.trust.verify",
    "write_checkpoint": "ledger.trust.checkpoint",
}

__all__ = [
    "AgentEventError",
    "AgentSettingsError",
    "AmbiguousEntryError",
    "ArchiveError",
    "ArchiveNotFoundError",
    "ChangeLogger",
    "ChangeType",
    "CheckpointError",
    "ConcurrentUpdateError",
    "ConflictError",
    "Entry",
    "EntryNotFoundError",
    "GitUnavailableError",
    "HealthThresholds",
    "HookEventError",
    "HookInstallError",
    "ImportFormatError",
    "InputError",
    "IntegrityError",
    "InvalidAgentIdError",
    "InvalidDateError",
    "InvalidEntryIdError",
    "InvalidInputError",
    "InvalidMetadataError",
    "InvalidPathError",
    "InvalidRemoteError",
    "InvalidSessionIdError",
    "LedgerError",
    "LedgerLocationError",
    "LedgerNotFoundError",
    "LockTimeoutError",
    "LogLevel",
    "LogMetrics",
    "LogQuery",
    "LogStorage",
    "MaintenanceBusyError",
    "NotARepositoryError",
    "NotFoundError",
    "RedactionConfigError",
    "RemoteError",
    "Restorer",
    "SessionNotFoundError",
    "SigningError",
    "StorageError",
    "SyncError",
    "TimestampOrderError",
    "UndoConflictError",
    "UnrestorableError",
    "WorkspaceEscapeError",
    "push_in_background",
    "verify_ledger",
    "write_checkpoint",
]

if TYPE_CHECKING:
    from ledger.entry import Entry
    from ledger.errors import (
        AgentEventError,
        AgentSettingsError,
        AmbiguousEntryError,
        ArchiveError,
        ArchiveNotFoundError,
        CheckpointError,
        ConcurrentUpdateError,
        ConflictError,
        EntryNotFoundError,
        GitUnavailableError,
        HookEventError,
        HookInstallError,
        ImportFormatError,
        InputError,
        IntegrityError,
        InvalidAgentIdError,
        InvalidDateError,
        InvalidEntryIdError,
        InvalidInputError,
        InvalidMetadataError,
        InvalidPathError,
        InvalidRemoteError,
        InvalidSessionIdError,
        LedgerError,
        LedgerLocationError,
        LedgerNotFoundError,
        LockTimeoutError,
        MaintenanceBusyError,
        NotARepositoryError,
        NotFoundError,
        RedactionConfigError,
        RemoteError,
        SessionNotFoundError,
        SigningError,
        StorageError,
        SyncError,
        TimestampOrderError,
        UndoConflictError,
        UnrestorableError,
        WorkspaceEscapeError,
    )
    from ledger.lifecycle.storage import LogStorage
    from ledger.metrics import HealthThresholds, LogMetrics
    from ledger.read.query import LogQuery
    from ledger.sync.push import push_in_background
    from ledger.trust.checkpoint import write_checkpoint
    from ledger.trust.verify import verify_ledger
    from ledger.types import ChangeType, LogLevel
    from ledger.undo.restore import Restorer
    from ledger.write.logger import ChangeLogger


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
