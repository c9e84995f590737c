"""Checkpoints: what they record, when they are refused, and SSH signatures on them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType
from ledger._layout import CHECKPOINT_REF
from ledger.errors import CheckpointError, SigningError
from ledger.trust.checkpoint import SIGNATURE_FILE, list_checkpoints, write_checkpoint
from ledger.trust.signing import NAMESPACE
from ledger.trust.verify import verify_ledger
from tests.conftest import fsck_clean, git, run_cli

needs_ssh_keygen = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed"
)


def keypair(folder: Path, name: str) -> Path:
    """A throwaway ed25519 key (no passphrase)."""
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def allow(allowed: Path, principal: str, key: Path) -> None:
    pub = key.with_suffix(".pub").read_text().strip()
    with open(allowed, "a") as fh:
        fh.write(f'{principal} namespaces="{NAMESPACE}" {pub}\n')


@pytest.fixture
def signed_ledger(ledger_path: Path, workdir: Path, tmp_path: Path) -> Path:
    """A ledger with one session, a signing key and an allowed-signers file configured."""
    ChangeLogger(ledger_path, session_id="s1", workdir=workdir).log("deployment", "v1")
    key = keypair(tmp_path, "alice")
    allowed = tmp_path / "allowed_signers"
    allow(allowed, "alice@example.com", key)
    git(ledger_path, "config", "ledger.signingKey", str(key))
    git(ledger_path, "config", "ledger.allowedSigners", str(allowed))
    return ledger_path


def observations(ledger: Path, ref: str) -> int:
    return len(git(ledger, "log", "--first-parent", "--format=%H", "--grep=^Ledger-Observation:", ref).split())


def test_checkpoint_records_every_tip_and_entry_count(ledger_path: Path, workdir: Path) -> None:
    for sid in ("a", "b"):
        lg = ChangeLogger(ledger_path, session_id=sid, workdir=workdir)
        lg.log("deployment", "start")
        lg.log_file_change("x.txt", ChangeType.FILE_UPDATE, before_content="1", after_content="2")
        lg.log_file_change("x.txt", ChangeType.FILE_UPDATE, before_content="9", after_content="3")
    cp = write_checkpoint(ledger_path)
    for sid in ("a", "b"):
        ref = f"refs/heads/sessions/{sid}"
        commits = int(git(ledger_path, "rev-list", "--count", "--first-parent", ref))
        assert observations(ledger_path, ref) == 2  # two unseen before-states
        assert cp.sessions[sid].entries == commits - 2 == 3
        assert cp.sessions[sid].tip == git(ledger_path, "rev-parse", ref).strip()
    assert cp.sequence == 1 and cp.previous is None and not cp.signed
    # The checkpoint is a plain commit anyone can read with git.
    stored = json.loads(git(ledger_path, "show", f"{CHECKPOINT_REF}:checkpoint.json"))
    assert stored["sessions"]["a"] == {"tip": cp.sessions["a"].tip, "entries": 3}
    # The next one counts incrementally and chains to the first.
    ChangeLogger(ledger_path, session_id="a", workdir=workdir).log("deployment", "more")
    cp2 = write_checkpoint(ledger_path)
    assert cp2.sequence == 2 and cp2.previous == cp.id
    assert cp2.sessions["a"].entries == 4 and cp2.sessions["b"] == cp.sessions["b"]
    assert git(ledger_path, "rev-parse", f"{CHECKPOINT_REF}~1").strip() == cp.id
    assert [c.id for c in list_checkpoints(ledger_path)] == [cp2.id, cp.id]
    fsck_clean(ledger_path)


def test_checkpoint_cli_prints_the_checkpoint(ledger_path: Path, workdir: Path) -> None:
    ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "x")
    proc = run_cli("--ledger", str(ledger_path), "checkpoint")
    assert proc.returncode == 0, proc.stderr
    head = git(ledger_path, "rev-parse", CHECKPOINT_REF).strip()
    assert proc.stdout == f"checkpoint #1 {head[:12]} (unsigned): 1 session, 1 entry\n"
    data = json.loads(run_cli("--ledger", str(ledger_path), "checkpoint", "--json").stdout)
    assert data["sequence"] == 2 and data["previous"] == head


def test_checkpoint_is_refused_after_a_rewind_or_an_unarchived_deletion(
    ledger_path: Path, workdir: Path
) -> None:
    lg = ChangeLogger(ledger_path, session_id="s", workdir=workdir)
    for i in range(3):
        lg.log("deployment", f"v{i}")
    ChangeLogger(ledger_path, session_id="t", workdir=workdir).log("deployment", "t")
    write_checkpoint(ledger_path)
    tip = git(ledger_path, "rev-parse", "refs/heads/sessions/s").strip()
    git(ledger_path, "update-ref", "refs/heads/sessions/s", "refs/heads/sessions/s~1")
    with pytest.raises(CheckpointError, match="session s no longer descends"):
        write_checkpoint(ledger_path)
    git(ledger_path, "update-ref", "refs/heads/sessions/s", tip)
    git(ledger_path, "update-ref", "-d", "refs/heads/sessions/t")
    with pytest.raises(CheckpointError, match=r"session t recorded in checkpoint #1 \(\w+\) is gone"):
        write_checkpoint(ledger_path)
    assert len(list_checkpoints(ledger_path)) == 1  # nothing written


def test_archived_session_is_retired_not_missing(ledger_path: Path, workdir: Path) -> None:
    for sid in ("keep", "old"):
        ChangeLogger(ledger_path, session_id=sid, workdir=workdir).log("deployment", sid)
    write_checkpoint(ledger_path)
    (ledger_path / "archive").mkdir()
    git(ledger_path, "bundle", "create", str(ledger_path / "archive" / "old.bundle"),
        "refs/heads/sessions/old")
    git(ledger_path, "update-ref", "-d", "refs/heads/sessions/old")
    report = verify_ledger(ledger_path)
    assert report.ok, report.problems
    assert ("retired", "refs/heads/sessions/old") in {(f.code, f.subject) for f in report.unvouched}
    cp = write_checkpoint(ledger_path)
    assert "old" not in cp.sessions and cp.retired["old"]["archive"] == "old.bundle"
    assert verify_ledger(ledger_path).ok


@needs_ssh_keygen
def test_signed_checkpoint_verifies_and_names_its_signer(signed_ledger: Path) -> None:
    cp = write_checkpoint(signed_ledger)
    assert cp.signed
    sig = git(signed_ledger, "show", f"{CHECKPOINT_REF}:{SIGNATURE_FILE}")
    assert sig.startswith("-----BEGIN SSH SIGNATURE-----")
    report = verify_ledger(signed_ledger)
    assert report.ok, report.problems
    assert report.signers == ["alice@example.com"] and report.signed_checkpoints == 1
    assert not any(f.code in ("unsigned", "unsigned-period") for f in report.unvouched)
    proc = run_cli("--ledger", str(signed_ledger), "verify")
    assert proc.returncode == 0 and "signed by alice@example.com" in proc.stdout


def forge(ledger: Path, payload: bytes, signature: bytes | None) -> str:
    """Append a checkpoint commit made by hand, as an attacker with write access would."""
    lines = [f"100644 blob {git(ledger, 'hash-object', '-w', '--stdin', input=payload.decode()).strip()}\tcheckpoint.json"]
    if signature is not None:
        sig = git(ledger, "hash-object", "-w", "--stdin", input=signature.decode()).strip()
        lines.append(f"100644 blob {sig}\t{SIGNATURE_FILE}")
    tree = git(ledger, "mktree", input="\n".join(lines) + "\n").strip()
    head = git(ledger, "rev-parse", CHECKPOINT_REF).strip()
    commit = git(ledger, "commit-tree", tree, "-p", head, "-m", "checkpoint").strip()
    git(ledger, "update-ref", CHECKPOINT_REF, commit)
    return commit


def next_payload(ledger: Path, **changes: object) -> bytes:
    from ledger.entry import canonical_json

    head = git(ledger, "rev-parse", CHECKPOINT_REF).strip()
    data = json.loads(git(ledger, "show", f"{CHECKPOINT_REF}:checkpoint.json"))
    data.update(sequence=data["sequence"] + 1, previous=head, **changes)
    return canonical_json(data)


def sign(key: Path, payload: bytes, namespace: str = NAMESPACE) -> bytes:
    return subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-q", "-f", str(key), "-n", namespace],
        input=payload, capture_output=True, check=True,
    ).stdout


def problem_codes(ledger: Path) -> list[tuple[str, str]]:
    return [(f.code, f.subject) for f in verify_ledger(ledger).problems]


@needs_ssh_keygen
def test_forged_unsigned_checkpoint_is_detected(signed_ledger: Path) -> None:
    write_checkpoint(signed_ledger)
    # Rewind the session and launder it with an unsigned checkpoint of the rewound state.
    git(signed_ledger, "update-ref", "-d", "refs/heads/sessions/s1")
    forged = forge(signed_ledger, next_payload(signed_ledger, sessions={}), None)
    found = problem_codes(signed_ledger)
    assert ("checkpoint-unsigned", f"checkpoint #2 ({forged[:12]})") in found
    assert ("session-missing", "refs/heads/sessions/s1") in found


@needs_ssh_keygen
def test_signature_by_an_unknown_key_is_detected(signed_ledger: Path, tmp_path: Path) -> None:
    write_checkpoint(signed_ledger)
    mallory = keypair(tmp_path, "mallory")
    payload = next_payload(signed_ledger)
    forged = forge(signed_ledger, payload, sign(mallory, payload))
    assert problem_codes(signed_ledger) == [("signature-unknown-key", f"checkpoint #2 ({forged[:12]})")]


@needs_ssh_keygen
def test_signature_in_another_namespace_is_detected(signed_ledger: Path, tmp_path: Path) -> None:
    write_checkpoint(signed_ledger)
    payload = next_payload(signed_ledger)
    key = Path(git(signed_ledger, "config", "ledger.signingKey").strip())
    forged = forge(signed_ledger, payload, sign(key, payload, namespace="git"))
    assert problem_codes(signed_ledger) == [("signature-namespace", f"checkpoint #2 ({forged[:12]})")]


@needs_ssh_keygen
def test_signature_over_other_content_is_detected(signed_ledger: Path) -> None:
    cp = write_checkpoint(signed_ledger)
    assert cp.signature is not None
    payload = next_payload(signed_ledger)
    forged = forge(signed_ledger, payload, cp.signature)  # a real signature, of #1's payload
    assert problem_codes(signed_ledger) == [("signature-invalid", f"checkpoint #2 ({forged[:12]})")]


@needs_ssh_keygen
def test_unsigned_period_before_signing_began_is_reported(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "v1")
    write_checkpoint(ledger_path)
    write_checkpoint(ledger_path)
    key = keypair(tmp_path, "ops")
    allowed = tmp_path / "allowed"
    allow(allowed, "ops", key)
    git(ledger_path, "config", "ledger.signingKey", str(key))
    git(ledger_path, "config", "ledger.allowedSigners", str(allowed))
    write_checkpoint(ledger_path)
    report = verify_ledger(ledger_path)
    assert report.ok, report.problems
    assert ("unsigned-period", "checkpoints #1-#2") in {(f.code, f.subject) for f in report.unvouched}


def test_signing_without_a_key_is_a_clear_error(ledger_path: Path, workdir: Path) -> None:
    ChangeLogger(ledger_path, session_id="s", workdir=workdir).log("deployment", "v1")
    with pytest.raises(SigningError, match="no signing key configured"):
        write_checkpoint(ledger_path, sign=True)
    git(ledger_path, "config", "ledger.signingKey", str(ledger_path / "no-such-key"))
    proc = run_cli("--ledger", str(ledger_path), "checkpoint")
    assert proc.returncode == 3 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert git(ledger_path, "for-each-ref", CHECKPOINT_REF) == ""


@needs_ssh_keygen
def test_entry_commits_are_signed_when_asked_and_checked(signed_ledger: Path, tmp_path: Path) -> None:
    unsigned = ChangeLogger(signed_ledger, session_id="s1").log("deployment", "before signing")
    assert "gpgsig" not in git(signed_ledger, "cat-file", "commit", unsigned.id)  # the default
    git(signed_ledger, "config", "ledger.signEntries", "true")
    lg = ChangeLogger(signed_ledger, session_id="s1")
    signed = [lg.log("deployment", f"signed {i}") for i in range(2)]
    with lg.batch():
        signed.append(lg.log("deployment", "signed in a batch"))
    for entry in signed:
        raw = git(signed_ledger, "cat-file", "commit", entry.id)
        assert "gpgsig -----BEGIN SSH SIGNATURE-----" in raw
    fsck_clean(signed_ledger)
    report = verify_ledger(signed_ledger)
    assert report.ok, report.problems
    assert report.signed_entries == 3
    notes = {(f.code, f.subject, f.message) for f in report.unvouched}
    assert (
        "unsigned-period",
        "refs/heads/sessions/s1",
        "2 entries before entry signing began are not signed",
    ) in notes
    # An entry signed by a key that is not allowed is named.
    mallory = keypair(tmp_path, "mallory")
    git(signed_ledger, "config", "ledger.signingKey", str(mallory))
    bad = ChangeLogger(signed_ledger, session_id="s1").log("deployment", "by mallory")
    assert problem_codes(signed_ledger) == [("signature-unknown-key", f"entry {bad.id}")]


@needs_ssh_keygen
def test_unsigned_entry_after_signed_ones_is_detected(signed_ledger: Path) -> None:
    git(signed_ledger, "config", "ledger.signEntries", "true")
    ChangeLogger(signed_ledger, session_id="s1").log("deployment", "signed")
    git(signed_ledger, "config", "ledger.signEntries", "false")
    forged = ChangeLogger(signed_ledger, session_id="s1").log("deployment", "not signed")
    assert problem_codes(signed_ledger) == [("entry-unsigned", f"entry {forged.id}")]


def test_entry_signing_without_a_key_is_refused_before_writing(ledger_path: Path) -> None:
    ChangeLogger(ledger_path, session_id="s").log("deployment", "v1")
    git(ledger_path, "config", "ledger.signEntries", "true")
    tip = git(ledger_path, "rev-parse", "refs/heads/sessions/s")
    with pytest.raises(SigningError, match="ledger.signingKey is not"):
        ChangeLogger(ledger_path, session_id="s").log("deployment", "v2")
    assert git(ledger_path, "rev-parse", "refs/heads/sessions/s") == tip


def test_stale_checkpoint_ref_lock_is_recovered(ledger_path: Path) -> None:
    import os
    import time

    ChangeLogger(ledger_path, session_id="s").log("deployment", "v1")
    first = write_checkpoint(ledger_path)
    lock = ledger_path / "refs" / "ledger" / "checkpoints.lock"
    lock.write_text(first.id + "\n")  # left by a checkpoint writer killed mid-update
    old = time.time() - 60
    os.utime(lock, (old, old))
    second = write_checkpoint(ledger_path)
    assert second.previous == first.id and not lock.exists()
    assert "stale ref lock checkpoints.lock" in (ledger_path / "ledger-recovery.log").read_text()
