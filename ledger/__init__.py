"""git-ledger: a git-native change ledger for AI agents.

Every action an agent records becomes a commit on ``refs/heads/sessions/<session>`` of a
dedicated bare repository, so ``git log`` and ``git show`` read the ledger directly.
"""

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

__version__ = "0.1.0"

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
