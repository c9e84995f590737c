"""Tamper evidence: each way of altering a ledger is detected by verify and named.

Also: verify and a concurrent maintenance: packing must not look like lost objects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from ledger import ChangeLogger, ChangeType
from ledger._layout import CHECKPOINT_REF
from ledger.entry import canonical_json
from ledger.lifecycle.storage import LogStorage
from ledger.trust.checkpoint import write_checkpoint
from ledger.trust.findings import VerifyReport
from ledger.trust.verify import verify_ledger
from tests.conftest import fsck_clean, git, module_template, run_cli

SESSIONS = ("alpha", "beta", "gamma")


def populate(ledger: Path, workdir: Path, entries: int = 5) -> None:
    """Three sessions with decisions, commands and file changes (observations included)."""
    for sid in SESSIONS:
        lg = ChangeLogger(ledger, agent_id=f"agent-{sid}", session_id=sid, workdir=workdir)
        for i in range(entries):
            if i % 2:
                lg.log_file_change(
                    f"src/{sid}.py",
                    ChangeType.FILE_UPDATE,
                    before_content=f"v{i}\n",  # unseen before-state: an observation commit
                    after_content=f"v{i + 1}\n",
                )
            else:
                lg.log_agent_decision(f"step {i} of {sid}", "because", {"i": i})


def first_parent_line(ledger: Path, ref: str) -> list[str]:
    """Commit ids of a ref, oldest first."""
    return git(ledger, "rev-list", "--first-parent", "--reverse", ref).split()


def codes(report: VerifyReport) -> set[tuple[str, str]]:
    return {(f.code, f.subject) for f in report.problems}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One checkpointed ledger per module, built with git isolated from the machine."""
    with module_template(tmp_path_factory, "template") as (ledger, work):
        populate(ledger, work)
        write_checkpoint(ledger)
    return ledger


@pytest.fixture
def checkpointed(template: Path, ledger_path: Path) -> Path:
    """A fresh copy of the template: three sessions of five entries, one checkpoint."""
    shutil.copytree(template, ledger_path, symlinks=True)
    return ledger_path


def commit_env(ledger: Path, commit: str) -> dict[str, str]:
    """Author and committer of a commit, to recreate it as a careful forger would."""
    fmt = "%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd"
    an, ae, ad, cn, ce, cd = git(ledger, "show", "-s", f"--format={fmt}", "--date=raw", commit).split("\0")
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": ad,
        "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce, "GIT_COMMITTER_DATE": cd.strip(),
    }


def commit_tree(ledger: Path, tree: str, parent: str | None, message: str, env: dict[str, str]) -> str:
    args = ["git", "--git-dir", str(ledger), "commit-tree", tree]
    if parent:
        args += ["-p", parent]
    proc = subprocess.run(args, input=message, text=True, capture_output=True, env=env, check=True)
    return proc.stdout.strip()


def test_untouched_ledger_verifies_clean(checkpointed: Path, workdir: Path) -> None:
    ChangeLogger(checkpointed, session_id="alpha", workdir=workdir).log("deployment", "after")
    report = verify_ledger(checkpointed)
    assert report.ok, report.problems
    assert report.sessions == 3
    assert report.entries_checked == 16
    notes = {(f.code, f.subject) for f in report.unvouched}
    assert ("after-checkpoint", "refs/heads/sessions/alpha") in notes
    assert any(f.code == "unsigned" for f in report.unvouched)  # no signers configured
    proc = run_cli("--ledger", str(checkpointed), "verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("verify: clean")
    assert "1 entry after checkpoint #1" in proc.stdout
    data = json.loads(run_cli("--ledger", str(checkpointed), "verify", "--json").stdout)
    assert data["ok"] is True and data["verdict"] == "clean" and data["problems"] == []


def test_without_checkpoint_verify_says_what_it_cannot_vouch_for(
    ledger_path: Path, workdir: Path
) -> None:
    populate(ledger_path, workdir, entries=2)
    report = verify_ledger(ledger_path)
    assert report.ok
    assert [f.code for f in report.unvouched] == ["no-checkpoint"]


def test_edited_middle_entry_with_rest_rewritten_is_detected(checkpointed: Path) -> None:
    line = first_parent_line(checkpointed, "refs/heads/sessions/alpha")
    middle = len(line) // 2
    target = line[middle]
    # Edit entry.json (and the commit message to match), then re-create every later commit.
    raw = git(checkpointed, "cat-file", "blob", f"{target}:entry.json")
    data = json.loads(raw)
    data["description"] = "nothing to see here"
    blob = git(checkpointed, "hash-object", "-w", "--stdin", input=canonical_json(data).decode()).strip()
    listing = git(checkpointed, "ls-tree", target).splitlines()
    listing = [
        (f"100644 blob {blob}\tentry.json" if ln.endswith("\tentry.json") else ln) for ln in listing
    ]
    tree = git(checkpointed, "mktree", input="\n".join(listing) + "\n").strip()
    message = git(checkpointed, "log", "-1", "--format=%B", target)
    subject, rest = message.split("\n", 1)
    message = f"{subject.split(':')[0]}: nothing to see here\n{rest}".rstrip("\n") + "\n"
    new = commit_tree(checkpointed, tree, line[middle - 1], message, commit_env(checkpointed, target))
    for old in line[middle + 1 :]:
        new = commit_tree(
            checkpointed,
            git(checkpointed, "rev-parse", f"{old}^{{tree}}").strip(),
            new,
            git(checkpointed, "log", "-1", "--format=%B", old).rstrip("\n") + "\n",
            commit_env(checkpointed, old),
        )
    git(checkpointed, "update-ref", "refs/heads/sessions/alpha", new)
    fsck_clean(checkpointed)  # every object is valid: only the checkpoint can tell
    report = verify_ledger(checkpointed)
    assert not report.ok
    assert ("session-rewritten", "refs/heads/sessions/alpha") in codes(report)
    detail = next(f.message for f in report.problems if f.code == "session-rewritten")
    assert line[middle - 1][:12] in detail  # names where the histories part
    proc = run_cli("--ledger", str(checkpointed), "verify")
    assert proc.returncode == 1
    assert "session-rewritten" in proc.stdout and "refs/heads/sessions/alpha" in proc.stdout


def test_one_changed_byte_in_an_object_is_detected(checkpointed: Path) -> None:
    line = first_parent_line(checkpointed, "refs/heads/sessions/beta")
    entry = line[len(line) // 2]
    blob = git(checkpointed, "rev-parse", f"{entry}:entry.json").strip()
    path = checkpointed / "objects" / blob[:2] / blob[2:]
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_ledger(checkpointed)
    assert not report.ok
    subjects = {f.subject for f in report.problems if f.code == "object-corrupt"}
    assert f"object {blob}" in subjects
    assert f"entry {entry}" in subjects  # the entry whose entry.json it is


def test_rewound_session_is_detected(checkpointed: Path) -> None:
    git(checkpointed, "update-ref", "refs/heads/sessions/alpha", "refs/heads/sessions/alpha~2")
    report = verify_ledger(checkpointed)
    assert codes(report) == {("session-rewound", "refs/heads/sessions/alpha")}


def test_deleted_session_is_detected(checkpointed: Path) -> None:
    git(checkpointed, "update-ref", "-d", "refs/heads/sessions/gamma")
    report = verify_ledger(checkpointed)
    assert codes(report) == {("session-missing", "refs/heads/sessions/gamma")}


def test_session_pointed_at_another_sessions_history_is_detected(checkpointed: Path) -> None:
    git(checkpointed, "update-ref", "refs/heads/sessions/beta", "refs/heads/sessions/alpha")
    report = verify_ledger(checkpointed)
    found = codes(report)
    assert ("session-replaced", "refs/heads/sessions/beta") in found
    assert any(code == "entry-foreign" for code, _ in found)


def test_replace_ref_is_refused(checkpointed: Path) -> None:
    alpha = first_parent_line(checkpointed, "refs/heads/sessions/alpha")
    beta = first_parent_line(checkpointed, "refs/heads/sessions/beta")
    git(checkpointed, "replace", alpha[1], beta[1])
    report = verify_ledger(checkpointed)
    assert ("replace-ref", f"refs/replace/{alpha[1]}") in codes(report)


def test_grafts_file_is_refused(checkpointed: Path) -> None:
    (checkpointed / "info").mkdir(exist_ok=True)
    line = first_parent_line(checkpointed, "refs/heads/sessions/alpha")
    (checkpointed / "info" / "grafts").write_text(f"{line[-1]}\n")
    report = verify_ledger(checkpointed)
    assert ("grafts", "info/grafts") in codes(report)


def test_rollback_to_an_older_checkpoint_is_detected(checkpointed: Path, workdir: Path) -> None:
    old_cp = git(checkpointed, "rev-parse", CHECKPOINT_REF).strip()
    old_alpha = git(checkpointed, "rev-parse", "refs/heads/sessions/alpha").strip()
    ChangeLogger(checkpointed, session_id="alpha", workdir=workdir).log("deployment", "v2")
    write_checkpoint(checkpointed)
    assert verify_ledger(checkpointed).ok  # accepts checkpoint #2 here
    # Roll the whole ledger back to a consistent older state: checkpoint #1 and its tips.
    git(checkpointed, "update-ref", CHECKPOINT_REF, old_cp)
    git(checkpointed, "update-ref", "refs/heads/sessions/alpha", old_alpha)
    report = verify_ledger(checkpointed)
    codes = [f.code for f in report.problems]
    # the outside anchor (tests/trust/test_anchor.py) sees the same roll-back
    assert codes == ["checkpoint-rollback", "anchor-rollback", "anchor-session-rewound"]
    assert report.problems[0].subject.startswith("checkpoint #2 (")
    # Accepting is refused while the problem stands; a new checkpoint is refused too.
    assert not verify_ledger(checkpointed).ok
    proc = run_cli("--ledger", str(checkpointed), "checkpoint")
    assert proc.returncode == 3 and "rolled back" in proc.stderr and "Traceback" not in proc.stderr


def test_entry_json_disagreeing_with_its_commit_is_named(ledger_path: Path, workdir: Path) -> None:
    populate(ledger_path, workdir, entries=2)
    tip = git(ledger_path, "rev-parse", "refs/heads/sessions/gamma").strip()
    data = json.loads(git(ledger_path, "cat-file", "blob", f"{tip}:entry.json"))
    data["agent_id"] = "someone-else"
    blob = git(ledger_path, "hash-object", "-w", "--stdin", input=canonical_json(data).decode()).strip()
    listing = [
        (f"100644 blob {blob}\tentry.json" if ln.endswith("\tentry.json") else ln)
        for ln in git(ledger_path, "ls-tree", tip).splitlines()
    ]
    tree = git(ledger_path, "mktree", input="\n".join(listing) + "\n").strip()
    message = git(ledger_path, "log", "-1", "--format=%B", tip).rstrip("\n") + "\n"
    new = commit_tree(ledger_path, tree, f"{tip}~1", message, commit_env(ledger_path, tip))
    git(ledger_path, "update-ref", "refs/heads/sessions/gamma", new)
    report = verify_ledger(ledger_path)
    mismatches = [f for f in report.problems if f.subject == f"entry {new}"]
    assert {f.code for f in mismatches} == {"entry-mismatch"}
    assert any("Ledger-Agent" in f.message for f in mismatches)
    assert any("author" in f.message for f in mismatches)


def test_since_checkpoint_checks_only_newer_entries_and_their_objects(
    checkpointed: Path, workdir: Path
) -> None:
    lg = ChangeLogger(checkpointed, session_id="beta", workdir=workdir)
    lg.log_file_change("notes.txt", ChangeType.FILE_CREATE, after_content="new\n")
    report = verify_ledger(checkpointed, since_checkpoint="#1")
    assert report.ok, report.problems
    assert report.entries_checked == 1
    assert report.objects_checked.endswith("re-hashed")
    # A damaged object among the new ones is found without a full fsck.
    tip = git(checkpointed, "rev-parse", "refs/heads/sessions/beta").strip()
    blob = git(checkpointed, "rev-parse", f"{tip}:files/notes.txt").strip()
    path = checkpointed / "objects" / blob[:2] / blob[2:]
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40
    path.write_bytes(bytes(data))
    report = verify_ledger(checkpointed, since_checkpoint="#1")
    assert ("object-corrupt", f"object {blob}") in codes(report)
    proc = run_cli("--ledger", str(checkpointed), "verify", "--since-checkpoint", "nothing")
    assert proc.returncode == 2 and "names no single checkpoint" in proc.stderr


# --- verify and a concurrent maintenance: packing must not look like lost objects.


def test_verify_waits_for_a_running_maintenance_and_then_verifies_clean(
    ledger_path: Path, workdir: Path
) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    for i in range(30):
        logger.log_command(["step", str(i)], output=f"{i}\n")
    assert git(ledger_path, "count-objects").split()[0] != "0"  # loose objects to pack
    finished = threading.Event()
    result: dict[str, Any] = {}

    def run() -> None:
        result["report"] = verify_ledger(ledger_path, accept=False)
        finished.set()

    with LogStorage(ledger_path).maintenance_lock():
        thread = threading.Thread(target=run)
        thread.start()
        # What maintenance does under its lock: pack the loose objects and delete them.
        git(ledger_path, "repack", "-q", "-d")
        assert git(ledger_path, "count-objects").split()[0] == "0"
        assert not finished.is_set()  # verify's fsck waited instead of racing the repack
    thread.join(120)
    report = result["report"]
    assert report.ok, report.problems
    fsck_clean(ledger_path)

