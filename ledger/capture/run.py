"""Run a command for ``git ledger run``: show its output as it arrives and record it.

The command becomes one system_command entry with its output, exit code and duration.
"""

from __future__ import annotations

import dataclasses
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import BinaryIO

from ledger.entry import Entry
from ledger.write.logger import ChangeLogger

CANNOT_START = 127  # what shells answer for a command they cannot run


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What ``run_command`` did.

    Attributes:
        exit_code: as a shell says it: the command's own, 128+N when signal N killed it,
            127 when it could not be started.
        entry: the system_command entry recorded.
        start_error: why the command could not be started, else None.
    """

    exit_code: int
    entry: Entry
    start_error: str | None = None


def run_command(
    logger: ChangeLogger,
    command: Sequence[str],
    *,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> RunResult:
    """Run ``command``, copy its output to ``stdout``/``stderr`` as it comes, record it.

    Args:
        logger: records the system_command entry.
        command: the program and its arguments (no shell).
        stdout, stderr: where the command's output is shown (default: this process's).
    """
    argv = list(command)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        entry = logger.log_command(
            argv, "", CANNOT_START, stderr=str(exc), duration=time.monotonic() - started
        )
        return RunResult(CANNOT_START, entry, exc.strerror or str(exc))
    out, err = _copy_output(proc, stdout or sys.stdout.buffer, stderr or sys.stderr.buffer)
    code = proc.wait()
    entry = logger.log_command(
        argv,
        out.decode("utf-8", "replace"),
        code,
        stderr=err.decode("utf-8", "replace"),
        duration=time.monotonic() - started,
        timestamp=None,
    )
    return RunResult(128 - code if code < 0 else code, entry)  # killed by signal N: 128+N


def _copy_output(
    proc: subprocess.Popen[bytes], stdout: BinaryIO, stderr: BinaryIO
) -> tuple[bytes, bytes]:
    """Echo both pipes of ``proc`` as chunks arrive, until both close; return all of each."""
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None and proc.stderr is not None
    sel.register(proc.stdout, selectors.EVENT_READ, (out_chunks, stdout))
    sel.register(proc.stderr, selectors.EVENT_READ, (err_chunks, stderr))
    open_streams = 2
    while open_streams:
        for key, _ in sel.select():
            chunk = key.fileobj.read1(65536)  # type: ignore[union-attr]
            chunks, echo = key.data
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            chunks.append(chunk)
            echo.write(chunk)
            echo.flush()
    sel.close()
    return b"".join(out_chunks), b"".join(err_chunks)
