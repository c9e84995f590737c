"""Where the ledger lives, and what happens when that place is unusable."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from ledger import ChangeLogger
from ledger._store import LedgerStore
from ledger.errors import LedgerLocationError, LedgerNotFoundError
from ledger.location import default_ledger_dir, resolve_ledger_dir
from tests.conftest import fsck_clean, git, run_cli


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    assert resolve_ledger_dir(None, cwd=work) == default_ledger_dir()
    assert str(default_ledger_dir()).endswith("git-ledger/ledger.git")
    subprocess.run(["git", "-C", str(work), "config", "ledger.dir", "../shared.git"], check=True)
    assert resolve_ledger_dir(None, cwd=work / ".") == (work / "../shared.git").absolute()
    monkeypatch.setenv("GIT_LEDGER_DIR", str(tmp_path / "env.git"))
    assert resolve_ledger_dir(None, cwd=work) == tmp_path / "env.git"
    assert resolve_ledger_dir(tmp_path / "explicit.git", cwd=work) == tmp_path / "explicit.git"


def test_default_location_is_created_on_first_write(isolated_git: Path, workdir: Path) -> None:
    logger = ChangeLogger(session_id="s", workdir=workdir)
    assert not logger.ledger_dir.exists()  # nothing until the first write
    logger.log("api_call", "x")
    expected = isolated_git / ".local" / "share" / "git-ledger" / "ledger.git"
    assert logger.ledger_dir == expected and expected.is_dir()
    fsck_clean(expected)


def test_reads_never_create_a_ledger(ledger_path: Path) -> None:
    with pytest.raises(LedgerNotFoundError, match=str(ledger_path)):
        LedgerStore(ledger_path)
    assert not ledger_path.exists()


def test_unusable_locations_are_clear_errors(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(LedgerLocationError, match="not a directory"):
        ChangeLogger(ledger_dir=afile, session_id="s").log("api_call", "x")
    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", "--bare", str(other)], check=True)
    (other / "refs" / "heads" / "main").write_text("0" * 40 + "\n")
    with pytest.raises(LedgerLocationError, match="not a git-ledger repository"):
        ChangeLogger(ledger_dir=other, session_id="s").log("api_call", "x")
    under_file = afile / "ledger.git"
    with pytest.raises(LedgerLocationError, match="cannot create ledger"):
        ChangeLogger(ledger_dir=under_file, session_id="s").log("api_call", "x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_parent(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(LedgerLocationError, match="not writable"):
        ChangeLogger(ledger_dir=ro / "l.git", session_id="s").log("api_call", "x")


def test_cli_reports_location_errors_in_one_line(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    proc = run_cli("--ledger", str(afile), "log", "--type", "api_call", "-m", "x")
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "not a directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_concurrent_first_writers_share_one_ledger(ledger_path: Path, workdir: Path) -> None:
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            ChangeLogger(ledger_dir=ledger_path, session_id=f"s{i}", workdir=workdir).log(
                "api_call", f"writer {i}"
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(git(ledger_path, "for-each-ref", "refs/heads/sessions/").splitlines()) == 8
    assert not [p for p in ledger_path.parent.iterdir() if ".init-" in p.name]
    fsck_clean(ledger_path)


def test_environment_names_the_session(
    ledger_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_LEDGER_SESSION", "run-42")
    monkeypatch.setenv("GIT_LEDGER_AGENT", "ci-bot")
    a = ChangeLogger(ledger_dir=ledger_path, workdir=workdir)
    b = ChangeLogger(ledger_dir=ledger_path, workdir=workdir)
    a.log("api_call", "one")
    b.log("api_call", "two")
    assert a.session_id == b.session_id == "run-42"
    assert git(ledger_path, "log", "--format=%an %s", "sessions/run-42").splitlines() == [
        "ci-bot api_call: two",
        "ci-bot api_call: one",
    ]


def test_new_sessions_get_fresh_ids(ledger_path: Path) -> None:
    a, b = ChangeLogger(ledger_dir=ledger_path), ChangeLogger(ledger_dir=ledger_path)
    assert a.session_id != b.session_id
