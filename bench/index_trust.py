"""What proving the query index complete costs when a query opens it, side by side.

Usage:
    python bench/gen.py LEDGER --entries 50000 --sessions 500    # once
    python bench/index_trust.py LEDGER [--repeat 5]

Prints a Markdown table of median times: the check an open does when the index file is as
last sealed (its stamp), the full proof of every row (what an open does after any foreign
write to the file), a whole-ledger ``stats`` through the proven index, and the same ``stats``
walking the commit graph (the baseline the index exists to beat), with each one's ratio to
the walk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import LogQuery  # noqa: E402
from ledger.read.index_seal import disagreement  # noqa: E402


def median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    query = LogQuery(args.ledger)
    index = query.index
    assert index is not None
    entries = query.stats()["total_entries"]  # builds and seals the index
    conn = index._connect()
    assert conn is not None

    def full() -> None:
        assert disagreement(conn, index.key) is None

    rows = {
        "open check (file as sealed)": median(index._sealed, args.repeat),
        "full proof of every row": median(full, args.repeat),
        "stats through the index": median(query.stats, args.repeat),
        "stats walking git (baseline)": median(
            LogQuery(args.ledger, use_index=False).stats, max(1, args.repeat // 2)
        ),
    }
    conn.close()
    base = rows["stats walking git (baseline)"]
    print(f"{entries} entries, median of {args.repeat}\n")
    print("| step | seconds | ratio to the walk |")
    print("|---|---:|---:|")
    for name, secs in rows.items():
        print(f"| {name} | {secs:.4f} | {secs / base:.4f} |")


if __name__ == "__main__":
    main()
