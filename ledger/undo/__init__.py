"""Undo: put files back as the ledger recorded them, or roll back a whole session."""
