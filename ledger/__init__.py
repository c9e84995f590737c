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
    "ChangeLogger": ".logger",
    "ChangeType": ".types",
    "Entry": ".entry",
    "LedgerError": ".errors",
    "LogLevel": ".types",
    "LogMetrics": ".metrics",
    "LogQuery": ".query",
    "LogStorage": ".storage",
    "Restorer": ".undo",
    "verify_ledger": ".verify",
    "write_checkpoint": ".checkpoint",
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
    from .checkpoint import write_checkpoint
    from .entry import Entry
    from .errors import LedgerError
    from .logger import ChangeLogger
    from .metrics import LogMetrics
    from .query import LogQuery
    from .storage import LogStorage
    from .types import ChangeType, LogLevel
    from .undo import Restorer
    from .verify import verify_ledger


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
