"""Storage benchmark: a ledger after maintenance against gzipped JSON lines, side by side.

Workload: 50 files of about 4 KB of real Python source (slices of the standard library's
modules) are created, then updated 2,000 times, each update replacing 3 lines with other
real lines of code. The same entries are written once to a git ledger (then maintained)
and once as JSON lines holding the full before/after contents, gzipped. Routine maintenance
runs after every 500 entries (the first run packs everything, later ones only what is new),
then ``maintenance --full`` repacks everything. Prints both sizes after each, their ratio
(target: ledger <= 0.5x gzip), the ledger by part and the packed objects by type.

    python bench/storage.py [--updates 2000] [--files 50] [--every 500]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import ChangeLogger, LogStorage


def corpus() -> list[list[str]]:
    """Real source code to edit: the Python standard library's own modules."""
    folder = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for path in sorted(folder.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = [x for x in text.splitlines() if x.strip()]
        if len(lines) > 400:
            out.append(lines)
    return out


def make_file(rng: random.Random, source: list[str], size: int = 4096) -> list[str]:
    """About ``size`` bytes of consecutive lines of a real module."""
    start = rng.randrange(len(source) - 200)
    lines: list[str] = []
    for text in source[start:]:
        if sum(len(x) + 1 for x in lines) >= size:
            break
        lines.append(text)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", type=int, default=500,
                        help="routine maintenance after every N entries (default 500)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        root = Path(tmp)
        ledger = root / "ledger.git"
        baseline = root / "entries.jsonl.gz"
        storage_runs: list[float] = []
        started = time.perf_counter()
        loose_bytes, loose_entries = write_workload(args, root, ledger, baseline, storage_runs)
        write_s = time.perf_counter() - started
        gzip_bytes = baseline.stat().st_size
        entries = args.files + args.updates
        print(f"workload: {args.files} files x ~4 KB, {args.updates} updates "
              f"(~3 lines each), {entries} entries; written in {write_s:.1f} s, routine "
              f"maintenance after every {args.every} entries ({len(storage_runs)} runs, "
              f"{sum(storage_runs):.1f} s in all)")
        storage = LogStorage(ledger, quiet=True)
        routine = parts(ledger, storage)
        started = time.perf_counter()
        storage.maintenance(full=True)
        full_s = time.perf_counter() - started
        full = parts(ledger, storage)
        print(f"loose objects before the first run: {loose_bytes:,} bytes for {loose_entries:,} "
              f"entries ({loose_bytes / loose_entries:,.0f}/entry)")
        print(f"{'':34}{'bytes':>12}  {'per entry':>10}  {'x gzip':>7}")
        for label, size in (
            ("ledger after routine maintenance", sum(routine.values())),
            ("ledger after maintenance --full", sum(full.values())),
            ("gzipped JSON lines (full states)", gzip_bytes),
        ):
            print(f"{label:34}{size:>12,}  {size / entries:>10,.0f}  {size / gzip_bytes:>7.3f}")
        for label, split in (("routine", routine), ("--full", full)):
            print(f"by part after {label}: " + ", ".join(
                f"{k} {v:,} ({v / entries:,.0f}/entry)" for k, v in split.items()))
        print("pack objects after --full: " + by_type(ledger))
        print(f"maintenance --full: {full_s:.2f} s")
        for label, split in (("routine", routine), ("--full", full)):
            ratio = sum(split.values()) / gzip_bytes
            print(f"ratio ledger/gzip after {label}: {ratio:.3f} (target <= 0.5) -> "
                  f"{'OK' if ratio <= 0.5 else 'MISSED'}")
        trigger_cost(root)


def write_workload(args: argparse.Namespace, root: Path, ledger: Path, baseline: Path,
                   runs: list[float]) -> tuple[int, int]:
    """Write the entries to the ledger and the gzipped JSON lines, with routine maintenance
    every ``args.every`` entries; the ledger's size just before its first run and the
    entries it held then."""
    rng = random.Random(args.seed)
    sources = corpus()
    files = {
        f"src/module_{i:02d}.py": make_file(rng, sources[i % len(sources)])
        for i in range(args.files)
    }
    pool = [x for src in sources for x in src]
    logger = ChangeLogger(ledger, agent_id="bench", session_id="bench", workdir=root,
                          durable=False)
    storage = LogStorage(ledger, quiet=True)
    written = 0
    loose = (0, 0)
    with gzip.open(baseline, "wt", encoding="utf-8") as out:

        def record(path: str, ctype: str, before: str | None, after: str) -> None:
            nonlocal written, loose
            entry = logger.log_file_change(path, ctype, before, after)
            # Measure explicit maintenance runs, not the writers' automatic ones.
            logger.store.repo.config["ledger.autoMaintenance"] = "0"
            data = entry.to_dict()
            data["before_state"] = before
            data["after_state"] = after
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
            written += 1
            if written % args.every == 0:
                loose = loose if loose[0] else (storage.repository_bytes(), written)
                started = time.perf_counter()
                storage.maintenance()
                runs.append(time.perf_counter() - started)

        for path, lines in files.items():
            record(path, "file_create", None, "\n".join(lines) + "\n")
        for _ in range(args.updates):
            path = rng.choice(list(files))
            lines = files[path]
            before = "\n".join(lines) + "\n"
            for _ in range(3):
                lines[rng.randrange(len(lines))] = rng.choice(pool)  # a real line of code
            record(path, "file_update", before, "\n".join(lines) + "\n")
    loose = loose if loose[0] else (storage.repository_bytes(), written)
    started = time.perf_counter()
    storage.maintenance()
    runs.append(time.perf_counter() - started)
    return loose


def parts(ledger: Path, storage: LogStorage) -> dict[str, int]:
    """The ledger's bytes (as get_storage_usage counts them) by part."""
    total = storage.get_storage_usage()["total_size_bytes"]
    pack_dir = ledger / "objects" / "pack"
    out = {
        "packs": sum(p.stat().st_size for p in pack_dir.glob("*.pack")),
        "pack indexes": sum(p.stat().st_size for p in pack_dir.glob("*.idx")),
        "reflogs": sum(p.stat().st_size for p in (ledger / "logs").rglob("*") if p.is_file()),
    }
    out["other"] = total - sum(out.values())
    return out


def by_type(ledger: Path) -> str:
    """Packed bytes by object type, whole or as deltas (``git verify-pack -v``)."""
    sums: dict[str, list[int]] = {}
    for idx in sorted((ledger / "objects" / "pack").glob("*.idx")):
        listing = subprocess.run(["git", "verify-pack", "-v", str(idx)], capture_output=True,
                                 text=True, check=True).stdout
        for line in listing.splitlines():
            cols = line.split()
            if len(cols) >= 5 and len(cols[0]) == 40:
                key = cols[1] + (" delta" if len(cols) > 5 else " whole")
                count_size = sums.setdefault(key, [0, 0])
                count_size[0] += 1
                count_size[1] += int(cols[3])
    return ", ".join(f"{k} {n:,} x {b / n:,.0f} B" for k, (n, b) in sorted(sums.items()))


def trigger_cost(root: Path) -> None:
    """How much the log call that starts background maintenance pays, side by side."""
    ledger = root / "trigger.git"
    warm = ChangeLogger(ledger, agent_id="bench", session_id="warm", workdir=root,
                        durable=False)
    for i in range(300):  # enough loose objects that objects/17 is not empty
        warm.log("model_inference", f"warm {i}")
    plain: list[float] = []
    for i in range(20):  # each first write of a new logger checks the threshold
        logger = ChangeLogger(ledger, session_id=f"plain{i}", workdir=root, durable=False)
        started = time.perf_counter()
        logger.log("deployment", "check, nothing due")
        plain.append(time.perf_counter() - started)
    logger.store.repo.config["ledger.autoMaintenance"] = "1"
    logger = ChangeLogger(ledger, session_id="trigger", workdir=root, durable=False)
    started = time.perf_counter()
    logger.log("deployment", "this call starts maintenance")
    spent = time.perf_counter() - started
    plain.sort()
    median = plain[len(plain) // 2]
    print(f"log call that starts background maintenance: {spent * 1000:.1f} ms; "
          f"a first log call with nothing due: {median * 1000:.1f} ms (median of 20); "
          f"ratio {spent / median:.1f}x")
    LogStorage(ledger, quiet=True).maintenance(lock_timeout=120)  # let the child finish first


if __name__ == "__main__":
    main()
