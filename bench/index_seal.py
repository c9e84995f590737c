"""Measure what proving the query index complete costs when a query opens it.

Usage:
    python bench/gen.py LEDGER --entries 50000 --sessions 500    # once
    python bench/index_seal.py LEDGER [--repeat 5]

Prints, side by side, the median time of: opening the up-to-date index with the proof
as a new process finds it (the file as stamped after its last proof: the row check skipped),
opening it with every row counted and digested and the keyed checksum checked (the stamp
removed first, as after any foreign write to the file), opening it without the proof
(the connection and the tips compared with the refs, as before the seal), one full-text
search through the index (proof included), and the same search by walking the commit graph;
and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import LogQuery  # noqa: E402
from ledger.read.index import QueryIndex  # noqa: E402
from ledger.read.index_stamp import stamp_path  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def open_proven(ledger: Path) -> None:
    query = LogQuery(ledger)
    assert query.index is not None
    with query.index.session() as conn:
        assert conn is not None


def open_reproven(ledger: Path) -> None:
    stamp_path(ledger).unlink(missing_ok=True)  # as after a write by anything else
    open_proven(ledger)


def open_unproven(ledger: Path) -> None:
    query = LogQuery(ledger)
    index = query.index
    assert index is not None
    conn = QueryIndex._connect(index)
    assert conn is not None
    try:
        index._refresh(conn, None)
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ledger: Path = args.ledger
    started = time.perf_counter()
    total = LogQuery(ledger).stats()["total_entries"]  # builds the index if needed
    print(f"{total} entries; first use (index built or proven): "
          f"{time.perf_counter() - started:.2f}s\n")
    proven = timed(lambda: open_proven(ledger), args.repeat)
    reproven = timed(lambda: open_reproven(ledger), args.repeat)
    unproven = timed(lambda: open_unproven(ledger), args.repeat)
    search = timed(lambda: LogQuery(ledger).query(search_text="nothing-matches-this"),
                   args.repeat)
    walk = timed(lambda: LogQuery(ledger, use_index=False).query(
        search_text="nothing-matches-this"), 1)
    print("| what | seconds | ratio |")
    print("|---|---|---|")
    print(f"| open, tips only (baseline) | {unproven:.3f} | 1.00 |")
    print(f"| open, file as stamped (row check skipped) | {proven:.3f} | {proven / unproven:.2f} |")
    print(f"| open, every row proven (no stamp) | {reproven:.3f} | {reproven / unproven:.2f} |")
    print(f"| search --text via index (proof included) | {search:.3f} | - |")
    print(f"| search --text by walk (no index) | {walk:.3f} | {walk / search:.2f}x the index |")


if __name__ == "__main__":
    main()
