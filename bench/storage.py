"""Storage benchmark: a ledger after maintenance against gzipped JSON lines, side by side.

Workload: 50 files of about 4 KB of real Python source (slices of the standard library's
modules) are created, then updated 2,000 times, each update replacing 3 lines with other
real lines of code. The same entries are written once to a git ledger (then maintained)
and once as JSON lines holding the full before/after contents, gzipped. Prints both sizes
and their ratio (target: ledger <= 0.5x gzip).

    python bench/storage.py [--updates 2000] [--files 50]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
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
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sources = corpus()
    files = {
        f"src/module_{i:02d}.py": make_file(rng, sources[i % len(sources)])
        for i in range(args.files)
    }
    pool = [x for src in sources for x in src]

    def line(rng: random.Random) -> str:
        return rng.choice(pool)  # an edit brings in a real line of code

    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        root = Path(tmp)
        ledger = root / "ledger.git"
        logger = ChangeLogger(ledger, agent_id="bench", session_id="bench", workdir=root,
                              durable=False)
        baseline = root / "entries.jsonl.gz"
        started = time.perf_counter()
        with gzip.open(baseline, "wt", encoding="utf-8") as out:

            def record(path: str, ctype: str, before: str | None, after: str) -> None:
                entry = logger.log_file_change(path, ctype, before, after)
                data = entry.to_dict()
                data["before_state"] = before
                data["after_state"] = after
                out.write(json.dumps(data, ensure_ascii=False) + "\n")

            for path, lines in files.items():
                record(path, "file_create", None, "\n".join(lines) + "\n")
                # Measure one explicit maintenance run, not the writers' automatic ones.
                logger.store.repo.config["ledger.autoMaintenance"] = "0"
            for _ in range(args.updates):
                path = rng.choice(list(files))
                lines = files[path]
                before = "\n".join(lines) + "\n"
                for _ in range(3):
                    lines[rng.randrange(len(lines))] = line(rng)
                record(path, "file_update", before, "\n".join(lines) + "\n")
        write_s = time.perf_counter() - started

        storage = LogStorage(ledger, quiet=True)
        before_bytes = storage.repository_bytes()
        started = time.perf_counter()
        result = storage.maintenance()
        maint_s = time.perf_counter() - started
        usage = storage.get_storage_usage()
        ledger_bytes = usage["total_size_bytes"]
        gzip_bytes = baseline.stat().st_size
        ratio = ledger_bytes / gzip_bytes
        entries = args.files + args.updates
        print(f"workload: {args.files} files x ~4 KB, {args.updates} updates "
              f"(~3 lines each), {entries} entries; written in {write_s:.1f} s")
        print(f"{'':34}{'bytes':>12}  {'per entry':>10}")
        print(f"{'ledger before maintenance':34}{before_bytes:>12,}  "
              f"{before_bytes / entries:>10,.0f}")
        print(f"{'ledger after maintenance':34}{ledger_bytes:>12,}  "
              f"{ledger_bytes / entries:>10,.0f}")
        print(f"{'gzipped JSON lines (full states)':34}{gzip_bytes:>12,}  "
              f"{gzip_bytes / entries:>10,.0f}")
        pack_dir = ledger / "objects" / "pack"
        parts = {
            "packs": sum(p.stat().st_size for p in pack_dir.glob("*.pack")),
            "pack indexes": sum(p.stat().st_size for p in pack_dir.glob("*.idx")),
            "reflogs": sum(p.stat().st_size for p in (ledger / "logs").rglob("*") if p.is_file()),
        }
        parts["other"] = ledger_bytes - sum(parts.values())
        print("ledger after maintenance, by part: " + ", ".join(
            f"{k} {v:,} ({v / entries:,.0f}/entry)" for k, v in parts.items()))
        print(f"maintenance: {maint_s:.2f} s, packed {result['compressed']} loose objects "
              f"into {usage['packs']} pack(s), {usage['loose_objects']} loose left")
        print(f"ratio ledger/gzip: {ratio:.3f} (target <= 0.5) -> "
              f"{'OK' if ratio <= 0.5 else 'MISSED'}")
        trigger_cost(root)


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
