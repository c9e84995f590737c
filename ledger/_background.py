"""Background workers: the one way the library starts a detached process.

Writers hand slow work (draining the hook spool, pushing to a central, maintenance) to a
detached ``python -m ledger._worker JOB …`` so that they return at once. The worker runs in
its own session, re-parented to init by a short-lived ``sh`` so it never becomes a zombie
of the caller, with the package importable even when the caller's ``sys.path`` was special.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledger._git import git_env
from ledger._resources import PACKAGE_ROOT


def worker_env(*, interactive: bool = False) -> dict[str, str]:
    """The environment of a worker: git's policy, and this package first on PYTHONPATH."""
    env = git_env(interactive=interactive)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def start_worker(job: str, *args: str, log: Path | None = None) -> bool:
    """Start ``python -m ledger._worker JOB ARGS…`` detached and return at once.

    The worker's output goes to ``log`` (appended, each line through secret redaction
    once the worker runs) or nowhere. Returns False when the
    process could not be started; never raises.
    """
    command = [sys.executable, "-m", "ledger._worker", job, *args]
    redirect = '>>"$LEDGER_WORKER_LOG" 2>&1' if log is not None else ">/dev/null 2>&1"
    env = worker_env()
    if log is not None:
        env["LEDGER_WORKER_LOG"] = str(log)
    try:
        subprocess.run(
            ["/bin/sh", "-c", f'exec "$@" </dev/null {redirect} &', "sh", *command],
            env=env,
            cwd="/",
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True
