"""How fast undo plans and reverts a session, against plain atomic file writes.

Records a session of file edits (200 files in nested folders, 2,000 edits plus commands),
then times ``revert_session(dry_run=True)`` (the plan and its conflict checks) and a real
revert (atomic, fsynced writes recorded in an undo session), side by side with the baseline
of writing the same files atomically (temporary file, fsync, rename) without any ledger.

    python bench/undo.py [--files 200] [--edits 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import ChangeLogger, Restorer  # noqa: E402


def rel(i: int) -> str:
    return f"pkg{i % 8}/mod{i % 5}/file{i}.py"


def record(work: Path, ledger: Path, files: int, edits: int) -> None:
    for i in range(files):
        path = work / rel(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# start {i}\n" * 40)
    logger = ChangeLogger(ledger_dir=ledger, session_id="bench", workdir=work, durable=False)
    with logger.batch():
        for k in range(edits):
            with logger.track_file(rel(k % files)):
                (work / rel(k % files)).write_text(f"# edit {k}\n" * 40)
            if k % 4 == 0:
                logger.log_command("pytest -q", "ok", 0)


def baseline(work: Path, files: int) -> float:
    """Write every file atomically, as the undo does, but with no ledger at all."""
    start = time.perf_counter()
    for i in range(files):
        path = work / rel(i)
        tmp = path.with_name(".tmp-bench")
        with open(tmp, "wb") as fh:
            fh.write(f"# start {i}\n".encode() * 40)
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(tmp, path)
        dfd = os.open(path.parent, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--edits", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work, ledger = root / "work", root / "ledger.git"
        work.mkdir()
        record(work, ledger, args.files, args.edits)
        restorer = Restorer(ledger_dir=ledger, workdir=work, durable=False)

        start = time.perf_counter()
        plan = restorer.revert_session("bench", dry_run=True)
        planned = time.perf_counter() - start
        assert len(plan.changes) == args.files

        start = time.perf_counter()
        done = restorer.revert_session("bench")
        reverted = time.perf_counter() - start
        assert len(done.written) == args.files

        for i in range(args.files):  # put the session's last state back for the baseline
            (work / rel(i)).write_text("x\n")
        plain = baseline(work, args.files)

    n = args.files
    print(f"session: {args.edits} file edits + {args.edits // 4} commands, {n} files")
    print(f"plan (dry run):        {planned * 1000:8.1f} ms  {n / planned:8.0f} files/s")
    print(f"revert (recorded):     {reverted * 1000:8.1f} ms  {n / reverted:8.0f} files/s")
    print(f"baseline atomic write: {plain * 1000:8.1f} ms  {n / plain:8.0f} files/s")
    print(f"ratio revert/baseline: {reverted / plain:8.2f}x the time")


if __name__ == "__main__":
    main()
