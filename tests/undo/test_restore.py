"""Restoring single files as they were at an entry: undo, redo, exports and path safety."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, Restorer
from ledger._store import LedgerStore
from ledger.errors import (
    EntryNotFoundError,
    InvalidInputError,
    UndoConflictError,
    UnrestorableError,
    WorkspaceEscapeError,
)
from tests.conftest import fsck_clean
from tests.undo.helpers import (
    BINARY,
    agent_session,
    fixed_umask,  # noqa: F401  (an autouse fixture)
    make_logger,
    seed_workspace,
    snapshot,
)


@pytest.fixture
def session(ledger_path: Path, workdir: Path) -> dict[str, object]:
    seed_workspace(workdir)
    return agent_session(make_logger(ledger_path, workdir), workdir)


def restorer(ledger_path: Path, workdir: Path, **kw: object) -> Restorer:
    kw.setdefault("durable", False)
    return Restorer(ledger_dir=ledger_path, workdir=workdir, **kw)  # type: ignore[arg-type]


def test_undo_and_redo_one_edit(ledger_path: Path, workdir: Path, session: dict) -> None:
    r = restorer(ledger_path, workdir)
    app = workdir / "src" / "app.py"

    undo = r.restore(session["edit"])  # before the first rewrite
    assert app.read_text() == "print('v1')\n"
    [entry] = undo.entries
    assert entry.metadata["undo_of"] == session["edit"].id
    assert entry.metadata["restored_state"] == "before"
    assert entry.before_bytes == b"print('v3')\n" and entry.after_bytes == b"print('v1')\n"

    r.restore(session["edit"].id[:8], which="after")  # redo: its after-state
    assert app.read_text() == "print('v2')\nprint('more')\n"
    fsck_clean(ledger_path)


def test_undo_a_create_deletes_and_undo_a_delete_brings_back(
    ledger_path: Path, workdir: Path, session: dict
) -> None:
    r = restorer(ledger_path, workdir)

    r.restore(session["create"])
    assert not (workdir / "new folder").exists()

    r.restore(session["delete"])
    assert (workdir / "notes with spaces.txt").read_text() == "first draft\n"

    r.restore(session["create"], which="after")
    assert (workdir / "new folder" / "café menu.txt").read_text() == "espresso\n"


def test_binary_mode_and_symlink_states(ledger_path: Path, workdir: Path, session: dict) -> None:
    r = restorer(ledger_path, workdir)

    r.restore(session["binary"])
    assert (workdir / "données.bin").read_bytes() == BINARY

    r.restore(session["chmod"])
    assert (workdir / "tool.py").stat().st_mode & 0o777 == 0o644
    r.restore(session["chmod"], which="after")
    assert (workdir / "tool.py").stat().st_mode & 0o777 == 0o755

    r.restore(session["relink"])
    assert os.readlink(workdir / "docs-link") == "README"


def test_named_paths_come_from_the_sessions_tree_at_that_entry(
    ledger_path: Path, workdir: Path, session: dict
) -> None:
    r = restorer(ledger_path, workdir)
    r.revert_session("agent-run")
    paths = ["src/app.py", "notes with spaces.txt", "données.bin"]

    result = r.restore(session["relink"], paths)  # as the session left them, but the link

    assert [(a.action, a.path) for a in result.plan] == [
        ("write", "données.bin"),
        ("delete", "notes with spaces.txt"),
        ("write", "src/app.py"),
    ]
    assert (workdir / "src" / "app.py").read_text() == "print('v3')\n"
    assert not (workdir / "notes with spaces.txt").exists()
    assert (workdir / "données.bin").read_bytes() == BINARY[::-1] + b"\x00tail"

    with pytest.raises(UnrestorableError, match="did not know it"):
        r.restore(session["edit"], ["never-seen.txt"])
    with pytest.raises(InvalidInputError, match="records no file"):
        r.restore(next(LedgerStore(ledger_path).walk_session("agent-run")))


def test_restore_to_another_folder_is_an_export(
    ledger_path: Path, workdir: Path, session: dict, tmp_path: Path
) -> None:
    work_before = snapshot(workdir)
    sessions = set(LedgerStore(ledger_path).sessions())
    out = tmp_path / "export"

    dry = restorer(ledger_path, workdir).restore(session["edit"], to=tmp_path / "v1", dry_run=True)
    assert [a.action for a in dry.plan] == ["write"] and "+print('v1')" in dry.diff()
    assert not (tmp_path / "v1").exists()
    result = restorer(ledger_path, workdir).restore(session["edit"], to=tmp_path / "v1")
    assert (tmp_path / "v1" / "src" / "app.py").read_text() == "print('v1')\n"
    assert result.session_id is None
    paths = ["src/app.py", "tool.py", "données.bin", "docs-link", "notes with spaces.txt"]

    result = restorer(ledger_path, workdir).restore(session["relink"], paths, "after", to=out)

    assert snapshot(workdir) == work_before
    assert set(LedgerStore(ledger_path).sessions()) == sessions  # nothing recorded
    assert result.session_id is None
    assert (out / "src" / "app.py").read_text() == "print('v3')\n"
    assert (out / "tool.py").stat().st_mode & 0o777 == 0o755
    assert (out / "données.bin").read_bytes() == BINARY[::-1] + b"\x00tail"
    assert os.readlink(out / "docs-link") == "src/app.py"
    assert not (out / "notes with spaces.txt").exists()  # absent then: an export skips it

    (out / "tool.py").write_text("mine\n")
    with pytest.raises(UndoConflictError, match="exists in"):
        restorer(ledger_path, workdir).restore(session["relink"], ["tool.py"], "after", to=out)


def test_a_symlink_leading_outside_the_workspace_is_refused(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    logger = make_logger(ledger_path, workdir)
    (workdir / "conf").mkdir()
    with logger.track_file("conf/settings.ini"):
        (workdir / "conf" / "settings.ini").write_text("a=1\n")
    with logger.track_file("conf/settings.ini") as t:
        (workdir / "conf" / "settings.ini").write_text("a=2\n")
    # Someone swaps the folder for a symlink that leads out of the workspace.
    (workdir / "conf" / "settings.ini").rename(outside / "settings.ini")
    (workdir / "conf").rmdir()
    os.symlink(outside, workdir / "conf")

    for call in (
        lambda: restorer(ledger_path, workdir).restore(t.entry),
        lambda: restorer(ledger_path, workdir).restore(t.entry, force=True),
        lambda: restorer(ledger_path, workdir).revert_session("agent-run", force=True),
    ):
        with pytest.raises(WorkspaceEscapeError, match="outside"):
            call()
    assert (outside / "settings.ini").read_text() == "a=2\n"
    assert sorted(os.listdir(outside)) == ["settings.ini"]


def test_the_final_symlink_is_replaced_never_followed(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("precious\n")
    logger = make_logger(ledger_path, workdir)
    with logger.track_file("f.txt") as t:
        (workdir / "f.txt").write_text("agent\n")
    (workdir / "f.txt").unlink()
    os.symlink(target, workdir / "f.txt")  # a link out, where the file was

    with pytest.raises(UndoConflictError):
        restorer(ledger_path, workdir).restore(t.entry, which="after")
    restorer(ledger_path, workdir).restore(t.entry, which="after", force=True)

    assert not (workdir / "f.txt").is_symlink()
    assert (workdir / "f.txt").read_text() == "agent\n"
    assert target.read_text() == "precious\n"


def test_absolute_paths_outside_need_permission(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    logger = make_logger(ledger_path, workdir)
    with logger.track_file(str(elsewhere)) as t:
        elsewhere.write_text("made outside\n")

    with pytest.raises(WorkspaceEscapeError, match="outside the workspace"):
        restorer(ledger_path, workdir).restore(t.entry)
    assert elsewhere.exists()

    restorer(ledger_path, workdir, allow_outside=True).restore(t.entry)
    assert not elsewhere.exists()


def test_states_the_ledger_did_not_keep(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(
        ledger_dir=ledger_path, session_id="s", workdir=workdir, max_content_bytes=10
    )
    big = workdir / "big.txt"
    big.write_text("0123456789abcdef\n")
    with logger.track_file("big.txt") as t:
        big.write_text("short\n")
    unknown = logger.log_file_change("u.txt", ChangeType.FILE_UPDATE, after_content="x")

    with pytest.raises(UnrestorableError, match="holds only the hash and size"):
        restorer(ledger_path, workdir).restore(t.entry)
    with pytest.raises(UnrestorableError, match="did not know it"):
        restorer(ledger_path, workdir).restore(unknown)
    assert big.read_text() == "short\n"


def test_conflict_on_restore_and_already_restored(
    ledger_path: Path, workdir: Path, session: dict
) -> None:
    r = restorer(ledger_path, workdir)
    (workdir / "données.bin").write_bytes(b"edited by hand")

    with pytest.raises(UndoConflictError) as caught:
        r.restore(session["binary"])
    assert caught.value.conflicts[0].path == "données.bin"  # type: ignore[attr-defined]
    assert (workdir / "données.bin").read_bytes() == b"edited by hand"

    r.restore(session["binary"], force=True)
    again = r.restore(session["binary"])  # already in that state: nothing to do
    assert [a.action for a in again.plan] == ["none"]
    assert again.written == [] and again.session_id is None

    with pytest.raises(EntryNotFoundError):
        r.restore("deadbeefdeadbeef")
    with pytest.raises(InvalidInputError, match="which"):
        r.restore(session["binary"], which="later")
