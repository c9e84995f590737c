"""Replaying a real project's release history: eight consecutive click sdists recorded as one
session's file changes come back blob for blob, and real ``git log -p`` on the ledger shows
exactly the diffs between releases that git itself computes from the same trees."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pygit2
import pytest

from ledger import ChangeLogger, ChangeType

RELEASES = ("8.1.3", "8.1.4", "8.1.5", "8.1.6", "8.1.7", "8.1.8", "8.2.0", "8.2.1")
CACHE = Path(tempfile.gettempdir()) / "git-ledger-click-releases"
SESSION_REF = "refs/heads/sessions/click"


def _archives() -> list[Path]:
    """The release sdists, downloaded once (in parallel: one pip per pinned version)."""
    CACHE.mkdir(exist_ok=True)
    wanted = [CACHE / f"click-{v}.tar.gz" for v in RELEASES]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             f"click=={v}", "-d", str(CACHE)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v, archive in zip(RELEASES, wanted, strict=True)
        if not archive.exists()
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            pytest.skip(f"the package index cannot be reached: {err.strip()[-200:]}")
    return wanted


def _release(archive: Path) -> dict[str, bytes]:
    """A release's files by path, without the sdist's top folder (``click-8.1.3/``)."""
    out = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                out[member.name.split("/", 1)[1]] = handle.read()
    return out


def _git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
    return proc.stdout.decode("utf-8", "surrogateescape")


def _commit_tree(ref: Path, files: dict[str, bytes], message: str) -> None:
    """Make the reference repository's work tree exactly ``files`` and commit it."""
    _git("rm", "-r", "-q", "--ignore-unmatch", ".", cwd=ref)
    for path, data in files.items():
        target = ref / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    _git("add", "-A", ".", cwd=ref)
    _git("-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", message, cwd=ref)


@pytest.mark.slow
def test_click_releases_replay_blob_for_blob(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    releases = [(v, _release(a)) for v, a in zip(RELEASES, _archives(), strict=True)]
    ref = tmp_path / "reference"
    _git("init", "-q", str(ref))
    lg = ChangeLogger(ledger_path, session_id="click", workdir=workdir, durable=False)
    state: dict[str, bytes] = {}
    changes = stored = 0
    for version, files in releases:
        with lg.batch():
            written = []
            for path in sorted(state.keys() | files.keys()):
                old, new = state.get(path), files.get(path)
                if old == new:
                    continue
                if old is None:
                    entry = lg.log_file_change(path, ChangeType.FILE_CREATE, after_content=new)
                elif new is None:
                    entry = lg.log_file_change(path, ChangeType.FILE_DELETE, before_content=old)
                else:
                    entry = lg.log_file_change(path, ChangeType.FILE_UPDATE, old, new)
                written.append((entry, new))
        repo = pygit2.Repository(str(ledger_path))
        for entry, new in written:  # each stored state is the release's file, byte for byte
            if new is not None:
                assert entry.file_hash_after, entry.file_path
                assert repo[entry.file_hash_after].data == new, (version, entry.file_path)
                stored += 1
        changes += len(written)
        state = files
        _commit_tree(ref, files, version)
        # The ledger's tree of file states is the release, as real git lists it.
        listed = _git("--git-dir", str(ledger_path), "ls-tree", "-r", "--name-only",
                      SESSION_REF, "files/").split("\n")
        assert sorted(p.removeprefix("files/") for p in listed if p) == sorted(files), version

    # Every file's history in the ledger shows exactly the diffs git computes between releases.
    every = sorted(set().union(*(f.keys() for _v, f in releases)))
    for path in every:
        ours = _git("--git-dir", str(ledger_path), "log", "-p", "--format=", "--no-renames",
                    "--relative=files/", SESSION_REF, "--", f"files/{path}")
        theirs = _git("log", "-p", "--format=", "--no-renames", "HEAD", "--", path, cwd=ref)
        assert ours == theirs, path
    assert _git("--git-dir", str(ledger_path), "fsck", "--strict", "--no-dangling") == ""
    assert len(every) > 100 and changes > len(every) and stored > 100
    print(f"\nclick {RELEASES[0]}..{RELEASES[-1]}: {len(every)} paths, {changes} changes, "
          f"{stored} stored states, {len(every)} histories equal to git's")
