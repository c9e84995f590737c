"""Adapters that record what coding agents do, fed by the agents' own hook events."""
