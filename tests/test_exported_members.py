"""The package's public API is exactly what ``ledger.__all__`` lists, sorted."""

from __future__ import annotations

import types

import ledger


def test_all_is_sorted_and_complete() -> None:
    public = {
        name for name, value in vars(ledger).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(ledger.__all__)
    assert list(ledger.__all__) == sorted(ledger.__all__)


def test_seed_names_are_importable() -> None:
    from ledger import ChangeLogger, ChangeType, LogLevel, LogMetrics, LogQuery, LogStorage

    assert ChangeType("file_update") is ChangeType.FILE_UPDATE
    assert LogLevel("critical").rank == 4
    for cls in (ChangeLogger, LogQuery, LogStorage, LogMetrics):
        assert isinstance(cls, type)
