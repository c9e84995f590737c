"""``python -m ledger`` and the ``git-ledger`` command."""

from __future__ import annotations

import os
import sys

CWD_GONE = "the current folder no longer exists (deleted or moved away); cd to one that does"


def _agent_hook(argv: list[str]) -> bool:
    """Serve ``[--ledger PATH] agent NAME [-v]`` without loading the CLI, pygit2 or click.

    Agents run this for every tool call and wait for it: the event is spooled with the file
    states it needs and a background drainer records it (see ledger.capture.agents.fasthook).
    Only when the ledger does not exist yet is the event recorded at once. Any other form
    goes to click.
    """
    ledger_dir = None
    if argv[:1] == ["--ledger"] and len(argv) > 1:
        ledger_dir, argv = argv[1], argv[2:]
    if len(argv) < 2 or argv[0] != "agent" or not set(argv[2:]) <= {"-v", "--verbose"}:
        return False
    from ledger.capture.agents import fasthook

    if argv[1] not in fasthook.AGENTS:
        return False
    raw = fasthook.read_stdin()
    verbose = bool(argv[2:])
    if not verbose and fasthook.serve(argv[1], ledger_dir, raw):
        fasthook.reply(argv[1])
        return True
    from ledger.capture.agents import ADAPTERS, serve_stdin

    serve_stdin(ADAPTERS[argv[1]], ledger_dir, verbose=verbose, raw=raw)
    return True


def _cwd_exists() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return False
    return True


def entry() -> None:
    """The ``git-ledger`` console command."""
    if not _cwd_exists():
        # Paths on the command line, repository discovery and the work folder all start
        # from the current folder: say so in one line rather than fail somewhere inside.
        sys.stderr.write(f"git-ledger: error: {CWD_GONE}\n")
        sys.exit(3)
    if not _agent_hook(sys.argv[1:]):
        from ledger.cli.main import main

        main(prog_name="git-ledger")


if __name__ == "__main__":
    entry()
