"""``git ledger verify --remote NAME``: a session rewound after it was pushed to a guarded
central is caught even when every local anchor (checkpoint chain, ledger-state/, the
outside anchor in the user's state directory) was wiped. Real centrals, over a local path
and over file://, through the real CLI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger import sync
from ledger._layout import CHECKPOINT_REF, STATE_DIR
from ledger._state import outside_dir
from ledger.write.logger import ChangeLogger
from tests.conftest import fsck_clean, git, run_cli

S = "refs/heads/sessions/"


def verify(ledger: Path, *args: str) -> tuple[int, dict]:
    proc = run_cli("--ledger", str(ledger), "verify", "--json", *args)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def codes(report: dict) -> set[str]:
    return {p["code"] for p in report["problems"]}


@pytest.fixture(params=["path", "file-url"])
def pushed(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    """A ledger with two sessions, checkpointed and pushed to a guarded central."""
    local, central = tmp_path / "local.git", tmp_path / "central.git"
    lg = ChangeLogger(local, session_id="s", durable=False)
    for i in range(3):
        lg.log("deployment", f"v{i}")
    ChangeLogger(local, session_id="t", durable=False).log("deployment", "t")
    sync.init_central(central)
    url = str(central) if request.param == "path" else central.as_uri()
    sync.add_remote(local, "origin", url)
    assert run_cli("--ledger", str(local), "checkpoint").returncode == 0
    assert sync.push(local).ok
    assert git(central, "rev-parse", CHECKPOINT_REF).strip()
    return local, central


def wipe_everything_local(local: Path) -> None:
    git(local, "update-ref", f"{S}s", f"{S}s~1")
    git(local, "update-ref", "-d", CHECKPOINT_REF)
    shutil.rmtree(local / STATE_DIR, ignore_errors=True)
    shutil.rmtree(outside_dir(local), ignore_errors=True)


def test_clean_against_the_central(pushed: tuple[Path, Path]):
    local, central = pushed
    rc, report = verify(local, "--remote", "origin")
    assert rc == 0 and report["ok"], report["problems"]
    assert report["remote_checkpoint"] == git(central, "rev-parse", CHECKPOINT_REF).strip()
    refs = git(local, "for-each-ref", "--format=%(refname)").split()
    assert sorted(refs) == sorted([CHECKPOINT_REF, f"{S}s", f"{S}t"])  # nothing added here
    fsck_clean(local)


def test_rewind_after_push_is_caught_with_all_local_state_wiped(pushed: tuple[Path, Path]):
    local, central = pushed
    wipe_everything_local(local)
    assert run_cli("--ledger", str(local), "checkpoint").returncode == 0
    rc, report = verify(local)
    assert rc == 0 and report["ok"]  # nothing local is left to tell
    before = git(central, "for-each-ref")
    objects = git(local, "count-objects", "-v")
    rc, report = verify(local, "--remote", "origin")
    assert rc == 1 and "remote-session-rewound" in codes(report)
    line = next(p for p in report["problems"] if p["code"] == "remote-session-rewound")
    assert line["subject"] == f"{S}s"
    assert git(central, "for-each-ref") == before  # read-only on the central
    assert git(local, "count-objects", "-v") == objects  # nothing fetched into the ledger
    fsck_clean(local)
    table = run_cli("--ledger", str(local), "verify", "--remote", "origin")
    assert table.returncode == 1 and "remote-session-rewound" in table.stdout


def test_deleted_session_is_caught(pushed: tuple[Path, Path]):
    local, _ = pushed
    git(local, "update-ref", "-d", f"{S}t")
    git(local, "update-ref", "-d", CHECKPOINT_REF)
    shutil.rmtree(outside_dir(local), ignore_errors=True)
    shutil.rmtree(local / STATE_DIR, ignore_errors=True)
    rc, report = verify(local, "--remote", "origin")
    assert rc == 1 and "remote-session-missing" in codes(report)


def test_other_machines_sessions_are_a_note_not_a_problem(
    pushed: tuple[Path, Path], tmp_path: Path
):
    local, central = pushed
    other = tmp_path / "other.git"
    ChangeLogger(other, session_id="elsewhere", durable=False).log("deployment", "x")
    sync.add_remote(other, "origin", str(central))
    assert sync.pull(other).refused == {}
    assert run_cli("--ledger", str(other), "checkpoint").returncode == 0
    assert sync.push(other).ok
    rc, report = verify(local, "--remote", "origin")
    assert rc == 0, report["problems"]
    assert "remote-not-here" in {n["code"] for n in report["unvouched"]}


def test_unknown_remote_and_since_checkpoint_are_one_line_errors(pushed: tuple[Path, Path]):
    local, _ = pushed
    proc = run_cli("--ledger", str(local), "verify", "--remote", "nope")
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("--ledger", str(local), "verify", "--remote", "origin",
                   "--since-checkpoint", "#1")
    assert proc.returncode == 2
