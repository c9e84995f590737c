"""The central ledger and its pre-receive guard, tested with real ``git push``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from ledger import sync
from ledger.errors import LedgerLocationError
from ledger.location import LEDGER_CONFIG, is_ledger
from ledger.write.logger import ChangeLogger
from tests.conftest import ROOT, fsck_clean, git, run_cli

S = "refs/heads/sessions/"


def _push(
    src: Path, dest: Path, *specs: str, force: bool = False
) -> subprocess.CompletedProcess[str]:
    args = ["git", "--git-dir", str(src), "push", "--porcelain"]
    if force:
        args.append("--force")
    return subprocess.run([*args, str(dest), *specs], capture_output=True, text=True, check=False)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """A machine's ledger with a 3-entry session already pushed to a central ledger."""
    ledger = tmp_path / "a.git"
    logger = ChangeLogger(ledger_dir=ledger, session_id="s1", durable=False)
    for i in range(3):
        logger.log("agent_decision", f"step {i}")
    central = sync.init_central(tmp_path / "central.git")
    done = _push(ledger, central, f"{S}s1:{S}s1")
    assert done.returncode == 0, done.stderr
    return ledger, central


def _unprotected(central: Path) -> None:
    """Turn off git's own refusals so that only the guard stands in the way."""
    git(central, "config", "receive.denyNonFastForwards", "false")
    git(central, "config", "receive.denyDeletes", "false")


def test_init_central_makes_a_guarded_ledger(tmp_path: Path) -> None:
    central = sync.init_central(tmp_path / "c.git")
    assert is_ledger(central)
    for key in ("receive.denyNonFastForwards", "receive.denyDeletes", "receive.fsckObjects"):
        assert git(central, "config", "--bool", key).strip() == "true"
    for key, value in LEDGER_CONFIG.items():
        assert git(central, "config", key).strip() == value
    hook = central / "hooks" / "pre-receive"
    assert hook.read_text() == (ROOT / "hooks" / "pre-receive").read_text()
    assert os.stat(hook).st_mode & stat.S_IXUSR
    assert sync.init_central(tmp_path / "c.git") == central  # idempotent


def test_init_central_converts_an_existing_bare_repository(tmp_path: Path) -> None:
    bare = tmp_path / "hosted.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    sync.init_central(bare)
    assert is_ledger(bare) and (bare / "hooks" / "pre-receive").exists()
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    with pytest.raises(LedgerLocationError):
        sync.init_central(work)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x").write_text("x")
    with pytest.raises(LedgerLocationError):
        sync.init_central(tmp_path / "junk")


def test_guard_refuses_a_force_push_even_when_git_would_allow_it(pair: tuple[Path, Path]) -> None:
    ledger, central = pair
    _unprotected(central)
    before = git(central, "rev-parse", f"{S}s1").strip()
    out = _push(ledger, central, f"{S}s1~1:{S}s1", force=True)
    assert out.returncode != 0
    assert f"refused {S}s1: non-fast-forward" in out.stderr
    assert "pre-receive hook declined" in out.stdout
    assert git(central, "rev-parse", f"{S}s1").strip() == before
    # A rewritten history (not an ancestor either) is refused the same way.
    git(
        ledger,
        "update-ref",
        "refs/heads/other",
        git(ledger, "commit-tree", "-m", "x", f"{S}s1^{{tree}}").strip(),
    )
    out = _push(ledger, central, f"refs/heads/other:{S}s1", force=True)
    assert out.returncode != 0 and "non-fast-forward" in out.stderr
    assert git(central, "rev-parse", f"{S}s1").strip() == before
    fsck_clean(central)


def test_guard_refuses_deletions(pair: tuple[Path, Path]) -> None:
    ledger, central = pair
    _unprotected(central)
    git(central, "update-ref", "refs/ledger/checkpoints", f"{S}s1")
    for ref in (f"{S}s1", "refs/ledger/checkpoints"):
        out = _push(ledger, central, f":{ref}")
        assert out.returncode != 0
        assert f"refused {ref}: deleting a ledger ref is not allowed" in out.stderr
        git(central, "rev-parse", "--verify", ref)


def test_guard_refuses_foreign_refs_and_the_whole_push_with_them(
    pair: tuple[Path, Path],
) -> None:
    ledger, central = pair
    logger = ChangeLogger(ledger_dir=ledger, session_id="s2", durable=False)
    logger.log("agent_decision", "more")
    for target in (
        "refs/heads/main",
        "refs/tags/v1",
        "refs/replace/abc",
        "refs/notes/x",
        f"{S}nested/id",
    ):
        out = _push(ledger, central, f"{S}s2:{S}s2", f"{S}s1:{target}")
        assert out.returncode != 0
        assert f"refused {target}:" in out.stderr
    refs = git(central, "for-each-ref", "--format=%(refname)").split()
    assert refs == [f"{S}s1"]  # s2 was in the refused pushes too: all or nothing
    # A session ref must point at a commit.
    out = _push(ledger, central, f"{S}s2^{{tree}}:{S}tree")
    assert out.returncode != 0 and "not a commit" in out.stderr


def test_guard_accepts_new_sessions_fast_forwards_and_ledger_refs(
    pair: tuple[Path, Path],
) -> None:
    ledger, central = pair
    logger = ChangeLogger(ledger_dir=ledger, session_id="s1", durable=False)
    logger.log("agent_decision", "later")
    ChangeLogger(ledger_dir=ledger, session_id="s3", durable=False).log("deployment", "x")
    git(ledger, "update-ref", "refs/ledger/checkpoints", f"{S}s3")
    out = _push(
        ledger,
        central,
        f"{S}s1:{S}s1",
        f"{S}s3:{S}s3",
        "refs/ledger/checkpoints:refs/ledger/checkpoints",
    )
    assert out.returncode == 0, out.stderr
    for ref in (f"{S}s1", f"{S}s3", "refs/ledger/checkpoints"):
        assert git(central, "rev-parse", ref) == git(ledger, "rev-parse", ref)
    fsck_clean(central)


def test_guard_runs_without_git_ledger_installed(pair: tuple[Path, Path], tmp_path: Path) -> None:
    """Only sh and git on PATH: no python, no git-ledger."""
    ledger, central = pair
    _unprotected(central)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git", "sh", "cat", "grep", "sed", "dirname"):
        found = shutil.which(tool)
        assert found is not None
        os.symlink(found, bin_dir / tool)
    env = {**os.environ, "PATH": str(bin_dir), "PYTHONPATH": ""}
    proc = subprocess.run(
        ["git", "--git-dir", str(ledger), "push", "--force", str(central), f"{S}s1~2:{S}s1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode != 0 and "non-fast-forward update" in proc.stderr


def test_push_sends_a_diverged_ledger_ref_under_its_own_name(pair: tuple[Path, Path]) -> None:
    ledger, central = pair
    git(central, "update-ref", "refs/ledger/marker", f"{S}s1~2")
    other = git(ledger, "commit-tree", "-m", "y", f"{S}s1^{{tree}}").strip()
    git(ledger, "update-ref", "refs/ledger/marker", other)
    git(ledger, "config", "ledger.machine", "m")
    sync.add_remote(ledger, "central", central.as_uri())
    result = sync.push(ledger, "central")
    copy = f"refs/ledger/marker--from-m-{other[:8]}"
    assert result.diverged == {"refs/ledger/marker": copy} and result.pushed == [copy]
    assert (
        git(central, "rev-parse", "refs/ledger/marker").strip()
        == git(central, "rev-parse", f"{S}s1~2").strip()
    )
    assert git(central, "rev-parse", copy).strip() == other


def test_existing_pre_receive_hook_is_chained_and_reinstall_is_idempotent(
    pair: tuple[Path, Path],
) -> None:
    ledger, central = pair
    hooks = central / "hooks"
    os.remove(hooks / "pre-receive")
    log = central / "seen.txt"
    (hooks / "pre-receive").write_text(f"#!/bin/sh\ncat >> '{log}'\nexit 0\n")
    os.chmod(hooks / "pre-receive", 0o755)
    sync.install_guard(central)
    sync.install_guard(central)
    assert (hooks / sync.GUARD_CHAINED).exists()
    assert sync.GUARD_MARK in (hooks / "pre-receive").read_text()
    ChangeLogger(ledger_dir=ledger, session_id="s4", durable=False).log("deployment", "x")
    assert _push(ledger, central, f"{S}s4:{S}s4").returncode == 0
    assert f"{S}s4" in log.read_text()  # the old hook saw the push
    _unprotected(central)
    assert _push(ledger, central, f":{S}s4").returncode != 0
    assert log.read_text().count("\n") == 1  # and did not run for the refused one


def test_guard_via_the_cli(tmp_path: Path) -> None:
    bare = tmp_path / "c.git"
    out = run_cli("remote", "init-central", str(bare))
    assert out.returncode == 0 and "central ledger ready" in out.stdout
    os.remove(bare / "hooks" / "pre-receive")
    out = run_cli("remote", "install-guard", str(bare))
    assert out.returncode == 0 and (bare / "hooks" / "pre-receive").exists()
    out = run_cli("remote", "install-guard", str(tmp_path))
    assert out.returncode == 3 and "not a git repository" in out.stderr
