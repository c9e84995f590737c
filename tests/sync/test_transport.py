"""Push and pull between real ledgers over file:// and a git daemon (git://) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from ledger import sync
from ledger._store import LedgerStore
from ledger.errors import SyncError
from ledger.trust.verify import verify_ledger
from ledger.write.logger import ChangeLogger
from tests.conftest import fsck_clean, git, run_cli

S = "refs/heads/sessions/"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A git daemon serving tmp_path/served on 127.0.0.1: yields (base URL, base path)."""
    base = tmp_path / "served"
    base.mkdir()
    proc = None
    for _attempt in range(5):
        port = _free_port()
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
                "--timeout=60",
                "--init-timeout=10",
                "--informative-errors",
                str(base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.2),
            ):
                break
            time.sleep(0.05)
        if proc.poll() is None:
            break
    assert proc is not None and proc.poll() is None, "git daemon did not start"
    try:
        yield f"git://127.0.0.1:{port}", base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()


def _record(ledger: Path, session: str, n: int = 3, agent: str = "agent") -> list[str]:
    logger = ChangeLogger(ledger_dir=ledger, agent_id=agent, session_id=session, durable=False)
    ids = []
    for i in range(n):
        ids.append(logger.log("agent_decision", f"{session} step {i}").id)
    return ids


def _many(ledger: Path, count: int, prefix: str = "s") -> None:
    for i in range(count):
        logger = ChangeLogger(
            ledger_dir=ledger, agent_id="bulk", session_id=f"{prefix}{i:05d}", durable=False
        )
        with logger.batch():
            logger.log("agent_decision", f"decide {i}")
            logger.log_command("make", "ok", 0)


def _refs(repo: Path, prefix: str = "refs/") -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(objectname) %(refname)", prefix)
    return {name: oid for oid, name in (line.split() for line in out.splitlines())}


@pytest.mark.parametrize("transport", ["file", "git"])
def test_push_then_pull_moves_sessions_between_machines(
    tmp_path: Path, daemon: tuple[str, Path], transport: str
) -> None:
    base_url, served = daemon
    central = sync.init_central(served / "central.git")
    url = f"{base_url}/central.git" if transport == "git" else central.as_uri()
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    first = _record(a, "alpha", 3)
    _record(a, "beta", 2)
    sync.add_remote(a, "origin", url)
    result = sync.push(a, "origin")
    assert sorted(result.pushed) == [S + "alpha", S + "beta"] and result.ok
    assert _refs(central, S) == _refs(a, S)
    fsck_clean(central)

    again = sync.push(a)  # the only remote is the default
    assert again.pushed == [] and again.up_to_date == 2

    _record(b, "gamma", 1)
    sync.add_remote(b, "origin", url)
    pulled = sync.pull(b)
    assert sorted(pulled.created) == [S + "alpha", S + "beta"]
    store = LedgerStore(b)
    assert set(store.sessions()) == {"alpha", "beta", "gamma"}
    assert [e.id for e in store.walk_session("alpha")] == first[::-1]
    fsck_clean(b)

    # Both sides continue the same session: each pull and push is a fast-forward.
    more = _record(a, "alpha", 2)
    assert sync.push(a).pushed == [S + "alpha"]
    assert sync.pull(b).fast_forwarded == [S + "alpha"]
    last = _record(b, "alpha", 1)
    pushed_b = sync.push(b)
    assert sorted(pushed_b.pushed) == [S + "alpha", S + "gamma"]
    assert sync.pull(a).fast_forwarded == [S + "alpha"]
    ids = [e.id for e in LedgerStore(a).walk_session("alpha")]
    assert ids == (first + more + last)[::-1]
    for repo in (a, b, central):
        fsck_clean(repo)
    # The staging namespace mirrors the remote as of b's last fetch, and holds nothing else.
    assert set(_refs(b, "refs/ledger-remotes/")) == {
        f"refs/ledger-remotes/origin/sessions/{s}" for s in ("alpha", "beta")
    }


def test_pull_never_touches_refs_outside_the_ledger_namespaces(tmp_path: Path) -> None:
    central = sync.init_central(tmp_path / "central.git")
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    _record(a, "s1", 1)
    sync.add_remote(a, "origin", central.as_uri())
    sync.push(a)
    # Things the central holds that are not ledger refs (written behind the guard's back).
    tip = git(central, "rev-parse", S + "s1").strip()
    git(central, "update-ref", "refs/heads/main", tip)
    git(central, "update-ref", "refs/tags/v1", tip)
    _record(b, "s2", 1)
    sync.add_remote(b, "origin", central.as_uri())
    sync.pull(b)
    names = set(_refs(b))
    assert S + "s1" in names and "refs/heads/main" not in names
    assert not any(n.startswith("refs/tags/") for n in names)
    assert not any(
        n.startswith(("refs/heads/main", "refs/ledger-remotes/origin/heads")) for n in names
    )
    # And a push sends only ledger refs.
    git(b, "update-ref", "refs/heads/private", git(b, "rev-parse", S + "s2").strip())
    sync.push(b)
    assert "refs/heads/private" not in _refs(central)


def test_same_session_from_two_machines_is_kept_twice_never_overwritten(
    tmp_path: Path, daemon: tuple[str, Path]
) -> None:
    base_url, served = daemon
    central = sync.init_central(served / "central.git")
    url = f"{base_url}/central.git"
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    a_ids = _record(a, "shared", 2, agent="agent-a")
    b_ids = _record(b, "shared", 3, agent="agent-b")
    for ledger, machine in ((a, "host-a"), (b, "host-b")):
        git(ledger, "config", "ledger.machine", machine)
        sync.add_remote(ledger, "origin", url)
    assert sync.push(a).pushed == [S + "shared"]

    result = sync.push(b)
    copy_on_central = S + f"shared--from-host-b-{b_ids[-1][:8]}"
    assert result.diverged == {S + "shared": copy_on_central}
    assert result.pushed == [copy_on_central] and result.ok
    held = _refs(central, S)
    assert held[S + "shared"] == a_ids[-1]  # the first machine's history is untouched
    assert held[copy_on_central] == b_ids[-1]

    # B continues its session: the next push fast-forwards its copy, nothing else.
    b_more = _record(b, "shared", 1, agent="agent-b")
    again = sync.push(b)
    assert again.pushed == [copy_on_central]
    assert _refs(central, S)[copy_on_central] == b_more[-1]

    # A pulls: its own session stays as it was, B's arrives as a session of its own.
    pulled = sync.pull(a)
    assert pulled.created == [copy_on_central]
    assert verify_ledger(a, accept=False).ok  # a diverged copy holds the entries of its session
    assert _refs(a, S)[S + "shared"] == a_ids[-1]
    # B pulls: A's history is kept under a name naming the remote; B's own stays.
    pulled_b = sync.pull(b)
    kept = S + f"shared--from-origin-{a_ids[-1][:8]}"
    assert pulled_b.diverged == {S + "shared": kept}
    refs_b = _refs(b, S)
    assert refs_b[S + "shared"] == b_more[-1] and refs_b[kept] == a_ids[-1]
    assert copy_on_central not in refs_b  # its own session, not imported twice
    # ...and that copy is never sent back to the remote it came from.
    assert sync.push(b).pushed == []
    agents = {e.agent_id for e in LedgerStore(b).walk_session(kept[len(S) :])}
    assert agents == {"agent-a"}
    for repo in (a, b, central):
        fsck_clean(repo)


def test_pull_does_not_move_a_session_a_local_writer_holds(tmp_path: Path) -> None:
    central = sync.init_central(tmp_path / "central.git")
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    _record(a, "busy", 1)
    sync.add_remote(a, "origin", central.as_uri())
    sync.push(a)
    sync.add_remote(b, "origin", central.as_uri())
    sync.pull(b)
    newer = _record(a, "busy", 1)
    sync.push(a)
    store = LedgerStore(b)
    before = store.tip("busy")
    with store.session_lock("busy"):
        held = sync.pull(b, lock_timeout=0.2)
        assert S + "busy" in held.skipped and not held.ok
        assert store.tip("busy") == before
    done = sync.pull(b)
    assert done.fast_forwarded == [S + "busy"]
    assert store.tip("busy") == bytes.fromhex(newer[-1])


def test_central_ledger_sees_every_machine_after_pulling_from_three(
    tmp_path: Path, daemon: tuple[str, Path]
) -> None:
    base_url, served = daemon
    machines = {}
    for name in ("m1", "m2", "m3"):
        path = served / f"{name}.git"
        logger = ChangeLogger(ledger_dir=path, agent_id=f"agent-{name}", session_id=f"{name}-s")
        logger.log_file_change("app.py", "file_create", None, f"print('{name}')\n")
        logger.log_command("pytest", "1 passed", 0)
        _record(path, f"{name}-t", 2, agent=f"agent-{name}")
        machines[name] = path
    # The third machine's ledger is also reached over the git protocol.
    urls = {
        "m1": machines["m1"].as_uri(),
        "m2": machines["m2"].as_uri(),
        "m3": f"{base_url}/m3.git",
    }
    central = sync.init_central(tmp_path / "central.git")
    for name, url in urls.items():
        sync.add_remote(central, name, url)
        result = sync.pull(central, name)
        assert sorted(result.created) == [S + f"{name}-s", S + f"{name}-t"]
    store = LedgerStore(central)
    assert set(store.sessions()) == {f"{m}-{k}" for m in machines for k in "st"}
    for name in machines:
        entries = list(store.walk_session(f"{name}-s"))
        assert [e.change_type.value for e in entries] == ["system_command", "file_create"]
        assert entries[1].after_bytes == f"print('{name}')\n".encode()
        assert {e.agent_id for e in entries} == {f"agent-{name}"}
    # The CLI reads the same sessions (the CLI lists them as a table on this ledger).
    out = run_cli("--ledger", str(central), "remote", "list", "--json")
    assert out.returncode == 0 and out.stdout.count('"name"') == 3
    fsck_clean(central)
    with contextlib.suppress(ImportError):
        from ledger.read.query import LogQuery  # type: ignore[import-not-found,unused-ignore]

        changes = LogQuery(ledger_dir=central).get_file_history("app.py")
        assert len(changes) == 3


def test_interrupted_push_leaves_valid_state_and_the_next_push_finishes(
    tmp_path: Path, daemon: tuple[str, Path]
) -> None:
    base_url, served = daemon
    central = sync.init_central(served / "central.git")
    ledger = tmp_path / "a.git"
    total = 120
    _many(ledger, total)
    sync.add_remote(ledger, "origin", f"{base_url}/central.git")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger",
            "--ledger",
            str(ledger),
            "push",
            "--batch-size",
            "10",
            "--progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith("sent 10/"), line
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    arrived = _refs(central, S)
    assert 10 <= len(arrived) < total  # killed part-way through
    local = _refs(ledger, S)
    assert all(local[name] == oid for name, oid in arrived.items())
    fsck_clean(central)

    result = sync.push(ledger)
    assert result.ok and result.up_to_date == len(arrived)
    assert len(result.pushed) == total - len(arrived)
    assert _refs(central, S) == local
    fsck_clean(central)


def test_push_from_many_threads_of_writers_keeps_every_entry(tmp_path: Path) -> None:
    """A push while a writer is appending sends a consistent tip; the next push the rest."""
    central = sync.init_central(tmp_path / "central.git")
    ledger = tmp_path / "a.git"
    _record(ledger, "live", 1)
    sync.add_remote(ledger, "origin", central.as_uri())
    stop = threading.Event()

    def write() -> None:
        logger = ChangeLogger(ledger_dir=ledger, session_id="live", durable=False)
        while not stop.is_set():
            logger.log("agent_decision", "tick")

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for _ in range(3):
            assert sync.push(ledger).ok
    finally:
        stop.set()
        thread.join()
    sync.push(ledger)
    assert _refs(central, S) == _refs(ledger, S)
    fsck_clean(central)


def test_errors_never_show_credentials(tmp_path: Path) -> None:
    ledger = tmp_path / "a.git"
    _record(ledger, "s", 1)
    port = _free_port()  # nothing listens there
    sync.add_remote(ledger, "origin", f"git://robot@127.0.0.1:{port}/central.git")
    with pytest.raises(SyncError) as info:
        sync.push(ledger)
    assert "robot" not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)
    out = run_cli("--ledger", str(ledger), "pull")
    assert out.returncode == 3 and "robot" not in out.stderr
    assert out.stderr.startswith("git-ledger: error:") and "Traceback" not in out.stderr
    listed = run_cli("--ledger", str(ledger), "remote", "list")
    assert "robot" not in listed.stdout and f"git://127.0.0.1:{port}/central.git" in listed.stdout


def test_pygit2_fetch_leaves_local_session_refs_alone(tmp_path: Path) -> None:
    """A push refspec in the config must not make a fetch rewrite local sessions."""
    central = sync.init_central(tmp_path / "central.git")
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    _record(a, "same", 1)
    sync.add_remote(a, "origin", central.as_uri())
    sync.push(a)
    mine = _record(b, "same", 1)
    sync.add_remote(b, "origin", central.as_uri())
    # Someone adds the refspec git users would expect; libgit2 applies it on fetch too.
    pygit2.Repository(str(b)).remotes.add_push("origin", f"{S}*:{S}*")
    sync.pull(b)
    assert _refs(b, S)[S + "same"] == mine[-1]
    assert os.path.exists(b / "config")


def test_refs_the_remote_refuses_are_reported_one_by_one(
    tmp_path: Path, daemon: tuple[str, Path]
) -> None:
    """A server-side policy (here a hook chained behind the guard) refuses a push."""
    base_url, served = daemon
    central = sync.init_central(served / "central.git")
    chained = central / "hooks" / sync.GUARD_CHAINED
    chained.write_text("#!/bin/sh\necho 'policy: robots may not push today' >&2\nexit 1\n")
    chained.chmod(0o755)
    ledger = tmp_path / "a.git"
    _record(ledger, "s1", 1)
    _record(ledger, "s2", 1)
    sync.add_remote(ledger, "origin", f"{base_url}/central.git")
    result = sync.push(ledger)
    assert not result.ok and result.pushed == []
    assert sorted(result.rejected) == [S + "s1", S + "s2"]
    assert all("robots may not push today" in why for why in result.rejected.values())
    out = run_cli("--ledger", str(ledger), "push", "--json")
    assert out.returncode == 1 and '"ok": false' in out.stdout
    assert _refs(central, S) == {}
    chained.unlink()
    assert sorted(sync.push(ledger).pushed) == [S + "s1", S + "s2"]


def test_push_tells_a_remote_ahead_from_a_divergence_without_a_pull(tmp_path: Path) -> None:
    central = sync.init_central(tmp_path / "central.git")
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    _record(a, "s1", 1)
    for ledger, machine in ((a, "host-a"), (b, "host-b")):
        sync.add_remote(ledger, "origin", central.as_uri())
        git(ledger, "config", "ledger.machine", machine)
    sync.push(a)
    sync.pull(b)
    _record(b, "s1", 1)  # the session goes on on another machine
    sync.push(b)
    # A has never seen B's entry: the push finds out the remote is ahead, sends nothing.
    result = sync.push(a)
    assert result.remote_ahead == [S + "s1"] and not result.diverged and not result.pushed
    # If A writes too, the histories really diverge: A's goes beside B's.
    mine = _record(a, "s1", 1)
    result = sync.push(a)
    copy = S + f"s1--from-host-a-{mine[-1][:8]}"
    assert result.diverged == {S + "s1": copy} and result.pushed == [copy]
    fsck_clean(central)


def test_ledger_refs_fast_forward_or_are_kept_beside_ours(tmp_path: Path) -> None:
    central = sync.init_central(tmp_path / "central.git")
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    _record(a, "s", 2)
    _record(b, "t", 1)
    git(a, "update-ref", "refs/ledger/checkpoints", f"{S}s~1")
    git(a, "update-ref", "refs/ledger/marks", f"{S}s")
    sync.add_remote(a, "origin", central.as_uri())
    sync.push(a)
    git(a, "update-ref", "refs/ledger/checkpoints", f"{S}s")  # a checkpoint chain grows
    sync.push(a)
    assert git(central, "rev-parse", "refs/ledger/checkpoints") == git(a, "rev-parse", f"{S}s")
    # b has a checkpoint chain of its own.
    git(b, "update-ref", "refs/ledger/checkpoints", f"{S}t")
    sync.add_remote(b, "origin", central.as_uri())
    result = sync.pull(b)
    kept = "refs/ledger/checkpoints--from-origin-" + git(a, "rev-parse", f"{S}s")[:8]
    assert result.diverged == {"refs/ledger/checkpoints": kept}
    assert "refs/ledger/marks" in result.created
    assert git(b, "rev-parse", "refs/ledger/checkpoints") == git(b, "rev-parse", f"{S}t")
    assert git(b, "rev-parse", kept) == git(a, "rev-parse", f"{S}s")
    fsck_clean(b)


def test_what_arrives_verifies_clean_with_checkpoints_from_both_sides(tmp_path: Path) -> None:
    from ledger._layout import CHECKPOINT_REF
    from ledger.trust.checkpoint import write_checkpoint
    from ledger.trust.verify import verify_ledger

    central = sync.init_central(tmp_path / "central.git")
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    _record(a, "a1", 2)
    _record(a, "a2", 1)
    write_checkpoint(a, sign=False)
    sync.add_remote(a, "origin", central.as_uri())
    assert CHECKPOINT_REF in sync.push(a).pushed
    assert verify_ledger(central).ok
    _record(b, "b1", 1)
    write_checkpoint(b, sign=False)  # b's own chain: diverges from a's
    sync.add_remote(b, "origin", central.as_uri())
    result = sync.pull(b)
    assert sorted(result.created) == [S + "a1", S + "a2"]
    assert list(result.diverged) == [CHECKPOINT_REF]
    report = verify_ledger(b)
    assert report.ok, [f.to_dict() for f in report.problems]
    assert report.sessions == 3
    # b's checkpoint chain is sent beside a's on the central, which still verifies.
    pushed = sync.push(b)
    assert list(pushed.diverged) == [CHECKPOINT_REF] and S + "b1" in pushed.pushed
    report = verify_ledger(central)
    assert report.ok, [f.to_dict() for f in report.problems]
