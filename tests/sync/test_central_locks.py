"""A push killed while writing a central on this machine never blocks later pushes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import sync
from ledger._layout import SESSION_REF_PREFIX, SYNC_LOG
from ledger.write.logger import ChangeLogger
from tests.conftest import fsck_clean, git, run_cli

S = SESSION_REF_PREFIX


def _ledger(tmp_path: Path, sessions: int = 2, file_url: bool = False) -> tuple[Path, Path]:
    ledger = tmp_path / "ledger.git"
    for n in range(sessions):
        ChangeLogger(ledger_dir=ledger, session_id=f"s{n}", durable=False).log("api_call", "x")
    central = sync.init_central(tmp_path / "central.git")
    sync.add_remote(ledger, "central", central.as_uri() if file_url else str(central))
    return ledger, central


def _plant(path: Path, age: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("0" * 40 + "\n")
    then = time.time() - age
    os.utime(path, (then, then))


@pytest.mark.parametrize("file_url", [False, True])
def test_stale_ref_and_packed_refs_locks_are_removed_and_logged(
    tmp_path: Path, file_url: bool
) -> None:
    ledger, central = _ledger(tmp_path, file_url=file_url)
    assert run_cli("--ledger", str(ledger), "push", "central").returncode == 0
    ChangeLogger(ledger_dir=ledger, session_id="s0", durable=False).log("api_call", "more")
    _plant(central / "refs/heads/sessions/s0.lock", age=3600)
    _plant(central / "packed-refs.lock", age=3600)

    out = run_cli("--ledger", str(ledger), "push", "central")

    assert out.returncode == 0, out.stderr
    assert git(central, "rev-parse", S + "s0") == git(ledger, "rev-parse", S + "s0")
    assert not (central / "refs/heads/sessions/s0.lock").exists()
    assert not (central / "packed-refs.lock").exists()
    log = (ledger / SYNC_LOG).read_text()
    assert "removed stale lock refs/heads/sessions/s0.lock" in log
    assert "removed stale lock packed-refs.lock" in log
    git(central, "pack-refs", "--all")  # git itself can take packed-refs.lock again
    fsck_clean(central)


def test_a_fresh_lock_is_waited_for_then_removed(tmp_path: Path) -> None:
    ledger, central = _ledger(tmp_path)
    _plant(central / "refs/heads/sessions/s1.lock", age=0)
    result = sync.push(ledger, "central")
    assert result.ok and S + "s1" in result.pushed
    assert not (central / "refs/heads/sessions/s1.lock").exists()


def test_a_lock_that_cannot_be_removed_says_what_to_run(tmp_path: Path) -> None:
    ledger, central = _ledger(tmp_path)
    stuck = central / "refs/heads/sessions/s1.lock"
    (stuck / "inside").mkdir(parents=True)  # unlink fails: not a file
    out = run_cli("--ledger", str(ledger), "push", "central")
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"rm '{stuck}'" in lines[0]


def _has_lock(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.name.endswith(".lock") for e in entries)
    except FileNotFoundError:
        return False


def _kill_when_a_lock_appears(ledger: Path, central: Path) -> bool:
    """Run a push and SIGKILL it the moment a ref lock shows in the central.

    True when the killed push left a lock behind.
    """
    folder = central / "refs/heads/sessions"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "--ledger", str(ledger), "push", "central",
         "--batch-size", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if _has_lock(folder):
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return _has_lock(folder)


def test_pushes_killed_in_a_loop_never_block_the_next_one(tmp_path: Path) -> None:
    ledger, central = _ledger(tmp_path, sessions=40)
    left = 0
    for round_ in range(10):
        for n in range(40):
            ChangeLogger(ledger_dir=ledger, session_id=f"s{n}", durable=False).log(
                "api_call", f"round {round_}"
            )
        left += _kill_when_a_lock_appears(ledger, central)
        if left >= 2:
            break
    assert left, "no kill landed while a ref lock was held"
    out = run_cli("--ledger", str(ledger), "push", "central")
    assert out.returncode == 0, out.stderr
    mine = git(ledger, "for-each-ref", "--format=%(refname) %(objectname)", S)
    assert git(central, "for-each-ref", "--format=%(refname) %(objectname)", S) == mine
    assert not list((central / "refs").rglob("*.lock"))
    assert "removed stale lock refs/heads/sessions/" in (ledger / SYNC_LOG).read_text()
    fsck_clean(central)
