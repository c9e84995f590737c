"""The 30-day audit against `git log --all --since` over the same commits, side by side,
plus the index's build time and size.

    python bench/gen.py /tmp/ledger-100k --entries 100000 --sessions 1000   # once
    python bench/audit.py /tmp/ledger-50k /tmp/ledger-100k [--repeat 3]

For each ledger: deletes the index, times its build (the first answer that needs it), then
runs the audit (without fsck) and the git log line alternately ``--repeat`` times and prints
the medians and their ratios. "Now" is the ledger's newest commit. The audit is timed twice:
"cold" as a new process would run it (a new LogQuery, which first proves the index's seal
over every row), and "warm" in a LogQuery that has already proven it (a long-lived reader:
the MCP server, the dashboard).
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
    cold: list[float] = []
    warm: list[float] = []
    theirs: list[float] = []
    count = 0
    for _ in range(repeat):
        t = time.perf_counter()
        count = LogQuery(ledger).generate_audit_report(start, end, fsck=False)["summary"][
            "total_entries"]
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        q.generate_audit_report(start, end, fsck=False)
        warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(git, capture_output=True, check=True)
        theirs.append(time.perf_counter() - t)
    a, w, b = statistics.median(cold), statistics.median(warm), statistics.median(theirs)
    return (f"| {total:,} | {count:,} | {a * 1000:.0f} ms | {w * 1000:.0f} ms | "
            f"{b * 1000:.0f} ms | {a / b:.2f} | {w / b:.2f} | {build:.1f} s | "
            f"{size / 1e6:.1f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledgers", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| entries | in the 30 days | audit, cold | audit, warm | git log --all --since "
          "| cold / git log | warm / git log | index build | index size |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ledger in args.ledgers:
        print(measure(ledger, args.repeat), flush=True)


if __name__ == "__main__":
    main()
