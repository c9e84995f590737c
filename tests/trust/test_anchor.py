"""Erasure is caught after everything inside the ledger folder that vouches for it was wiped.

The issue's scenario through the real CLI: rewind a session, delete the checkpoint chain and
``ledger-state/``, unset ``ledger.allowedSigners`` in the ledger's config, write a fresh
checkpoint; verify must still fail, on the state kept under ``$XDG_STATE_HOME``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ledger import ChangeLogger
from ledger._layout import CHECKPOINT_REF, STATE_DIR
from ledger._statedir import state_dir
from tests.conftest import git, run_cli
from tests.trust.test_checkpoint import allow, keypair, needs_ssh_keygen


def cli(ledger: Path, *args: str):
    return run_cli("--ledger", str(ledger), *args)


def problems(ledger: Path) -> tuple[int, list[str], str]:
    proc = cli(ledger, "verify", "--json")
    codes = [p["code"] for p in json.loads(proc.stdout)["problems"]]
    text = cli(ledger, "verify").stdout
    return proc.returncode, codes, text


def build(ledger: Path, workdir: Path) -> None:
    for sid in ("s1", "s2"):
        log = ChangeLogger(ledger, session_id=sid, workdir=workdir, durable=False)
        for n in range(3):
            log.log("deployment", f"{sid} release {n}")


def wipe_and_rewind(ledger: Path) -> None:
    """The attack: erase the newest entry of s1 and every anchor inside the folder."""
    git(ledger, "update-ref", "refs/heads/sessions/s1", "refs/heads/sessions/s1~1")
    git(ledger, "update-ref", "-d", CHECKPOINT_REF)
    shutil.rmtree(ledger / STATE_DIR, ignore_errors=True)
    git(ledger, "config", "--unset", "ledger.allowedSigners")
    git(ledger, "config", "--unset", "ledger.signingKey")
    proc = cli(ledger, "checkpoint")
    assert proc.returncode == 0, proc.stderr


@needs_ssh_keygen
def test_rewind_with_anchors_wiped_and_signing_unset_fails_verify(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    build(ledger, tmp_path)
    key = keypair(tmp_path, "alice")
    allowed = tmp_path / "allowed_signers"
    allow(allowed, "alice@example.com", key)
    git(ledger, "config", "ledger.signingKey", str(key))
    git(ledger, "config", "ledger.allowedSigners", str(allowed))
    assert cli(ledger, "checkpoint").returncode == 0
    assert cli(ledger, "checkpoint").returncode == 0  # sequence 2
    rc, codes, _ = problems(ledger)
    assert rc == 0 and codes == []
    recorded = json.loads((state_dir(ledger) / "verified.json").read_text())
    assert recorded["sequence"] == 2 and recorded["signing"] is True
    assert recorded["sessions"]["s1"]["entries"] == 3
    assert oct(os.stat(state_dir(ledger)).st_mode & 0o777) == "0o700"

    wipe_and_rewind(ledger)
    rc, codes, text = problems(ledger)
    assert rc != 0
    assert {"anchor-rollback", "anchor-rewound", "anchor-signing"} <= set(codes)
    line = next(ln for ln in text.splitlines() if "sessions/s1" in ln)
    assert "does not descend" in line and str(state_dir(ledger)) in line
    # It keeps failing: the outside record never moves back to the rewound state.
    assert cli(ledger, "checkpoint").returncode == 0
    assert problems(ledger)[0] != 0

    # Without the outside record, the same wiped ledger looks clean: the record caught it.
    shutil.rmtree(state_dir(ledger))
    assert problems(ledger)[:2] == (0, [])


def test_unsigned_rewind_with_anchors_wiped_fails_verify(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    build(ledger, tmp_path)
    git(ledger, "config", "ledger.allowedSigners", str(tmp_path / "unused"))
    git(ledger, "config", "--unset", "ledger.allowedSigners")
    assert cli(ledger, "checkpoint").returncode == 0  # recorded outside at checkpoint time
    git(ledger, "update-ref", "refs/heads/sessions/s1", "refs/heads/sessions/s1~1")
    git(ledger, "update-ref", "-d", CHECKPOINT_REF)
    shutil.rmtree(ledger / STATE_DIR, ignore_errors=True)
    rc, codes, _ = problems(ledger)
    assert rc != 0 and "anchor-rollback" in codes and "anchor-rewound" in codes


def test_deleted_session_and_shrunk_count_are_caught(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    build(ledger, tmp_path)
    assert problems(ledger)[:2] == (0, [])  # a clean verify records the state, no checkpoint
    git(ledger, "update-ref", "-d", "refs/heads/sessions/s2")
    rc, codes, text = problems(ledger)
    assert rc != 0 and codes == ["anchor-session-missing"]
    assert "sessions/s2" in text


@needs_ssh_keygen
def test_allowed_signers_from_the_users_global_config(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.git"
    build(ledger, tmp_path)
    key = keypair(tmp_path, "alice")
    allowed = tmp_path / "allowed_signers"
    allow(allowed, "alice@example.com", key)
    git(ledger, "config", "--global", "ledger.allowedSigners", str(allowed))
    git(ledger, "config", "ledger.signingKey", str(key))
    assert cli(ledger, "checkpoint").returncode == 0
    assert problems(ledger)[:2] == (0, [])
    # The ledger's own config cannot switch the check off: an unsigned checkpoint fails.
    git(ledger, "config", "--unset", "ledger.signingKey")
    git(ledger, "config", "ledger.allowedSigners", "")
    assert cli(ledger, "checkpoint").returncode == 0
    rc, codes, _ = problems(ledger)
    assert rc != 0 and "checkpoint-unsigned" in codes


@pytest.mark.parametrize("bad", ["not json", json.dumps({"sessions": 3})])
def test_an_unreadable_record_is_not_a_false_alarm(tmp_path: Path, bad: str) -> None:
    ledger = tmp_path / "ledger.git"
    build(ledger, tmp_path)
    state_dir(ledger).mkdir(parents=True)
    (state_dir(ledger) / "verified.json").write_text(bad)
    assert problems(ledger)[:2] == (0, [])
