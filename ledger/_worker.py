"""``python -m ledger._worker JOB …``: the detached workers that writers start.

Jobs: ``drain LEDGER`` (record what the git hooks spooled), ``agents LEDGER`` (record what
the agent hooks spooled), ``push LEDGER REMOTE`` (a background
push), ``maintain LEDGER`` (automatic maintenance). Each imports only what its job needs.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable
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


def redirect_output(log: Path, ledger: Path | None) -> Callable[[], None]:
    """Send this process's stdout and stderr (its children's too) to ``log`` through
    secret redaction; return what to call at the end to flush it all."""
    from ledger.trust.redact.logline import LogStream

    stream = LogStream(log, ledger)
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "r", encoding="utf-8", errors="replace") as pipe:
            for line in pipe:
                stream.write(line)
        stream.flush()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()

    def finish() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.close(1)
        os.close(2)
        thread.join(5)

    return finish


def run(argv: list[str]) -> int:
    """``main`` with its output (an uncaught error's traceback included) sent to the log
    named by ``$LEDGER_WORKER_LOG``, redacted."""
    log = os.environ.get("LEDGER_WORKER_LOG")
    if not log or len(argv) < 2:
        return main(argv)
    finish = redirect_output(Path(log), Path(argv[1]))
    try:
        return main(argv)
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        finish()


if __name__ == "__main__":  # pragma: no cover - started by ledger._background
    sys.exit(run(sys.argv[1:]))
