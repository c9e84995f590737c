"""Many writers, one session: every entry lands once, in one linear history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ledger import ChangeLogger
from ledger._store import LedgerStore
from tests.conftest import fsck_clean, git

WRITER = """
import sys
from ledger import ChangeLogger
ledger, session, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
logger = ChangeLogger(ledger_dir=ledger, agent_id="w" + tag, session_id=session, durable=True)
for i in range(n):
    entry = logger.log("system_command", f"{tag}-{i}")
    print(entry.id, flush=True)
"""


def test_threads_of_one_process(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir, durable=False)
    loggers = [logger] + [
        ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir, durable=False)
        for _ in range(3)
    ]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(40):
                loggers[k % len(loggers)].log("api_call", f"t{k}-{i}")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert git(ledger_path, "rev-list", "--count", "--merges", "sessions/s").strip() == "0"
    descriptions = [e.description for e in LedgerStore(ledger_path).walk_session("s")]
    assert sorted(descriptions) == sorted(f"t{k}-{i}" for k in range(6) for i in range(40))
    times = [e.timestamp for e in LedgerStore(ledger_path).walk_session("s")]
    assert times == sorted(times, reverse=True)
    fsck_clean(ledger_path)


def test_processes_writing_one_session(ledger_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ledger_path), "s", str(k), "30"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(4)
    ]
    acknowledged = set()
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        acknowledged.update(out.split())
    on_branch = set(git(ledger_path, "rev-list", "sessions/s").split())
    assert len(acknowledged) == 120 and acknowledged == on_branch
    assert git(ledger_path, "rev-list", "--count", "--merges", "sessions/s").strip() == "0"
    fsck_clean(ledger_path)


def test_sessions_do_not_block_each_other(ledger_path: Path, workdir: Path) -> None:
    a = ChangeLogger(ledger_dir=ledger_path, session_id="a", workdir=workdir)
    b = ChangeLogger(ledger_dir=ledger_path, session_id="b", workdir=workdir, lock_timeout=1)
    a.log("api_call", "create")
    with a.batch():  # holds session a's lock
        a.log("api_call", "inside a batch")
        b.log("api_call", "other session")  # would time out if sessions shared a lock
    assert git(ledger_path, "rev-list", "--count", "sessions/b").strip() == "1"


def test_stale_ref_lock_is_recovered_and_recorded(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    logger.log("api_call", "one")
    lock = ledger_path / "refs" / "heads" / "sessions" / "s.lock"
    lock.write_text("garbage from a writer that died\n")
    old = time.time() - 60
    os.utime(lock, (old, old))
    entry = logger.log("api_call", "two")
    assert not lock.exists()
    assert git(ledger_path, "rev-parse", "sessions/s").strip() == entry.id
    assert "removed stale ref lock" in (ledger_path / "ledger-recovery.log").read_text()


def test_killed_writers_lose_no_acknowledged_entry(ledger_path: Path) -> None:
    acknowledged: set[str] = set()
    for round_ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ledger_path), "s", str(round_), "100000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.4 + 0.05 * round_)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        acknowledged.update(out.split())
        # After every kill the ledger opens, accepts writes and holds everything acknowledged.
        ChangeLogger(ledger_dir=ledger_path, session_id="s", lock_timeout=10).log(
            "api_call", "after"
        )
        on_branch = set(git(ledger_path, "rev-list", "sessions/s").split())
        assert acknowledged <= on_branch
    fsck_clean(ledger_path)
