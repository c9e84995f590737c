"""A ledger over time: packing, archiving idle sessions, quotas and usage."""
