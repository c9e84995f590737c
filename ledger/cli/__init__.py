"""The CLI: ``main`` (the click group, in ``ledger.cli.main``) and one module per area,
each with ``register(group)``."""
