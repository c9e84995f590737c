"""The checkpoint this machine has accepted for a ledger: rollback protection.

``verify`` and ``checkpoint`` remember the newest checkpoint accepted, in
``ledger-state/accepted-checkpoint.json`` (it never moves back to an older sequence); both
then refuse a chain that no longer holds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger._fs import atomic_write
from ledger._layout import ACCEPTED_FILE, STATE_DIR
from ledger.errors import StorageError

if TYPE_CHECKING:  # annotations only: checkpoint.py imports this module
    from ledger.trust.checkpoint import Checkpoint


def accepted_checkpoint(ledger: Path) -> dict[str, Any] | None:
    """The newest checkpoint this machine has accepted for the ledger, if any."""
    try:
        data = json.loads((ledger / STATE_DIR / ACCEPTED_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "id" not in data or "sequence" not in data:
        return None
    return data


def accept_checkpoint(ledger: Path, checkpoint: Checkpoint) -> None:
    """Remember ``checkpoint`` as accepted here (never moves back to an older sequence)."""
    current = accepted_checkpoint(ledger)
    if current is not None and int(current["sequence"]) > checkpoint.sequence:
        return
    folder = ledger / STATE_DIR
    record = {
        "id": checkpoint.id,
        "sequence": checkpoint.sequence,
        "timestamp": checkpoint.timestamp.isoformat(),
    }
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        atomic_write(folder / ACCEPTED_FILE, (json.dumps(record) + "\n").encode(), durable=True)
    except OSError as exc:
        raise StorageError(f"cannot record the accepted checkpoint: {exc}") from exc
