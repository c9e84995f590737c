"""The 30-day audit against `git log --all --since` over the same commits, side by side,
plus the index's build time and size.

    python bench/gen.py /tmp/ledger-100k --entries 100000 --sessions 1000   # once
    python bench/audit.py /tmp/ledger-50k /tmp/ledger-100k [--repeat 3]

For each ledger: deletes the index, times its build (the first answer that needs it), then
runs each way of asking and the git log line in turn ``--repeat`` times and prints the
medians and their ratios to git log. "Now" is the ledger's newest commit. The audit is
asked three ways: "cli" is ``git-ledger audit START --until END --no-fsck -o FILE`` in a
new process (what a user runs: start-up, the index's proof, the JSON written); "cold" a new
LogQuery in this process (which first checks the index's proof); "warm" a LogQuery that has
answered before (a long-lived reader: the MCP server, the dashboard).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import LogQuery
from ledger._layout import INDEX_FILE


def timed(ways: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The median time of each way, the ways run in turn ``repeat`` times."""
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeat):
        for name, run in ways.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


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
    since, until = f"@{int(start.timestamp())}", f"@{int(end.timestamp())}"
    git = ["git", "--git-dir", ledger, "log", "--all", f"--since={since}",
           f"--until={until}", "--format=%H %s%n%(trailers)"]
    count = q.generate_audit_report(start, end, fsck=False)["summary"]["total_entries"]
    with tempfile.TemporaryDirectory() as out:
        cli = [sys.executable, "-m", "ledger", "--ledger", ledger, "audit", since, "--until",
               until, "--no-fsck", "-o", str(Path(out, "audit.json"))]
        # As installed: Python caches the compiled modules (a pip install writes them).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(cli, check=True, env=env, capture_output=True)  # writes the cache
        t = timed({
            "cli": lambda: subprocess.run(cli, check=True, env=env, capture_output=True),
            "cold": lambda: LogQuery(ledger).generate_audit_report(start, end, fsck=False),
            "warm": lambda: q.generate_audit_report(start, end, fsck=False),
            "git": lambda: subprocess.run(git, capture_output=True, check=True),
        }, repeat)
    g = t["git"]
    return (f"| {total:,} | {count:,} | {t['cli'] * 1000:.0f} ms | {t['cold'] * 1000:.0f} ms | "
            f"{t['warm'] * 1000:.0f} ms | {g * 1000:.0f} ms | {t['cli'] / g:.2f} | "
            f"{t['cold'] / g:.2f} | {t['warm'] / g:.2f} | {build:.1f} s | {size / 1e6:.1f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledgers", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| entries | in the 30 days | audit, cli | audit, cold | audit, warm "
          "| git log --all --since | cli / git log | cold / git log | warm / git log "
          "| index build | index size |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for ledger in args.ledgers:
        print(measure(ledger, args.repeat), flush=True)


if __name__ == "__main__":
    main()
