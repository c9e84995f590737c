"""Real git reads the session ref updates the writer makes: one reflog line per entry in
git's own format, naming the ledger's identity, and a move by a writer outside git-ledger
(real ``git update-ref``) is never overwritten but built upon."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pygit2

from ledger import ChangeLogger
from tests.conftest import fsck_clean, git


def test_reflog_lines_are_gits_own(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir, durable=False)
    ids = [logger.log_command(f"echo {i}", "ok\n", 0).id for i in range(3)]
    ids.append(logger.log("agent_decision", "done").id)
    lines = git(
        ledger_path, "reflog", "show", "--format=%H %gn <%ge> %gs", "refs/heads/sessions/s"
    ).splitlines()
    name = git(ledger_path, "config", "user.name").strip()
    email = git(ledger_path, "config", "user.email").strip()
    kinds = ["system_command"] * 3 + ["agent_decision"]
    pairs = reversed(list(zip(ids, kinds, strict=True)))
    assert lines == [f"{i} {name} <{email}> ledger: {kind}" for i, kind in pairs]
    raw = (ledger_path / "logs" / "refs" / "heads" / "sessions" / "s").read_text().splitlines()
    olds = [line.split(" ", 2)[0] for line in raw]
    assert olds == ["0" * 40, *ids[:-1]]
    fsck_clean(ledger_path)


def test_a_ref_moved_by_git_is_built_upon(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir, durable=False)
    first = logger.log("agent_decision", "one").id
    second = logger.log("agent_decision", "two").id
    # Another program moves the ref back behind this writer's remembered tip.
    git(ledger_path, "update-ref", "refs/heads/sessions/s", first, second)
    third = logger.log("agent_decision", "three")
    assert git(ledger_path, "rev-parse", "sessions/s").strip() == third.id
    assert git(ledger_path, "rev-parse", f"{third.id}^").strip() == first
    fsck_clean(ledger_path)


def test_a_live_ref_lock_is_waited_for_not_removed(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir, durable=False)
    logger.log("agent_decision", "one")
    lock = ledger_path / "refs" / "heads" / "sessions" / "s.lock"
    lock.write_text("")
    # A fresh lock is someone's live update: the writer waits until it is old enough to be
    # a dead writer's, then removes it and records that it did.
    started = time.monotonic()
    entry = logger.log("agent_decision", "two")
    assert time.monotonic() - started >= 1.5
    assert not lock.exists()
    assert git(ledger_path, "rev-parse", "sessions/s").strip() == entry.id
    assert "removed stale ref lock s.lock" in (ledger_path / "ledger-recovery.log").read_text()


def test_a_new_sessions_stale_ref_lock_is_recovered(ledger_path: Path, workdir: Path) -> None:
    ChangeLogger(ledger_dir=ledger_path, session_id="other", workdir=workdir).log("api_call", "x")
    lock = ledger_path / "refs" / "heads" / "sessions" / "new.lock"
    lock.write_text("left by a writer that died\n")
    old = time.time() - 60
    os.utime(lock, (old, old))
    entry = ChangeLogger(ledger_dir=ledger_path, session_id="new", workdir=workdir).log(
        "api_call", "first"
    )
    assert pygit2.Repository(str(ledger_path)).references["refs/heads/sessions/new"].target == (
        pygit2.Oid(hex=entry.id)
    )
    assert git(ledger_path, "reflog", "show", "--format=%gs", "sessions/new").strip() == (
        "ledger: api_call"
    )
    fsck_clean(ledger_path)
