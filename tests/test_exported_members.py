"""The package's public API is exactly what ``ledger.__all__`` lists, sorted."""

from __future__ import annotations

import subprocess
import sys
import types

import ledger


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


def test_writing_does_not_import_the_read_side() -> None:
    code = (
        "import sys, ledger; ledger.ChangeLogger; "
        "print(sorted(m for m in ('ledger.query', 'ledger.storage', 'ledger.metrics', "
        "'ledger.htmlreport', 'prometheus_client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_seed_names_are_importable() -> None:
    from ledger import ChangeLogger, ChangeType, LogLevel, LogMetrics, LogQuery, LogStorage

    assert ChangeType("file_update") is ChangeType.FILE_UPDATE
    assert LogLevel("critical").rank == 4
    for cls in (ChangeLogger, LogQuery, LogStorage, LogMetrics):
        assert isinstance(cls, type)
