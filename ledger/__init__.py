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

# Public name -> the module (relative to this package) that defines it.
_EXPORTS = {
    "ChangeLogger": "ledger.write.logger",
    "ChangeType": "ledger.types",
    "Entry": "ledger.entry",
    "LedgerError": "ledger.errors",
    "LogLevel": "ledger.types",
    "LogMetrics": "ledger.metrics",
    "LogQuery": "ledger.read.query",
    "LogStorage": "ledger.lifecycle.storage",
    "Restorer": "ledger.undo.restore",
    "verify_ledger": "ledger.trust.verify",
    "write_checkpoint": "ledger.trust.checkpoint",
}

__all__ = [
    "ChangeLogger",
    "ChangeType",
    "Entry",
    "LedgerError",
    "LogLevel",
    "LogMetrics",
    "LogQuery",
    "LogStorage",
    "Restorer",
    "verify_ledger",
    "write_checkpoint",
]

if TYPE_CHECKING:
    from ledger.entry import Entry
    from ledger.errors import LedgerError
    from ledger.lifecycle.storage import LogStorage
    from ledger.metrics import LogMetrics
    from ledger.read.query import LogQuery
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
