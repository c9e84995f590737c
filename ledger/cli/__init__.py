"""The CLI's commands, one module per area; each module has ``register(group)``."""

from ledger.cli.main import main

__all__ = ["main"]
