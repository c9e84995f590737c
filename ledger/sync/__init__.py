"""Many machines, one ledger: push and pull sessions through ordinary git remotes."""
