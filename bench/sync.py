"""Benchmark: push and pull of many sessions through file:// and git://, against plain git.

Run: python bench/sync.py [--sessions 10000] [--entries 3] [--changed 100]

A machine's ledger of N sessions (each `--entries` entries, written with
ChangeLogger.batch() and then packed once) is pushed to a fresh central ledger with the
`git ledger push` command, and side by side, to a central with the same settings and guard
hook, with `git push URL 'refs/heads/sessions/*:refs/heads/sessions/*'`. Then: a push with
nothing new; a push after one session gained an entry (an agent's steady state); a push
after `--changed` sessions each gained an entry; a pull of everything into an empty ledger
with `git ledger pull` against `git fetch` of the same refspec; a pull with nothing new.
Both sides run as commands, each in a process of its own. Times are wall-clock seconds;
ratio = git-ledger / git.
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
from ledger.write.logger import ChangeLogger

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


def cli(*args: str) -> None:
    """Run git-ledger as a user does: a command of its own, like the git it is compared to."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    subprocess.run(
        [sys.executable, "-m", "ledger", *args], check=True, capture_output=True, env=env
    )


def count_refs(repo: Path) -> int:
    out = subprocess.run(
        ["git", "--git-dir", str(repo), "for-each-ref", "refs/heads/sessions/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.splitlines())


def run_transport(
    transport: str, root: Path, base_url: str, args: argparse.Namespace
) -> list[tuple[str, str, float, float]]:
    """All rows for one transport (run in a process of its own: libgit2 settings are global)."""
    ledger = root / "machine.git"
    served = root / "served"
    rows: list[tuple[str, str, float, float]] = []
    ours = sync.init_central(served / f"ours-{transport}.git")
    theirs = sync.init_central(served / f"git-{transport}.git")

    def url(repo: Path) -> str:
        return repo.as_uri() if transport == "file" else f"{base_url}/{repo.name}"

    name = f"c-{transport}"
    sync.add_remote(ledger, name, url(ours))

    def ours_push() -> None:
        cli("--ledger", str(ledger), "push", name, "--batch-size", str(args.batch_size))

    def git_push() -> None:
        git("--git-dir", str(ledger), "push", "-q", url(theirs), SPEC)

    rows.append(
        (
            "start-up (--version)",
            transport,
            timed(lambda: cli("--version")),
            timed(lambda: git("--version")),
        )
    )
    rows.append(("push all", transport, timed(ours_push), timed(git_push)))
    assert count_refs(ours) == count_refs(theirs) == args.sessions
    rows.append(("push, nothing new", transport, timed(ours_push), timed(git_push)))
    touch(ledger, 1)
    rows.append(("push, 1 changed", transport, timed(ours_push), timed(git_push)))
    touch(ledger, args.changed)
    rows.append((f"push, {args.changed} changed", transport, timed(ours_push), timed(git_push)))
    mine = root / f"pull-{transport}.git"
    plain = root / f"fetch-{transport}.git"
    git("init", "-q", "--bare", str(plain))
    sync.add_remote(mine, "central", url(ours))

    def ours_pull() -> None:
        cli("--ledger", str(mine), "pull", "central")

    def git_fetch() -> None:
        git("--git-dir", str(plain), "fetch", "-q", url(theirs), SPEC)

    rows.append(("pull all", transport, timed(ours_pull), timed(git_fetch)))
    rows.append(("pull, nothing new", transport, timed(ours_pull), timed(git_fetch)))
    assert count_refs(mine) == count_refs(plain) == args.sessions
    for repo in (ours, theirs, mine):  # everything written must be clean
        git("--git-dir", str(repo), "fsck", "--no-dangling")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=3)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=sync.DEFAULT_BATCH)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    if args.phase:
        rows = run_transport(args.phase, Path(args.root), args.base_url, args)
        print(json.dumps(rows))
        return
    root = Path(tempfile.mkdtemp(prefix="ledger-bench-sync-"))
    try:
        t = timed(lambda: generate(root / "machine.git", args.sessions, args.entries))
        print(f"generated {args.sessions} sessions x {args.entries} entries in {t:.1f}s")
        served = root / "served"
        served.mkdir()
        rows: list[tuple[str, str, float, float]] = []
        with daemon(served) as base_url:
            for transport in ("file", "git"):
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--phase",
                        transport,
                        "--root",
                        str(root),
                        "--base-url",
                        base_url,
                        "--sessions",
                        str(args.sessions),
                        "--changed",
                        str(args.changed),
                        "--batch-size",
                        str(args.batch_size),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                rows += [tuple(r) for r in json.loads(out.splitlines()[-1])]
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
