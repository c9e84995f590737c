"""Upkeep benchmark: routine maintenance after N new entries against a full repack, side by side.

Two copies of a packed ledger (one ``maintenance --full`` first, so that maintenance knows
its pack) receive the same N new entries (the batch writer of bench/gen.py, new sessions);
then one runs routine maintenance (new objects packed, small packs rolled up
geometrically) and the other ``maintenance --full`` (every object into one pack). Prints
both times, the routine run as a fraction of the full one, the packs left and the bytes.

    python bench/gen.py /tmp/ledger-100k --entries 100000 --sessions 1000   # once
    python bench/upkeep.py /tmp/ledger-100k --new 5000 [--new 50000]
    python bench/upkeep.py /tmp/ledger-1m --new 5000 --as-is
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen import file_pool, write_session  # noqa: E402
from ledger import LogStorage  # noqa: E402
from ledger.lifecycle.usage import repository_bytes  # noqa: E402

PER_SESSION = 100


def add_entries(ledger: Path, n: int, seed: int = 99) -> None:
    import random

    files = file_pool(2000, random.Random(1))
    now = time.time()
    for i in range(max(1, n // PER_SESSION)):
        write_session((str(ledger), 900_000 + i, PER_SESSION, now, seed, files))


def timed_maintenance(ledger: Path, full: bool) -> tuple[float, dict[str, object]]:
    storage = LogStorage(ledger, quiet=True, max_log_age_days=10_000)
    started = time.perf_counter()
    result = storage.maintenance(full=full)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger")
    parser.add_argument("--new", type=int, action="append", help="new entries (repeatable)")
    parser.add_argument("--as-is", action="store_true",
                        help="skip the first full run: the ledger is as routine maintenance "
                        "left it (at a million entries a full run takes about an hour)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-upkeep-") as tmp:
        base = Path(tmp) / "base.git"
        shutil.copytree(args.ledger, base, symlinks=True)
        (base / "ledger-query-index.sqlite").unlink(missing_ok=True)
        if not args.as_is:
            timed_maintenance(base, full=True)
        print("| new entries | routine maintenance | full repack | routine / full | packs "
              "after routine | bytes after routine | bytes after full |")
        print("|---|---|---|---|---|---|---|")
        for n in args.new or [5000]:
            copies = {}
            for kind in ("routine", "full"):
                copy = Path(tmp) / f"{kind}-{n}.git"
                shutil.copytree(base, copy, symlinks=True)
                LogStorage(copy, quiet=True).store.repo.config["ledger.autoMaintenance"] = "0"
                add_entries(copy, n)
                copies[kind] = copy
            t_routine, routine = timed_maintenance(copies["routine"], full=False)
            t_full, _ = timed_maintenance(copies["full"], full=True)
            packs = len(list((copies["routine"] / "objects" / "pack").glob("*.pack")))
            print(f"| {n:,} | {t_routine:.2f} s | {t_full:.2f} s | {t_routine / t_full:.3f} | "
                  f"{packs} | {repository_bytes(copies['routine']):,} | "
                  f"{repository_bytes(copies['full']):,} |", flush=True)
            assert routine["full_repack"] is False
            for copy in copies.values():
                shutil.rmtree(copy)


if __name__ == "__main__":
    main()
