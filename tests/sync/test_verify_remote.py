"""`git ledger verify --remote NAME`: a session rewound after it was pushed is caught even
when every local anchor (checkpoints, ledger-state/, the state directory) was wiped.

A real guarded central, reached over file:// and as a local path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger import ChangeLogger, sync
from ledger._layout import CHECKPOINT_REF, STATE_DIR, STAGING_PREFIX
from ledger._statedir import state_dir
from tests.conftest import fsck_clean, git, run_cli


def cli(ledger: Path, *args: str):
    return run_cli("--ledger", str(ledger), *args)


@pytest.fixture(params=["file", "path"])
def pushed(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    """A ledger with two sessions, checkpointed and pushed to a guarded central."""
    local, central = tmp_path / "local.git", tmp_path / "central.git"
    for sid in ("s1", "s2"):
        log = ChangeLogger(local, session_id=sid, workdir=tmp_path, durable=False)
        for n in range(3):
            log.log("deployment", f"{sid} release {n}")
    sync.init_central(central)
    url = central.as_uri() if request.param == "file" else str(central)
    assert cli(local, "remote", "add", "origin", url).returncode == 0
    assert cli(local, "checkpoint").returncode == 0
    proc = cli(local, "push")
    assert proc.returncode == 0, proc.stderr
    assert git(central, "rev-parse", CHECKPOINT_REF).strip()
    return local, central


def verify_remote(local: Path) -> tuple[int, dict]:
    proc = cli(local, "verify", "--remote", "origin", "--json")
    return proc.returncode, json.loads(proc.stdout)


def test_intact_ledger_verifies_against_its_central(pushed: tuple[Path, Path]) -> None:
    local, central = pushed
    before = git(central, "for-each-ref")
    rc, report = verify_remote(local)
    assert rc == 0 and report["problems"] == []
    # Read-only: the central is untouched, and no scratch ref stays behind here.
    assert git(central, "for-each-ref") == before
    assert STAGING_PREFIX + "origin/verify" not in git(local, "for-each-ref")
    fsck_clean(local)


def test_rewound_after_push_is_caught_with_everything_local_wiped(
    pushed: tuple[Path, Path],
) -> None:
    local, _central = pushed
    git(local, "update-ref", "refs/heads/sessions/s1", "refs/heads/sessions/s1~1")
    git(local, "update-ref", "-d", CHECKPOINT_REF)
    shutil.rmtree(local / STATE_DIR, ignore_errors=True)
    shutil.rmtree(state_dir(local), ignore_errors=True)
    assert cli(local, "checkpoint").returncode == 0
    # Nothing local can tell any more ...
    assert cli(local, "verify").returncode == 0
    # ... the central's checkpoints can, in one line naming the session.
    rc, report = verify_remote(local)
    assert rc == 1
    assert [(p["code"], p["subject"]) for p in report["problems"]] == [
        ("remote-rewound", "refs/heads/sessions/s1")
    ]
    text = cli(local, "verify", "--remote", "origin").stdout
    line = next(ln for ln in text.splitlines() if "remote-rewound" in ln)
    assert "does not descend" in line and "origin" in line


def test_deleted_session_is_caught(pushed: tuple[Path, Path]) -> None:
    local, _central = pushed
    git(local, "update-ref", "-d", "refs/heads/sessions/s2")
    shutil.rmtree(state_dir(local), ignore_errors=True)
    rc, report = verify_remote(local)
    assert rc == 1 and "remote-session-missing" in [p["code"] for p in report["problems"]]


def test_unknown_remote_is_a_clear_error(pushed: tuple[Path, Path]) -> None:
    local, _central = pushed
    proc = cli(local, "verify", "--remote", "nowhere")
    assert proc.returncode not in (0, 1) and "Traceback" not in proc.stderr
    assert "nowhere" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_central_without_checkpoints_is_noted(tmp_path: Path) -> None:
    local, central = tmp_path / "local.git", tmp_path / "central.git"
    ChangeLogger(local, session_id="s1", workdir=tmp_path, durable=False).log("deployment", "v1")
    sync.init_central(central)
    assert cli(local, "remote", "add", "origin", str(central)).returncode == 0
    rc, report = verify_remote(local)
    assert rc == 0
    assert "remote-no-checkpoint" in [n["code"] for n in report["unvouched"]]
