"""A commit whose file names the ledger cannot record is still recorded."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import fsck_clean, git
from tests.test_capture_hooks import (
    commit_file,
    day_session,
    drain,
    entries,
    install,
    make_repo,
    of_type,
    sh,
)


@pytest.fixture(autouse=True)
def _no_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_LEDGER_DRAIN_LINGER", "0")


def test_a_file_name_that_is_not_utf8_does_not_lose_the_commit(
    tmp_path: Path, ledger_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    (repo / "good.txt").write_text("fine\n")
    with open(os.path.join(os.fsencode(repo), b"bad\xffname"), "wb") as fh:
        fh.write(b"latin-1 name\n")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-q", "-m", "Add two files")
    head = sh(repo, "rev-parse", "HEAD").stdout.strip()
    drain(ledger_path, repo)

    items = entries(ledger_path, day_session(repo))
    (commit,) = of_type(items, "git_commit")
    assert commit["metadata"]["commit"] == head
    files = {f["path"]: f for f in commit["metadata"]["files"]}
    assert set(files) == {"bad\\xffname", "good.txt"}
    assert "not valid UTF-8" in files["bad\\xffname"]["not_recorded"]
    assert [e["file_path"] for e in of_type(items, "file_create")] == ["good.txt"]
    assert not (ledger_path / "ledger-spool" / "failed").exists() or not any(
        (ledger_path / "ledger-spool" / "failed").iterdir()
    )
    assert git(ledger_path, "cat-file", "-p", files["good.txt"]["blob_after"]) == "fine\n"
    fsck_clean(ledger_path)


def test_a_push_to_a_url_keeps_its_credentials_out_of_the_ledger(
    tmp_path: Path, ledger_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = make_repo(tmp_path / "proj")
    install(ledger_path, repo)
    commit_file(repo, "a.txt", "a\n", "Add a")
    token = "opaqueUserToken4711"
    # No named remote: git hands the hook the URL as the remote's name as well.
    sh(repo, "push", "-q", f"file://{token}@localhost{remote}", "main")
    drain(ledger_path, repo)

    (push,) = of_type(entries(ledger_path, day_session(repo)), "git_push")
    assert push["metadata"]["remote"] == push["metadata"]["url"] == f"file://localhost{remote}"
    assert push["metadata"]["refs"][0]["action"] == "create"
    stored = subprocess.run(
        ["git", "-C", str(ledger_path), "cat-file", "--batch-all-objects", "--batch"],
        check=True,
        capture_output=True,
    ).stdout
    assert token.encode() not in stored
    fsck_clean(ledger_path)
