"""Proof under faults: SIGKILLed writers, stale locks, a full or read-only disk, many writers.

The figures these tests print are collected in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType
from ledger._layout import RECOVERY_LOG
from ledger._store import LedgerStore
from ledger.errors import LedgerError, LockTimeoutError, StorageError
from ledger.trust.checkpoint import write_checkpoint
from ledger.trust.verify import verify_ledger
from tests.conftest import fsck_clean, git

KILLS = 200
KILLS_PER_LEDGER = 20  # a fresh ledger every so often keeps each fsck small


@contextlib.contextmanager
def mounted_tmpfs(target: Path, size: str) -> Iterator[Path | None]:
    """Mount a tmpfs at ``target`` (root only); yield None when mounting is not permitted."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        yield None
        return
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        yield None
        return
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs when one can be mounted (many-entry tests stay quick), else tmp_path.

    A process kill leaves the page cache intact, so what these tests prove holds on any
    filesystem; only the speed differs.
    """
    with mounted_tmpfs(tmp_path / "tmpfs", "512m") as mounted:
        yield mounted or tmp_path


def session_ids(ledger: Path, session: str) -> set[str]:
    return {e.id for e in LedgerStore(ledger).walk_session(session)}


# -- kill loop ---------------------------------------------------------------------------------
def _writer(ledger: Path, workdir: Path, seed: int, out: int) -> None:
    """The forked writer: log forever, printing each id to ``out`` once its call returned.

    ``os.write`` of a whole line is the flushed print: nothing is buffered in the process.
    """
    code = 0
    try:
        rng = random.Random(seed)
        lg = ChangeLogger(ledger, agent_id="victim", session_id="crashy", workdir=workdir)
        os.write(out, b"ready\n")
        n = 0
        while True:
            n += 1
            roll = rng.random()
            if roll < 0.15:
                with lg.batch():
                    entries = [lg.log("deployment", f"batch {n}.{k}") for k in range(rng.randint(2, 6))]
                ids = [e.id for e in entries]
            elif roll < 0.45:
                before = f"seen elsewhere {n}\n" if rng.random() < 0.3 else None
                ids = [lg.log_file_change(f"src/f{rng.randint(0, 4)}.txt", ChangeType.FILE_UPDATE,
                                          before_content=before, after_content=f"v{n}\n").id]
            elif roll < 0.6:
                target = workdir / "tracked.txt"
                with lg.track_file("tracked.txt") as tracked:
                    target.write_text(f"state {n}\n")
                ids = [tracked.entry.id] if tracked.entry else []
            else:
                ids = [lg.log_command(["step", str(n)], output="ok\n" * rng.randint(0, 50)).id]
            os.write(out, "".join(f"{i}\n" for i in ids).encode())
    except BaseException as exc:  # report, never unwind into the parent's pytest
        os.write(out, f"error {type(exc).__name__}: {exc}\n".encode())
        code = 1
    finally:
        os._exit(code)


def test_sigkilled_writers_never_lose_an_acknowledged_entry(fast_tmp: Path) -> None:
    seed = int(os.environ.get("LEDGER_KILL_SEED", str(random.randrange(2**32))))
    rng = random.Random(seed)
    workdir = fast_tmp / "work"
    workdir.mkdir()
    acked: dict[Path, set[str]] = {}
    started = time.monotonic()
    for kill in range(KILLS):
        ledger = fast_tmp / f"ledger{kill // KILLS_PER_LEDGER}.git"
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_end)
            os.dup2(write_end, 1)  # the writer's stdout is the pipe
            _writer(ledger, workdir, rng.randrange(2**32), 1)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            assert pipe.readline() == b"ready\n"
            time.sleep(rng.uniform(0.005, 0.080))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            rest = pipe.read().decode()
        assert "error" not in rest, f"seed {seed}, kill {kill}: {rest}"
        acked.setdefault(ledger, set()).update(rest.split())
        # After each kill: the ledger opens, fsck is clean, every acknowledged entry is there.
        present = session_ids(ledger, "crashy") if (ledger / "HEAD").exists() else set()
        missing = acked[ledger] - present
        assert not missing, f"seed {seed}, kill {kill}: lost {sorted(missing)[:3]}"
        if (ledger / "HEAD").exists():
            fsck_clean(ledger)
    # Writes continue after the last kill, and every ledger verifies clean.
    total = 0
    recoveries = 0
    for ledger, ids in acked.items():
        entry = ChangeLogger(ledger, session_id="crashy", workdir=workdir).log("deployment", "after")
        assert ids | {entry.id} <= session_ids(ledger, "crashy")
        report = verify_ledger(ledger)
        assert report.ok, (seed, report.problems)
        total += len(ids)
        log = ledger / RECOVERY_LOG
        recoveries += len(log.read_text().splitlines()) if log.exists() else 0
    assert total > KILLS  # the kills landed among real writes
    print(
        f"\nkill loop: {KILLS} SIGKILLs, {total} acknowledged entries, none lost, "
        f"{recoveries} stale ref locks recovered, {time.monotonic() - started:.1f}s, seed {seed}"
    )


# -- stale and live locks ------------------------------------------------------------------------
def test_stale_ref_lock_of_a_dead_writer_is_recovered_and_recorded(
    ledger_path: Path, workdir: Path
) -> None:
    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir)
    first = lg.log("deployment", "before the crash")
    lock = ledger_path / "refs" / "heads" / "sessions" / "s.lock"
    lock.write_text(first.id + "\n")  # what a writer killed mid-update leaves behind
    old = time.time() - 60
    os.utime(lock, (old, old))
    second = lg.log("deployment", "after the crash")
    assert not lock.exists()
    assert session_ids(ledger_path, "s") == {first.id, second.id}
    record = (ledger_path / RECOVERY_LOG).read_text()
    assert "removed stale ref lock s.lock for refs/heads/sessions/s" in record
    fsck_clean(ledger_path)


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ledger._store import LedgerStore
    store = LedgerStore(Path(sys.argv[1]))
    with store.session_lock("s"):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_lock_held_by_a_live_writer_is_respected_and_freed_by_its_death(
    ledger_path: Path, workdir: Path
) -> None:
    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir, lock_timeout=0.5)
    lg.log("deployment", "first")
    tip = git(ledger_path, "rev-parse", "refs/heads/sessions/s")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ledger_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(LockTimeoutError, match="locked by another live writer"):
            lg.log("deployment", "must wait")
        assert git(ledger_path, "rev-parse", "refs/heads/sessions/s") == tip
        assert not (ledger_path / RECOVERY_LOG).exists()  # nothing was taken from it
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    # The kernel dropped the dead holder's lock: the next writer goes straight through.
    entry = lg.log("deployment", "after the holder died")
    assert entry.id in session_ids(ledger_path, "s")
    fsck_clean(ledger_path)


# -- disk full and read-only -------------------------------------------------------------------
def test_full_disk_gives_a_clear_error_and_no_partial_entry(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "small", "2m") as disk:
        if disk is None:
            pytest.skip("mounting a small tmpfs is not permitted here")
        ledger = disk / "ledger.git"
        workdir = tmp_path / "work"
        workdir.mkdir()
        lg = ChangeLogger(ledger, session_id="s", workdir=workdir)
        kept = [lg.log("deployment", f"entry {i}").id for i in range(3)]
        write_checkpoint(ledger)
        tip = git(ledger, "rev-parse", "refs/heads/sessions/s")
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
        def in_a_batch() -> None:
            with lg.batch():
                for i in range(40):
                    lg.log("deployment", f"batched {i} " + "z" * 4000)

        failures = []
        for attempt in (
            lambda: lg.log("deployment", "x" * 20000),
            lambda: lg.log_file_change(
                "big.bin", ChangeType.FILE_CREATE, after_content=os.urandom(300_000)
            ),
            lambda: ChangeLogger(ledger, session_id="other", workdir=workdir).log("deployment", "y"),
            in_a_batch,
        ):
            with pytest.raises(StorageError, match="(?i)no space left") as caught:
                attempt()
            failures.append(str(caught.value))
        # No partial entry: the session did not move, no new session appeared, git is happy.
        assert git(ledger, "rev-parse", "refs/heads/sessions/s") == tip
        assert set(LedgerStore(ledger).sessions()) == {"s"}
        fsck_clean(ledger)
        filler.unlink()
        after = lg.log("deployment", "space is back")
        assert session_ids(ledger, "s") == {*kept, after.id}
        assert verify_ledger(ledger).ok
        print(f"\ndisk full: {failures[0]}")


def test_read_only_ledger_gives_a_clear_error_and_recovers(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "ro", "8m") as disk:
        if disk is None:
            pytest.skip("mounting a tmpfs is not permitted here")
        ledger = disk / "ledger.git"
        workdir = tmp_path / "work"
        workdir.mkdir()
        lg = ChangeLogger(ledger, session_id="s", workdir=workdir)
        first = lg.log("deployment", "while writable")
        remount = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, check=False)
        if remount.returncode != 0:
            pytest.skip("remounting read-only is not permitted here")
        try:
            with pytest.raises(LedgerError, match="read-only|not writable|Read-only"):
                lg.log("deployment", "refused")
            with pytest.raises(LedgerError, match="read-only|not writable|Read-only"):
                ChangeLogger(ledger, session_id="s2", workdir=workdir).log("deployment", "refused")
            assert session_ids(ledger, "s") == {first.id}  # reads still work
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        second = lg.log("deployment", "writable again")
        assert session_ids(ledger, "s") == {first.id, second.id}
        fsck_clean(ledger)


# -- concurrent writers --------------------------------------------------------------------------
WRITER = textwrap.dedent(
    """
    import sys, threading
    from ledger import ChangeLogger
    ledger, sessions, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    lock = threading.Lock()

    def write(session):
        lg = ChangeLogger(ledger, agent_id="w" + tag, session_id=session, lock_timeout=120)
        for i in range(count):
            entry = lg.log("deployment", f"writer {tag} entry {i}", {"i": i})
            with lock:
                print(entry.id, flush=True)

    threads = [threading.Thread(target=write, args=(s,)) for s in sessions.split(",")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """
)


def run_writers(ledger: Path, jobs: list[tuple[str, int, str]]) -> list[str]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ledger), session, str(count), tag],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for session, count, tag in jobs
    ]
    ids: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        ids += out.split()
    return ids


def test_eight_writers_to_one_session_make_one_linear_history(fast_tmp: Path) -> None:
    ledger = fast_tmp / "ledger.git"
    ChangeLogger(ledger, session_id="shared").log("deployment", "start")
    ids = run_writers(ledger, [("shared", 200, str(n)) for n in range(8)])
    assert len(ids) == len(set(ids)) == 1600
    ref = "refs/heads/sessions/shared"
    assert int(git(ledger, "rev-list", "--count", ref)) == 1601
    assert int(git(ledger, "rev-list", "--count", "--first-parent", ref)) == 1601  # linear
    assert git(ledger, "rev-list", "--merges", ref) == ""
    assert set(ids) <= session_ids(ledger, "shared")
    # Each writer's own entries stay in its order.
    order = git(ledger, "log", "--reverse", "--format=%s", ref).splitlines()[1:]
    for n in range(8):
        mine = [int(s.rsplit(" ", 1)[1]) for s in order if f"writer {n} entry" in s]
        assert mine == list(range(200))
    fsck_clean(ledger)


def test_thirty_two_sessions_in_parallel_all_land_in_the_next_checkpoint(fast_tmp: Path) -> None:
    ledger = fast_tmp / "ledger.git"
    ChangeLogger(ledger, session_id="seed").log("deployment", "create the ledger")
    # 4 processes of 8 threads, each thread a session of its own.
    jobs = [(",".join(f"par-{p * 8 + t:02d}" for t in range(8)), 10, str(p)) for p in range(4)]
    ids = run_writers(ledger, jobs)
    assert len(set(ids)) == 320
    cp = write_checkpoint(ledger)
    sessions = LedgerStore(ledger).sessions()
    for n in range(32):
        sid = f"par-{n:02d}"
        assert cp.sessions[sid].tip == sessions[sid].hex()
        assert cp.sessions[sid].entries == 10
    assert verify_ledger(ledger).ok
    fsck_clean(ledger)
