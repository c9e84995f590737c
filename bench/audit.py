"""The 30-day audit against `git log --all --since` over the same commits, side by side,
plus the index's build time and size.

    python bench/gen.py /tmp/ledger-100k --entries 100000 --sessions 1000   # once
    python bench/audit.py /tmp/ledger-50k /tmp/ledger-100k [--repeat 3]

For each ledger: deletes the index, times its build (the first answer that needs it), then
runs the audit (without fsck) and the git log line alternately ``--repeat`` times and prints
the medians and their ratio. "Now" is the ledger's newest commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import LogQuery  # noqa: E402
from ledger._layout import INDEX_FILE  # noqa: E402


def measure(ledger: str, repeat: int) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(ledger, INDEX_FILE + suffix).unlink(missing_ok=True)
    q = LogQuery(ledger)
    newest = max(q.store.repo.get(t.hex()).commit_time for t in q.store.sessions().values())
    end = dt.datetime.fromtimestamp(newest + 1, dt.UTC)
    start = end - dt.timedelta(days=30)
    started = time.perf_counter()
    total = q.stats()["total_entries"]
    build = time.perf_counter() - started
    size = sum(os.path.getsize(p) for p in Path(ledger).glob(INDEX_FILE + "*"))
    git = ["git", "--git-dir", ledger, "log", "--all", f"--since=@{int(start.timestamp())}",
           f"--until=@{int(end.timestamp())}", "--format=%H %s%n%(trailers)"]
    ours: list[float] = []
    theirs: list[float] = []
    count = 0
    for _ in range(repeat):
        t = time.perf_counter()
        count = LogQuery(ledger).generate_audit_report(start, end, fsck=False)["summary"][
            "total_entries"]
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(git, capture_output=True, check=True)
        theirs.append(time.perf_counter() - t)
    a, b = statistics.median(ours), statistics.median(theirs)
    return (f"| {total:,} | {count:,} | {a * 1000:.0f} ms | {b * 1000:.0f} ms | "
            f"{a / b:.2f} | {build:.1f} s | {size / 1e6:.1f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledgers", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| entries | in the 30 days | audit (no fsck) | git log --all --since | audit / git log "
          "| index build | index size |")
    print("|---|---|---|---|---|---|---|")
    for ledger in args.ledgers:
        print(measure(ledger, args.repeat), flush=True)


if __name__ == "__main__":
    main()
