"""Append throughput: ledger entries per second against a JSON-lines file, side by side.

Run by hand:  python bench/append.py [--small N] [--files N]

Workloads: small entries (commands) and file updates (4 KB files under nested paths,
200 files, ~3 lines changed per update); each durable (fsync) and not; plus the batch writer.
The baseline appends the same entries as JSON lines to one file (flushed, and fsynced when
durable). Prints entries/s and the ledger/baseline ratio; then small entries against a bare
libgit2 commit loop, the two alternating in rounds so both see the same machine load (the
median ratio is the figure; the bar is 0.50); then the redaction cost per small entry and
per KB of code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import ChangeLogger

N_FILES = 200


def file_body(rng: random.Random) -> list[str]:
    return [f"line {i}: {rng.getrandbits(64):016x} lorem ipsum dolor sit amet\n" for i in range(64)]


def make_updates(n: int, seed: int = 7) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    paths = [f"src/pkg{i % 5}/mod{i % 7}/sub{i % 3}/file{i}.py" for i in range(N_FILES)]
    bodies = {p: file_body(rng) for p in paths}
    out = []
    for k in range(n):
        p = paths[k % N_FILES]
        before = "".join(bodies[p])
        for _ in range(3):
            bodies[p][rng.randrange(64)] = f"changed {k}: {rng.getrandbits(64):016x}\n"
        out.append((p, before, "".join(bodies[p])))
    return out


def jsonl_baseline(records: list[dict[str, object]], durable: bool, tmp: Path) -> float:
    path = tmp / "baseline.jsonl"
    start = time.perf_counter()
    with open(path, "a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
    elapsed = time.perf_counter() - start
    path.unlink()
    return len(records) / elapsed


def timed(n: int, fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=3000, help="small entries per run")
    ap.add_argument("--files", type=int, default=2000, help="file updates per run")
    ap.add_argument(
        "--durable-scale",
        type=float,
        default=0.25,
        help="fraction of N used for the slower durable runs",
    )
    ap.add_argument(
        "--rounds", type=int, default=9, help="alternating ledger/libgit2 rounds for the ratio"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-append-"))
    rows: list[tuple[str, float, float]] = []
    try:
        for durable in (False, True):
            n_small = args.small if not durable else int(args.small * args.durable_scale)
            n_files = args.files if not durable else int(args.files * args.durable_scale)
            tag = "durable" if durable else "non-durable"

            commands = [(f"echo step {i}", f"step {i} ok\n") for i in range(n_small)]
            ledger = tmp / f"small-{tag}.git"
            logger = ChangeLogger(
                ledger_dir=ledger,
                agent_id="bench",
                session_id="small",
                workdir=tmp,
                durable=durable,
            )
            logger.log("agent_decision", "warm up")

            def small(
                logger: ChangeLogger = logger, commands: list[tuple[str, str]] = commands
            ) -> None:
                for cmd, out in commands:
                    logger.log_command(cmd, out, 0)

            rate = timed(n_small, small)
            base = jsonl_baseline(
                [{"change_type": "system_command", "command": c, "output": o} for c, o in commands],
                durable,
                tmp,
            )
            rows.append((f"small entries, {tag}", rate, base))

            updates = make_updates(n_files)
            ledger = tmp / f"files-{tag}.git"
            logger = ChangeLogger(
                ledger_dir=ledger,
                agent_id="bench",
                session_id="files",
                workdir=tmp,
                durable=durable,
            )
            # The first sight of each file adds an observation commit; measure steady state,
            # where each update's before-state is the after-state the ledger already holds.
            for p, before, after in updates[:N_FILES]:
                logger.log_file_change(p, "file_update", before, after)
            steady = updates[N_FILES:] if len(updates) > N_FILES else updates

            def files(
                logger: ChangeLogger = logger, steady: list[tuple[str, str, str]] = steady
            ) -> None:
                for p, before, after in steady:
                    logger.log_file_change(p, "file_update", before, after)

            rate = timed(len(steady), files)
            base = jsonl_baseline(
                [
                    {
                        "change_type": "file_update",
                        "file_path": p,
                        "before_state": b,
                        "after_state": a,
                    }
                    for p, b, a in steady
                ],
                durable,
                tmp,
            )
            rows.append((f"file updates (4 KB, nested), {tag}", rate, base))

        n_batch = args.small * 3
        ledger = tmp / "batch.git"
        logger = ChangeLogger(
            ledger_dir=ledger, agent_id="bench", session_id="batch", workdir=tmp, durable=True
        )

        def batched() -> None:
            for start in range(0, n_batch, 1000):
                with logger.batch():
                    for i in range(start, min(start + 1000, n_batch)):
                        logger.log_command(f"echo step {i}", f"step {i} ok\n", 0)

        rate = timed(n_batch, batched)
        base = jsonl_baseline(
            [
                {"change_type": "system_command", "command": f"echo step {i}"}
                for i in range(n_batch)
            ],
            False,
            tmp,
        )
        rows.append(("small entries, batch of 1000, durable", rate, base))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{'workload':44} {'ledger/s':>10} {'jsonl/s':>12} {'ratio':>8}")
    for name, rate, base in rows:
        print(f"{name:44} {rate:10,.0f} {base:12,.0f} {rate / base:8.3f}")
    floor = bare_libgit2(args.small)
    print(
        f"\nfor scale: a bare libgit2 commit per entry (blob, tree, commit, ref, reflog; no "
        f"ledger) runs {floor:,.0f}/s here; small non-durable entries reach "
        f"{rows[0][1] / floor:.2f} of that"
    )
    ratios = paired_small(args.rounds, max(1, args.small // 10))
    ratios.sort()
    per_entry, per_kb = redaction_cost()
    print(
        f"paired, alternating rounds of {max(1, args.small // 10)} small non-durable entries and "
        f"as many bare libgit2 commits: ledger/libgit2 median {ratios[len(ratios) // 2]:.2f} "
        f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f}, {len(ratios)} rounds; the bar is 0.50)"
    )
    print(
        f"redaction: {per_entry * 1e6:,.0f} us per small entry (description and metadata), "
        f"{per_kb * 1e6:,.0f} us per KB of source code"
    )


def paired_small(rounds: int, n: int) -> list[float]:
    """Ledger/libgit2 rate ratios of small non-durable entries, the two loops alternating in
    rounds so that both see the same load on a shared machine."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-paired-"))
    try:
        logger = ChangeLogger(
            ledger_dir=tmp / "paired.git", agent_id="bench", session_id="small", workdir=tmp,
            durable=False,
        )
        logger.log("agent_decision", "warm up")
        raw = _RawLoop(tmp / "raw.git")
        ratios = []
        for r in range(rounds):
            base = r * n

            def ledger_round(base: int = base) -> None:
                for i in range(base, base + n):
                    logger.log_command(f"echo step {i}", f"step {i} ok\n", 0)

            ours = timed(n, ledger_round)
            theirs = timed(n, lambda base=base: raw.commits(base, n))  # type: ignore[misc]
            ratios.append(ours / theirs)
        return ratios
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def redaction_cost() -> tuple[float, float]:
    """Seconds the redactor alone takes per small entry and per KB of ordinary code."""
    from ledger.trust.redact import Redactor

    redactor = Redactor(b"k" * 32)
    n = 2000
    start = time.perf_counter()
    for i in range(n):
        redactor.entry_fields(f"Executed: echo step {i}", {"command": f"echo step {i}"})
    per_entry = (time.perf_counter() - start) / n
    code = Path(__file__).read_text() * 8
    start = time.perf_counter()
    for _ in range(5):
        redactor.text(code)
    per_kb = (time.perf_counter() - start) / 5 / (len(code.encode()) / 1024)
    return per_entry, per_kb


class _RawLoop:
    """One commit per entry straight through libgit2: blob, tree, commit, ref and reflog."""

    def __init__(self, path: Path) -> None:
        import pygit2

        self.pygit2 = pygit2
        self.repo = pygit2.init_repository(str(path), bare=True)
        self.repo.config["core.logAllRefUpdates"] = "always"
        self.sig = pygit2.Signature("bench", "bench@example.invalid", 1700000000, 0)
        self.parents: list[object] = []

    def commits(self, first: int, n: int) -> None:
        repo, sig = self.repo, self.sig
        for i in range(first, first + n):
            blob = repo.create_blob(b'{"command": "echo step %d"}' % i)
            builder = repo.TreeBuilder()
            builder.insert("entry.json", blob, self.pygit2.enums.FileMode.BLOB)
            tree = builder.write()
            commit = repo.create_commit("refs/heads/s", sig, sig, "m", tree, self.parents)
            self.parents = [commit]


def bare_libgit2(n: int) -> float:
    """The floor of one-commit-per-entry with loose objects on this disk, for reference."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-raw-"))
    try:
        loop = _RawLoop(tmp / "raw.git")
        return timed(n, lambda: loop.commits(0, n))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
