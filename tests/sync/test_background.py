"""Automatic push in the background: detached, single-flight, never in the caller's way."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import _layout, sync
from ledger.sync.push import _try_lock
from ledger.write.logger import ChangeLogger
from tests.conftest import git

S = "refs/heads/sessions/"


def _wait_for(predicate: object, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _setup(tmp_path: Path, auto: bool = True) -> tuple[Path, Path]:
    ledger = tmp_path / "a.git"
    ChangeLogger(ledger_dir=ledger, session_id="bg", durable=False).log("deployment", "x")
    central = sync.init_central(tmp_path / "central.git")
    sync.add_remote(ledger, "origin", central.as_uri(), auto_push=auto)
    return ledger, central


def _central_has(central: Path, ledger: Path) -> bool:
    ours = git(ledger, "rev-parse", S + "bg")
    return git(central, "rev-parse", "--verify", "-q", S + "bg", check=False) == ours


def test_nothing_happens_without_a_configured_remote(tmp_path: Path) -> None:
    ledger, _central = _setup(tmp_path, auto=False)
    assert sync.push_in_background(ledger) is False
    assert sync.push_in_background(tmp_path / "missing.git") is False
    assert not (ledger / "ledger-locks" / _layout.PUSH_PENDING).exists()


def test_auto_push_reaches_the_remote_even_from_inside_a_git_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, central = _setup(tmp_path)
    # A hook runs with GIT_DIR of the user's repository; the push must not follow it.
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    assert sync.push_in_background(ledger) is True
    assert _wait_for(lambda: _central_has(central, ledger))
    assert _wait_for(lambda: "push origin: 1 sent" in _log(ledger))
    assert _wait_for(lambda: not (ledger / "ledger-locks" / _layout.PUSH_PENDING).exists())


def _log(ledger: Path) -> str:
    path = ledger / _layout.SYNC_LOG
    return path.read_text() if path.exists() else ""


def test_a_running_push_takes_over_new_requests(tmp_path: Path) -> None:
    ledger, central = _setup(tmp_path)
    lock = ledger / "ledger-locks" / _layout.PUSH_LOCK
    lock.parent.mkdir(exist_ok=True)
    holder = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        assert sync.push_in_background(ledger) is True  # queued, not started
        assert (ledger / "ledger-locks" / _layout.PUSH_PENDING).exists()
        # A worker that finds the lock taken leaves at once, without pushing.
        assert sync.background_push(ledger, "origin") == 0
        assert not _central_has(central, ledger)
    finally:
        os.close(holder)
    # The holder, done with its push, finds the pending mark and pushes once more.
    assert sync.background_push(ledger, "origin") == 0
    assert _central_has(central, ledger)
    assert not (ledger / "ledger-locks" / _layout.PUSH_PENDING).exists()


def test_the_lock_dies_with_a_killed_worker(tmp_path: Path) -> None:
    ledger, central = _setup(tmp_path)
    lock = ledger / "ledger-locks" / _layout.PUSH_LOCK
    lock.parent.mkdir(exist_ok=True)
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    sync.push_in_background(ledger)
    proc.kill()
    proc.wait()
    proc.stdout.close()
    # The request stayed pending; the next one finds a free lock and does both.
    assert (ledger / "ledger-locks" / _layout.PUSH_PENDING).exists()
    assert sync.push_in_background(ledger) is True
    assert _wait_for(lambda: _central_has(central, ledger))


def test_the_caller_returns_while_the_push_is_still_waiting_on_the_network(
    tmp_path: Path,
) -> None:
    ledger, _central = _setup(tmp_path, auto=False)
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        sync.add_remote(ledger, "slow", f"git://127.0.0.1:{port}/x.git", auto_push=True)
        assert sync.push_in_background(ledger) is True
        lock = ledger / "ledger-locks" / _layout.PUSH_LOCK
        # The worker holds the lock (and wrote its pid) while the caller has long returned.
        assert _wait_for(lambda: lock.exists() and lock.read_text().strip().isdigit())
        pid = int(lock.read_text())
        conn, _ = server.accept()
        assert sync.push_in_background(ledger) is True  # queued behind the running one
        os.kill(pid, signal.SIGKILL)
        conn.close()
    assert _wait_for(lambda: _free(lock))


def _free(lock: Path) -> bool:
    fd = _try_lock(lock)
    if fd is None:
        return False
    os.close(fd)
    return True
