"""Measure LogQuery against the matching `git log --all` command, side by side.

Usage:
    python bench/gen.py LEDGER --entries 100000 --sessions 1000    # once
    python bench/query.py LEDGER [--repeat 5] [--walk]

Prints a Markdown table: each question, the median time of git-ledger and of git log doing
the same job where git can, and their ratio. The first query builds the disposable index;
that time is printed separately. With --walk it also times the index-free walk for the
questions that use the index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen import file_pool  # noqa: E402
from ledger import LogQuery  # noqa: E402
from ledger._layout import INDEX_FILE
from ledger.reports.audit import fsck_summary


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def git_log(ledger: str, *args: str) -> Callable[[], int]:
    def run() -> int:
        out = subprocess.run(
            ["git", "--git-dir", ledger, "log", "--all", "--format=%H", *args],
            capture_output=True,
            check=True,
        ).stdout
        return len(out.split())

    return run


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--git-repeat", type=int, default=3)
    parser.add_argument("--walk", action="store_true", help="also time the index-free walk")
    parser.add_argument("--keep-index", action="store_true", help="do not rebuild the index")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    ledger = args.ledger

    if not args.keep_index:
        for suffix in ("", "-wal", "-shm"):
            Path(ledger, INDEX_FILE + suffix).unlink(missing_ok=True)
    q = LogQuery(ledger)
    newest = max(q.store.repo.get(t.hex()).commit_time for t in q.store.sessions().values())
    ref = dt.datetime.fromtimestamp(newest + 1, dt.UTC)  # "now" as the generator left it
    since = lambda delta: f"--since=@{int((ref - delta).timestamp())}"  # noqa: E731
    sessions = sorted(q.store.sessions())
    session = sessions[len(sessions) // 2]
    path = file_pool(2000, random.Random(args.seed))[7]

    started = time.perf_counter()
    built = q.query(search_text="index warm-up", limit=1)
    build = time.perf_counter() - started
    del built
    index_size = sum(
        os.path.getsize(p) for p in Path(ledger).glob(INDEX_FILE + "*") if p.is_file()
    )

    day, week, month = dt.timedelta(days=1), dt.timedelta(days=7), dt.timedelta(days=30)
    rows: list[tuple[str, Callable[[], Any], Callable[[], int] | None, Callable[[], Any] | None]]
    walk = LogQuery(ledger, use_index=False)
    rows = [
        (
            "recent 24 h, limit 100",
            lambda: q.query(start_date=ref - day, limit=100),
            git_log(ledger, since(day), "-n", "100"),
            None,
        ),
        (
            "file_update in a 7-day window, limit 100",
            lambda: q.query(change_types=["file_update"], start_date=ref - week, limit=100),
            git_log(ledger, since(week), "--grep=^Ledger-Type: file_update$", "-n", "100"),
            None,
        ),
        (
            "file_update in a 7-day window, all",
            lambda: q.query(change_types=["file_update"], start_date=ref - week),
            git_log(ledger, since(week), "--grep=^Ledger-Type: file_update$"),
            None,
        ),
        (
            'full text "build 42" over everything, all',
            lambda: q.query(search_text="build 42"),
            git_log(ledger, "-i", "--fixed-strings", "--grep=build 42"),
            lambda: walk.query(search_text="build 42"),
        ),
        (
            'full text "database" over everything, limit 100',
            lambda: q.query(search_text="database", limit=100),
            git_log(ledger, "-i", "--grep=database", "-n", "100"),
            lambda: walk.query(search_text="database", limit=100),
        ),
        (
            f"one file's history ({path})",
            lambda: q.get_file_history(path),
            git_log(ledger, "--", f"files/{path}"),
            lambda: walk.get_file_history(path),
        ),
        (
            f"one session ({session})",
            lambda: q.get_session_logs(session),
            lambda: len(
                subprocess.run(
                    ["git", "--git-dir", ledger, "log", "--format=%H",
                     f"refs/heads/sessions/{session}"],
                    capture_output=True, check=True,
                ).stdout.split()
            ),
            None,
        ),
        (
            "audit report, 30 days (without fsck)",
            lambda: q.generate_audit_report(ref - month, ref, fsck=False),
            git_log(ledger, since(month), "--format=%H %s%n%(trailers)"),
            None,
        ),
    ]

    n_entries = q.stats()["total_entries"]
    print(f"Ledger: {n_entries} entries in {len(sessions)} sessions; "
          f"index built in {build:.1f} s ({index_size / 1e6:.0f} MB)\n")
    header = "| question | git-ledger | results | git log --all | ratio |"
    if args.walk:
        header += " walk, no index |"
    print(header)
    print("|---|---|---|---|---|" + ("---|" if args.walk else ""))
    for name, ours, theirs, walked in rows:
        slow = "audit" in name
        t_ours, result = timed(ours, 1 if slow else args.repeat)
        count = result["summary"]["total_entries"] if isinstance(result, dict) else len(result)
        t_git = None
        if theirs is not None:
            t_git, _ = timed(theirs, 1 if slow else args.git_repeat)
        ratio = f"{t_git / t_ours:.1f}× faster" if t_git else "–"
        line = f"| {name} | {fmt(t_ours)} | {count} | {fmt(t_git)} | {ratio} |"
        if args.walk:
            t_walk = timed(walked, 1)[0] if walked is not None else None
            line += f" {fmt(t_walk)} |"
        print(line, flush=True)
    started = time.perf_counter()
    fsck = fsck_summary(q.ledger_dir)
    print(f"\ngit fsck for the audit's integrity section: {fmt(time.perf_counter() - started)}"
          f" (ok={fsck['ok']})")


if __name__ == "__main__":
    main()
