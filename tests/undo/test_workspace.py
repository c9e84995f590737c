"""The workspace layer undo writes through: descriptors, O_NOFOLLOW, atomic replace."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ledger._objects import MODE_BLOB, MODE_EXEC, MODE_LINK
from ledger.errors import InvalidPathError, WorkspaceEscapeError
from ledger.undo.workspace import blob_id, delete_file, locate, read_state, write_file


def test_a_folder_swapped_for_a_symlink_after_planning_is_not_followed(tmp_path: Path) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    (work / "sub").mkdir(parents=True)
    outside.mkdir()
    loc = locate(str(work), ["sub", "f.txt"], "sub/f.txt")  # planned while sub is a folder
    (work / "sub").rmdir()
    os.symlink(outside, work / "sub")  # then swapped

    with pytest.raises(WorkspaceEscapeError, match="became a symlink"):
        write_file(loc, b"x", MODE_BLOB, read_state(locate(str(tmp_path), ["none"], "none")))
    with pytest.raises(WorkspaceEscapeError):
        read_state(loc)
    assert list(outside.iterdir()) == []


def test_locate_refuses_symlinked_folders_leading_out(tmp_path: Path) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    os.symlink(outside, work / "out")
    os.symlink("inner", work / "alias")
    (work / "inner").mkdir()

    with pytest.raises(WorkspaceEscapeError, match="outside"):
        locate(str(work), ["out", "f"], "out/f")
    inside = locate(str(work), ["alias", "f"], "alias/f")  # a link within the workspace
    assert inside.parents == ("inner",)


def test_states_match_what_git_computes(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_bytes(b"hello\n")
    (tmp_path / "x.sh").write_bytes(b"#!/bin/sh\n")
    os.chmod(tmp_path / "x.sh", 0o755)
    os.symlink("t.txt", tmp_path / "l")

    text = read_state(locate(str(tmp_path), ["t.txt"], "t.txt"))
    exe = read_state(locate(str(tmp_path), ["x.sh"], "x.sh"))
    link = read_state(locate(str(tmp_path), ["l"], "l"))
    missing = read_state(locate(str(tmp_path), ["nope", "deeper"], "nope/deeper"))

    def git_hash(*args: str, data: str | None = None) -> str:
        proc = subprocess.run(
            ["git", "hash-object", *args], input=data, capture_output=True, text=True, check=True
        )
        return proc.stdout.strip()

    assert text.oid == blob_id(b"hello\n") == git_hash(str(tmp_path / "t.txt"))
    assert exe.oid == git_hash(str(tmp_path / "x.sh"))
    assert link.oid == git_hash("--stdin", data="t.txt")
    assert (text.mode, exe.mode, link.mode) == (MODE_BLOB, MODE_EXEC, MODE_LINK)
    assert link.data == b"t.txt"
    assert missing.mode is None and missing.oid is None


def test_write_keeps_other_permission_bits_and_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("old\n")
    os.chmod(target, 0o600)
    loc = locate(str(tmp_path), ["secret.txt"], "secret.txt")

    write_file(loc, b"new\n", MODE_EXEC, read_state(loc))
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o700  # x only where r was: never widened
    write_file(loc, b"newer\n", MODE_BLOB, read_state(loc))
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.txt"]  # no temp left


def test_delete_prunes_only_emptied_folders(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "keep.txt").write_text("k")
    (tmp_path / "a" / "b" / "f.txt").write_text("f")

    delete_file(locate(str(tmp_path), ["a", "b", "f.txt"], "a/b/f.txt"))

    assert not (tmp_path / "a" / "b").exists()
    assert (tmp_path / "a" / "keep.txt").exists()


def test_a_file_in_the_way_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("I am a file")
    loc = locate(str(tmp_path), ["a", "f.txt"], "a/f.txt")
    with pytest.raises(InvalidPathError, match="not a folder"):
        write_file(loc, b"x", MODE_BLOB, read_state(locate(str(tmp_path), ["n"], "n")))
    assert (tmp_path / "a").read_text() == "I am a file"
