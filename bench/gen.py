"""Generate a large ledger for the query benchmarks, with the batch writer.

N entries over S sessions spread over the last 60 days, mixed change types (commands with
exit codes, API calls with status codes, decisions, file creates/updates/deletes on a pool of
nested paths, deployments, config changes), then packed as maintenance would leave it
(``git repack -adf`` and ``git pack-refs --all``).

Usage:
    python bench/gen.py LEDGER_DIR --entries 100000 --sessions 1000 [--jobs 2] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.types import ChangeType, LogLevel  # noqa: E402
from ledger.write.logger import ChangeLogger  # noqa: E402

DAYS = 60
AGENTS = [f"agent-{i:02d}" for i in range(20)]
DIRS = ["api", "api/routes", "core", "core/db", "web/static", "tests", "config", "docs"]
WORDS = (
    "database cache token session request retry timeout schema migration index user "
    "payment invoice report queue worker build deploy config secret metric alert"
).split()
ENDPOINTS = [
    "/api/users",
    "/api/orders",
    "/api/payments",
    "/v1/models/infer",
    "/health",
    "/api/reports",
]
COMMANDS = ["pytest -q", "make build", "npm test", "ruff check .", "alembic upgrade head"]


def file_pool(count: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(DIRS)}/module_{i:04d}.py" for i in range(count)]


def session_plan(
    index: int, per_session: int, end: dt.datetime, seed: int
) -> tuple[str, str, list[dt.datetime]]:
    rng = random.Random(seed * 1_000_003 + index)
    start = end - dt.timedelta(seconds=rng.uniform(0, DAYS * 86400))
    times = []
    t = start
    for _ in range(per_session):
        t += dt.timedelta(seconds=rng.uniform(1, 90), microseconds=rng.randrange(1_000_000))
        times.append(t)
    # Keep every entry in the past: shift the whole session back if it ran over "now".
    if times[-1] > end:
        shift = times[-1] - end + dt.timedelta(seconds=1)
        times = [x - shift for x in times]
    return f"bench-{index:06d}", AGENTS[index % len(AGENTS)], times


def write_session(args: tuple[str, int, int, float, int, list[str]]) -> int:
    ledger, index, per_session, end_ts, seed, files = args
    end = dt.datetime.fromtimestamp(end_ts, dt.UTC)
    session, agent, times = session_plan(index, per_session, end, seed)
    rng = random.Random(seed * 7919 + index)
    logger = ChangeLogger(ledger, agent_id=agent, session_id=session, durable=False)
    known: dict[str, str] = {}
    with logger.batch():
        for ts in times:
            roll = rng.random()
            if roll < 0.30:
                path = rng.choice(files)
                version = rng.randrange(1000)
                after = f"# {path}\nVERSION = {version}\n" + "\n".join(
                    rng.choice(WORDS) for _ in range(8)
                )
                if path in known:
                    ctype = ChangeType.FILE_DELETE if rng.random() < 0.05 else ChangeType.FILE_UPDATE
                    before = known[path]
                elif rng.random() < 0.5:
                    ctype, before = ChangeType.FILE_CREATE, None
                else:
                    ctype = ChangeType.FILE_UPDATE
                    before = f"# {path}\nVERSION = 0\n"
                if ctype is ChangeType.FILE_DELETE:
                    logger.log_file_change(path, ctype, before, None, timestamp=ts)
                    known.pop(path, None)
                else:
                    logger.log_file_change(path, ctype, before, after, timestamp=ts)
                    known[path] = after
            elif roll < 0.55:
                code = 0 if rng.random() < 0.9 else rng.choice([1, 2, 127])
                cmd = rng.choice(COMMANDS)
                out = f"{rng.choice(WORDS)} {rng.choice(WORDS)} ok" if code == 0 else "FAILED"
                logger.log_command(cmd, out, code, duration=rng.uniform(0.1, 30), timestamp=ts)
            elif roll < 0.75:
                status = rng.choice([200] * 8 + [201, 404, 500])
                logger.log_api_call(
                    rng.choice(ENDPOINTS),
                    rng.choice(["GET", "POST"]),
                    {"q": rng.choice(WORDS)},
                    {"ok": status < 400},
                    status,
                    duration=rng.uniform(0.01, 2),
                    timestamp=ts,
                )
            elif roll < 0.90:
                logger.log_agent_decision(
                    f"Use {rng.choice(WORDS)} for {rng.choice(WORDS)}",
                    f"Because the {rng.choice(WORDS)} is {rng.choice(['slow', 'stale', 'cold'])}",
                    {"options": rng.randrange(2, 5)},
                    timestamp=ts,
                )
            elif roll < 0.95:
                logger.log(
                    ChangeType.MODEL_INFERENCE,
                    f"Inference for {rng.choice(WORDS)}",
                    {"tokens": rng.randrange(100, 4000)},
                    timestamp=ts,
                )
            elif roll < 0.98:
                logger.log(
                    ChangeType.CONFIG_CHANGE,
                    f"Set {rng.choice(WORDS)}.limit",
                    {"key": f"{rng.choice(WORDS)}.limit", "value": rng.randrange(100)},
                    level=LogLevel.WARNING,
                    timestamp=ts,
                )
            else:
                ok = rng.random() < 0.9
                logger.log(
                    ChangeType.DEPLOYMENT,
                    f"Deployed build {rng.randrange(10000)}",
                    {"environment": rng.choice(["staging", "prod"]), "ok": ok},
                    level=LogLevel.INFO if ok else LogLevel.CRITICAL,
                    timestamp=ts,
                )
    return per_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--files", type=int, default=2000, help="size of the file pool")
    parser.add_argument("--no-pack", action="store_true")
    args = parser.parse_args()

    per_session = max(1, args.entries // args.sessions)
    files = file_pool(args.files, random.Random(args.seed))
    end_ts = time.time()
    jobs = [
        (args.ledger, i, per_session, end_ts, args.seed, files) for i in range(args.sessions)
    ]
    # Create the ledger once before the workers race to do it.
    ChangeLogger(args.ledger, session_id="bench-init", durable=False).store.ensure()
    started = time.monotonic()
    done = 0
    with multiprocessing.Pool(args.jobs) as pool:
        for n in pool.imap_unordered(write_session, jobs, chunksize=4):
            done += n
            if done % max(1, per_session * 100) == 0:
                rate = done / (time.monotonic() - started)
                print(f"  {done} entries ({rate:.0f}/s)", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    print(f"wrote {done} entries in {args.sessions} sessions in {elapsed:.1f}s "
          f"({done / elapsed:.0f}/s)")
    if not args.no_pack:
        t = time.monotonic()
        subprocess.run(["git", "--git-dir", args.ledger, "repack", "-adf", "-q"], check=True)
        subprocess.run(["git", "--git-dir", args.ledger, "pack-refs", "--all"], check=True)
        print(f"packed in {time.monotonic() - t:.1f}s")


if __name__ == "__main__":
    main()
