"""Automatic capture: git hooks, their spool and drainer, and coding-agent adapters."""
