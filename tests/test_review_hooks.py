"""A commit whose file names the ledger cannot record is still recorded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import fsck_clean, git
from tests.test_capture_hooks import day_session, drain, entries, install, make_repo, of_type, sh


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
