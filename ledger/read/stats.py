"""The numbers of ``git ledger stats``: the ledger's counts together with its storage use.

The storage side is passed in, so reading never depends on the lifecycle layer above it.
"""

from __future__ import annotations

from typing import Any, Protocol

from ledger.read.query import LogQuery


class SizeSource(Protocol):
    """Anything that measures a ledger's storage (``LogStorage`` does)."""

    def get_storage_size(self) -> dict[str, Any]:
        """Sizes in bytes and MB, object and pack counts."""
        ...


def ledger_stats(query: LogQuery, storage: SizeSource) -> dict[str, Any]:
    """``query.stats()`` with ``storage.get_storage_size()`` under the key ``storage``."""
    data = query.stats()
    data["storage"] = storage.get_storage_size()
    return data
