"""``python -m ledger._worker JOB …``: the detached workers that writers start.

Jobs: ``drain LEDGER`` (record what the git hooks spooled), ``agents LEDGER`` (record what
the agent hooks spooled), ``push LEDGER REMOTE`` (a background
push), ``maintain LEDGER`` (automatic maintenance). Each imports only what its job needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

USAGE = (
    "usage: python -m ledger._worker drain LEDGER | agents LEDGER | push LEDGER REMOTE"
    " | maintain LEDGER"
)


def main(argv: list[str]) -> int:
    """Run one job; the exit code is the job's."""
    match argv:
        case ["drain", ledger]:
            from ledger.capture import drain

            drain.detach()
            drain.drain(Path(ledger), None, wait=False, linger=drain.linger_seconds())
            return 0
        case ["agents", ledger]:
            from ledger.capture.agents import spool

            spool.detach()
            spool.drain(Path(ledger), linger=spool.linger_seconds())
            return 0
        case ["push", ledger, remote]:
            from ledger.sync.push import background_push

            return background_push(Path(ledger), remote)
        case ["maintain", ledger]:
            from ledger.lifecycle.maintenance import background_maintenance

            return background_maintenance(ledger)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover - started by ledger._background
    sys.exit(main(sys.argv[1:]))
