"""The trust anchor outside the ledger folder: erasure is caught after the folder's own
anchors (checkpoint chain, ledger-state/, the ledger's allowedSigners) are wiped.

Everything runs through the real CLI and real git; signing uses real ssh-keygen keys.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ledger import ChangeLogger
from ledger._layout import CHECKPOINT_REF, STATE_DIR
from ledger._state import outside_dir
from tests.conftest import git, run_cli
from tests.trust.test_checkpoint import allow, keypair, needs_ssh_keygen


def cli(ledger: Path, *args: str):
    return run_cli("--ledger", str(ledger), *args)


def verify(ledger: Path) -> dict:
    proc = cli(ledger, "verify", "--json")
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def codes(report: dict) -> set[str]:
    return {p["code"] for p in report["problems"]}


def three_entries(ledger: Path, workdir: Path) -> None:
    lg = ChangeLogger(ledger, session_id="s", workdir=workdir)
    for i in range(3):
        lg.log("deployment", f"v{i}")
    ChangeLogger(ledger, session_id="t", workdir=workdir).log("deployment", "t")


def wipe_inside(ledger: Path) -> None:
    """The attacker: rewind session s by one entry, delete the folder's own anchors."""
    git(ledger, "update-ref", "refs/heads/sessions/s", "refs/heads/sessions/s~1")
    git(ledger, "update-ref", "-d", CHECKPOINT_REF)
    shutil.rmtree(ledger / STATE_DIR)
    git(ledger, "config", "--unset", "ledger.allowedSigners", check=False)


def test_anchor_is_written_outside_by_checkpoint_and_verify(ledger_path: Path, workdir: Path):
    three_entries(ledger_path, workdir)
    assert cli(ledger_path, "checkpoint").returncode == 0
    anchor = outside_dir(ledger_path) / "anchor.json"
    data = json.loads(anchor.read_text())
    assert data["sequence"] == 1 and data["sessions"]["s"]["entries"] == 3
    assert not anchor.is_relative_to(ledger_path)
    assert oct(anchor.stat().st_mode & 0o777) == "0o600"
    assert verify(ledger_path)["ok"]
    assert outside_dir(ledger_path).is_relative_to(Path(os.environ["XDG_STATE_HOME"]))


def test_erasure_with_inside_anchors_wiped_is_caught(ledger_path: Path, workdir: Path):
    three_entries(ledger_path, workdir)
    assert cli(ledger_path, "checkpoint").returncode == 0
    assert verify(ledger_path)["ok"]
    wipe_inside(ledger_path)
    assert cli(ledger_path, "checkpoint").returncode == 0  # a fresh chain from #1
    report = verify(ledger_path)
    assert not report["ok"]
    assert {"anchor-chain-replaced", "anchor-session-rewound"} <= codes(report)
    line = next(p for p in report["problems"] if p["code"] == "anchor-session-rewound")
    assert line["subject"] == "refs/heads/sessions/s" and "erased" in line["message"]
    proc = cli(ledger_path, "verify")
    assert proc.returncode != 0 and "anchor-session-rewound" in proc.stdout + proc.stderr
    # a later checkpoint never moves the outside anchor back to the rewound state
    assert cli(ledger_path, "checkpoint").returncode == 0
    assert not verify(ledger_path)["ok"]


def test_checkpoints_deleted_is_a_rollback(ledger_path: Path, workdir: Path):
    three_entries(ledger_path, workdir)
    for _ in range(2):
        assert cli(ledger_path, "checkpoint").returncode == 0
    assert verify(ledger_path)["ok"]
    git(ledger_path, "update-ref", "-d", CHECKPOINT_REF)
    shutil.rmtree(ledger_path / STATE_DIR)
    assert "anchor-rollback" in codes(verify(ledger_path))


def test_erasure_without_any_checkpoint_is_caught_after_a_clean_verify(
    ledger_path: Path, workdir: Path
):
    three_entries(ledger_path, workdir)
    assert verify(ledger_path)["ok"]  # no checkpoint: the anchor still holds tips and counts
    git(ledger_path, "update-ref", "-d", "refs/heads/sessions/t")
    assert "anchor-session-missing" in codes(verify(ledger_path))


@needs_ssh_keygen
def test_signed_ledger_erasure_and_signing_turned_off_are_caught(
    ledger_path: Path, workdir: Path, tmp_path: Path
):
    three_entries(ledger_path, workdir)
    key = keypair(tmp_path, "alice")
    allowed = tmp_path / "allowed_signers"
    allow(allowed, "alice@example.com", key)
    git(ledger_path, "config", "ledger.signingKey", str(key))
    git(ledger_path, "config", "ledger.allowedSigners", str(allowed))
    assert cli(ledger_path, "checkpoint").returncode == 0
    assert verify(ledger_path)["ok"]
    wipe_inside(ledger_path)
    git(ledger_path, "config", "--unset", "ledger.signingKey")
    assert cli(ledger_path, "checkpoint").returncode == 0  # unsigned now
    report = verify(ledger_path)
    assert {"anchor-signing-off", "anchor-chain-replaced", "anchor-session-rewound"} <= codes(
        report
    )


@needs_ssh_keygen
def test_allowed_signers_from_the_users_global_config(
    ledger_path: Path, workdir: Path, tmp_path: Path
):
    """Unsetting the ledger's own allowedSigners does not turn checks off when the user's
    global git config names them: a forged unsigned checkpoint still fails."""
    three_entries(ledger_path, workdir)
    key = keypair(tmp_path, "alice")
    allowed = tmp_path / "allowed_signers"
    allow(allowed, "alice@example.com", key)
    home = Path(os.environ["HOME"])
    (home / ".gitconfig").write_text(f"[ledger]\n\tallowedSigners = {allowed}\n")
    git(ledger_path, "config", "ledger.signingKey", str(key))
    assert cli(ledger_path, "checkpoint").returncode == 0
    report = verify(ledger_path)
    assert report["ok"] and report["signers"] == ["alice@example.com"]
    git(ledger_path, "config", "--unset", "ledger.signingKey")
    assert cli(ledger_path, "checkpoint").returncode == 0  # unsigned, after a signed one
    assert "checkpoint-unsigned" in codes(verify(ledger_path))


def test_legitimate_growth_keeps_verify_clean(ledger_path: Path, workdir: Path):
    three_entries(ledger_path, workdir)
    assert cli(ledger_path, "checkpoint").returncode == 0
    assert verify(ledger_path)["ok"]
    ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "v4")
    assert verify(ledger_path)["ok"]
    assert cli(ledger_path, "checkpoint").returncode == 0
    assert verify(ledger_path)["ok"]
    data = json.loads((outside_dir(ledger_path) / "anchor.json").read_text())
    assert data["sequence"] == 2 and data["sessions"]["s"]["entries"] == 4
