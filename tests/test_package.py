"""The package's public API is exactly what ``ledger.__all__`` lists, sorted.

Also: One error tree: every LedgerError subclass is drawn in the module docstring and the docs.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
from pathlib import Path

import ledger
import ledger.errors as errors


def test_all_is_sorted_and_complete() -> None:
    for name in ledger.__all__:
        getattr(ledger, name)  # every listed name loads
    public = {
        name for name, value in vars(ledger).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "importlib", "TYPE_CHECKING", "Any"}
    }
    assert public == set(ledger.__all__)
    assert list(ledger.__all__) == sorted(ledger.__all__)
    assert set(ledger._EXPORTS) == set(ledger.__all__)


PUBLIC = [
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


def test_all_is_exactly_the_public_api() -> None:
    # every public error, and the names the docs import from ledger.sync and ledger.metrics
    assert ledger.__all__ == PUBLIC


def test_writing_does_not_import_the_read_side() -> None:
    code = (
        "import sys, ledger; ledger.ChangeLogger; "
        "print(sorted(m for m in ('ledger.read.query', 'ledger.lifecycle.storage', 'ledger.metrics', "
        "'ledger.reports.html', 'prometheus_client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_seed_names_are_importable() -> None:
    from ledger import ChangeLogger, ChangeType, LogLevel, LogMetrics, LogQuery, LogStorage

    assert ChangeType("file_update") is ChangeType.FILE_UPDATE
    assert LogLevel("critical").rank == 4
    for cls in (ChangeLogger, LogQuery, LogStorage, LogMetrics):
        assert isinstance(cls, type)


# --- One error tree: every LedgerError subclass is drawn in the module docstring and the docs.

ROOT = Path(__file__).resolve().parent.parent


def _classes() -> list[type]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.LedgerError) and cls.__module__ == errors.__name__
    ]


def test_every_error_is_drawn_and_documented() -> None:
    doc = errors.__doc__ or ""
    api = (ROOT / "docs" / "api.md").read_text()
    for cls in _classes():
        drawn = doc.splitlines()
        assert any(line.split("── ")[-1].split()[:1] == [cls.__name__] for line in drawn), cls
        assert cls.__name__ in api, f"{cls.__name__} missing from docs/api.md"
        assert cls.__doc__ and cls.__doc__.strip().splitlines()[0].endswith("."), cls.__name__


def test_drawing_shows_each_parent() -> None:
    lines = (errors.__doc__ or "").splitlines()
    for cls in _classes():
        if cls is errors.LedgerError:
            continue
        row = next(i for i, line in enumerate(lines) if f"── {cls.__name__} " in line)
        indent = lines[row].index("── ")
        parent = next(
            line
            for line in reversed(lines[:row])
            if "── " in line and line.index("── ") < indent or line.strip() == "LedgerError"
        )
        name = parent.split("── ")[-1].split()[0] if "── " in parent else "LedgerError"
        ledger_parents = [b.__name__ for b in cls.__bases__ if issubclass(b, errors.LedgerError)]
        assert name in ledger_parents, f"{cls.__name__} drawn under {name}, is {ledger_parents}"
