"""``python -m ledger``: the git-ledger command."""

from __future__ import annotations

import sys


def _agent_hook(argv: list[str]) -> bool:
    """Serve ``[--ledger PATH] agent NAME [-v]`` without loading every CLI command.

    Agents run this for every tool call, so it skips the import of the query, storage,
    metrics and report modules that the other commands need. Any other form goes to click.
    """
    ledger_dir = None
    if argv[:1] == ["--ledger"] and len(argv) > 1:
        ledger_dir, argv = argv[1], argv[2:]
    if len(argv) < 2 or argv[0] != "agent" or not set(argv[2:]) <= {"-v", "--verbose"}:
        return False
    from ledger.capture.agents import ADAPTERS, serve_stdin

    adapter = ADAPTERS.get(argv[1])
    if adapter is None:
        return False
    serve_stdin(adapter, ledger_dir, verbose=bool(argv[2:]))
    return True


if __name__ == "__main__":
    if not _agent_hook(sys.argv[1:]):
        from ledger.cli.main import main

        main(prog_name="git-ledger")
