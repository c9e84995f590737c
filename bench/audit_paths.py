"""The audit's two ways of counting, side by side with `git log --all --since`: every row
of the period as a Python object (the way before ``reports/audit_sql.py``) against GROUP BY
queries over the index, in one warm reader (the index already built and proven).

    python bench/audit_paths.py /tmp/ledger-50k /tmp/ledger-100k [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import LogQuery
from ledger.read.filters import Criteria
from ledger.reports.audit import _assemble, audit_data
from ledger.reports.audit_rows import indexed_entries
from ledger.reports.audit_sql import indexed_audit


def measure(ledger: str, repeat: int) -> str:
    q = LogQuery(ledger)
    newest = max(q.store.repo.get(t.hex()).commit_time for t in q.store.sessions().values())
    end = dt.datetime.fromtimestamp(newest + 1, dt.UTC)
    start = end - dt.timedelta(days=30)
    crit = Criteria(start=start, end=end)
    q.stats()  # build and prove the index once
    git = ["git", "--git-dir", ledger, "log", "--all", f"--since=@{int(start.timestamp())}",
           f"--until=@{int(end.timestamp())}", "--format=%H %s%n%(trailers)"]
    before: list[float] = []
    now: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):
        t = time.perf_counter()
        audit_data(indexed_entries(q, crit) or [], start, end)
        before.append(time.perf_counter() - t)
        t = time.perf_counter()
        _assemble(indexed_audit(q, crit) or {}, start, end)
        now.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(git, capture_output=True, check=True)
        theirs.append(time.perf_counter() - t)
    o, n, g = (statistics.median(x) for x in (before, now, theirs))
    total = q.stats()["total_entries"]
    return f"| {total:,} | {o:.2f} s | {n:.2f} s | {g:.2f} s | {o / g:.2f} | {n / g:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledgers", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| entries | rows in Python (before) | GROUP BY (now) | git log | before / git log "
          "| now / git log |")
    print("|---|---|---|---|---|---|")
    for ledger in args.ledgers:
        print(measure(ledger, args.repeat), flush=True)


if __name__ == "__main__":
    main()
