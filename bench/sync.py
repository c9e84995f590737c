"""Benchmark: push and pull of many sessions through file:// and git://, against plain git.

Run: python bench/sync.py [--sessions 10000] [--entries 3] [--changed 100]

A machine's ledger of N sessions (each `--entries` entries, written with
ChangeLogger.batch() and then packed once) is pushed to a fresh central ledger with
`git ledger push`, and side by side, with the same settings and guard hook, with
`git push URL 'refs/heads/sessions/*:refs/heads/sessions/*'`. Then a push with nothing
new, a push after one session gained an entry (an agent's steady state), a push after
`--changed` sessions each gained an entry, and a pull of everything
into an empty ledger against `git fetch` of the same refspec. Times are wall-clock seconds;
ratio = git-ledger / git.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import sync
from ledger.logger import ChangeLogger

SPEC = "refs/heads/sessions/*:refs/heads/sessions/*"


def generate(ledger: Path, sessions: int, entries: int) -> None:
    for i in range(sessions):
        logger = ChangeLogger(
            ledger_dir=ledger, agent_id=f"agent-{i % 7}", session_id=f"s{i:06d}", durable=False
        )
        with logger.batch():
            for j in range(entries):
                if j % 3 == 0:
                    logger.log_agent_decision(f"plan {i}.{j}", "because", {"step": j})
                elif j % 3 == 1:
                    logger.log_command(f"make test-{j}", "ok\n" * 5, 0, duration=0.5)
                else:
                    logger.log("deployment", f"deploy {i}.{j}", {"env": "staging"})
    subprocess.run(["git", "--git-dir", str(ledger), "repack", "-adq"], check=True)


def touch(ledger: Path, count: int) -> None:
    for i in range(count):
        ChangeLogger(ledger_dir=ledger, session_id=f"s{i:06d}", durable=False).log(
            "agent_decision", "one more"
        )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True)


@contextlib.contextmanager
def daemon(base: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--export-all",
            "--enable=receive-pack",
            "--reuseaddr",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def count_refs(repo: Path) -> int:
    out = subprocess.run(
        ["git", "--git-dir", str(repo), "for-each-ref", "refs/heads/sessions/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=3)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=sync.DEFAULT_BATCH)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ledger-bench-sync-"))
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        ledger = root / "machine.git"
        t = timed(lambda: generate(ledger, args.sessions, args.entries))
        print(f"generated {args.sessions} sessions x {args.entries} entries in {t:.1f}s")
        served = root / "served"
        served.mkdir()
        rows: list[tuple[str, str, float, float]] = []
        with daemon(served) as base_url:
            for transport in ("file", "git"):
                ours = sync.init_central(served / f"ours-{transport}.git")
                theirs = sync.init_central(served / f"git-{transport}.git")

                def url(repo: Path, transport: str = transport) -> str:
                    return repo.as_uri() if transport == "file" else f"{base_url}/{repo.name}"

                name = f"c-{transport}"
                sync.add_remote(ledger, name, url(ours))

                def ours_push(name: str = name) -> None:
                    res = sync.push(ledger, name, batch_size=args.batch_size)
                    assert res.ok, res.rejected

                def git_push(repo: Path = theirs, u: Callable[[Path], str] = url) -> None:
                    git("--git-dir", str(ledger), "push", "-q", u(repo), SPEC)

                rows.append(("push all", transport, timed(ours_push), timed(git_push)))
                assert count_refs(ours) == count_refs(theirs) == args.sessions
                rows.append(("push, nothing new", transport, timed(ours_push), timed(git_push)))
                touch(ledger, 1)
                rows.append(("push, 1 changed", transport, timed(ours_push), timed(git_push)))
                touch(ledger, args.changed)
                rows.append(
                    (f"push, {args.changed} changed", transport, timed(ours_push), timed(git_push))
                )
                mine = root / f"pull-{transport}.git"
                plain = root / f"fetch-{transport}.git"
                git("init", "-q", "--bare", str(plain))
                sync.add_remote(mine, "central", url(ours))

                def ours_pull(mine: Path = mine) -> None:
                    res = sync.pull(mine, "central")
                    assert res.ok, res.skipped

                def git_fetch(
                    repo: Path = theirs, u: Callable[[Path], str] = url, plain: Path = plain
                ) -> None:
                    git("--git-dir", str(plain), "fetch", "-q", u(repo), SPEC)

                rows.append(("pull all", transport, timed(ours_pull), timed(git_fetch)))
                rows.append(("pull, nothing new", transport, timed(ours_pull), timed(git_fetch)))
                assert count_refs(mine) == count_refs(plain) == args.sessions
                # Both centrals must be clean after everything.
                for repo in (ours, theirs):
                    git("--git-dir", str(repo), "fsck", "--no-dangling")
        print(f"\n{args.sessions} sessions, batch size {args.batch_size}")
        print(f"{'operation':<22} {'via':<5} {'git-ledger':>11} {'git':>9} {'ratio':>7}")
        for op, via, mine_t, git_t in rows:
            ratio = mine_t / git_t if git_t > 0 else float("inf")
            print(f"{op:<22} {via:<5} {mine_t:>10.2f}s {git_t:>8.2f}s {ratio:>6.2f}x")
        print(
            "\nfile:// pushes of git-ledger go through libgit2's local transport (no hooks run "
            "on the central); git push to file:// runs receive-pack and the guard."
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
