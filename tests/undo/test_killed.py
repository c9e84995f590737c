"""A restore killed with SIGKILL while it writes a big file leaves no temporary copy behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import ChangeLogger
from tests.conftest import git, run_cli
from tests.undo.helpers import fixed_umask  # noqa: F401  (an autouse fixture)

BIG = 32 * 1024 * 1024


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".ledger-tmp-"))


def big_edit(ledger: Path, work: Path) -> tuple[str, bytes, bytes]:
    """A big file edited in one entry (redaction off: these bytes hold no secret)."""
    lg = ChangeLogger(ledger, agent_id="coder", session_id="agent", workdir=work, durable=False)
    lg.log("deployment", "ledger made")
    git(ledger, "config", "ledger.redact", "false")
    lg = ChangeLogger(ledger, agent_id="coder", session_id="agent", workdir=work, durable=False)
    old, new = os.urandom(BIG), os.urandom(BIG)
    data = work / "data.bin"
    data.write_bytes(old)
    with lg.track_file("data.bin") as edit:
        data.write_bytes(new)
    assert edit.entry is not None
    return edit.entry.id, old, new


def writing(pid: int, folder: Path) -> bool:
    """True while the process writes its temporary copy in ``folder``: an unnamed file
    (``/folder/#inode (deleted)``) or a named ``.ledger-tmp-`` one."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        links = [os.readlink(fd) for fd in fds.iterdir()]
    except OSError:
        return False
    return any(
        link.startswith((f"{folder}/#", f"{folder}/.ledger-tmp-")) for link in links
    )


@pytest.mark.slow
def test_sigkill_mid_restore_leaves_no_temporary_copy(ledger_path: Path, workdir: Path) -> None:
    entry, old, new = big_edit(ledger_path, workdir)
    caught = False
    for _attempt in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledger", "--ledger", str(ledger_path), "restore", entry],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while proc.poll() is None and not writing(proc.pid, workdir):
            time.sleep(0.0005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            caught = proc.returncode == -signal.SIGKILL
        assert temps(workdir) == []  # killed or not, no copy of the content is left
        assert (workdir / "data.bin").read_bytes() in (old, new)  # whole, never torn
        if caught:
            break
        (workdir / "data.bin").write_bytes(new)  # it finished: try again from the start
    assert caught, "the restore was never caught while writing"
    done = run_cli("--ledger", str(ledger_path), "restore", entry, "--force", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert (workdir / "data.bin").read_bytes() == old
    assert temps(workdir) == []


def test_the_next_run_removes_what_a_killed_writer_left(ledger_path: Path, workdir: Path) -> None:
    lg = ChangeLogger(ledger_path, agent_id="coder", session_id="agent", workdir=workdir)
    (workdir / "a.txt").write_text("one\n")
    with lg.track_file("a.txt") as edit:
        (workdir / "a.txt").write_text("two\n")
    assert edit.entry is not None
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = workdir / f".ledger-tmp-{int(gone.stdout)}-0123456789ab"
    dead.write_text("one\n")  # a killed writer's copy (the process is gone)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as live_proc:
        try:
            live = workdir / f".ledger-tmp-{live_proc.pid}-0123456789ab"
            live.write_text("one\n")  # a live writer's: left alone
            done = run_cli("--ledger", str(ledger_path), "restore", edit.entry.id, cwd=workdir)
            assert done.returncode == 0, done.stderr
            assert temps(workdir) == [live.name]
        finally:
            live_proc.kill()
    assert (workdir / "a.txt").read_text() == "one\n"
