"""Rolling back a whole agent session in a real workspace, and undoing that roll-back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger import ChangeType, Restorer
from ledger._store import LedgerStore
from ledger.errors import (
    InvalidInputError,
    SessionNotFoundError,
    UndoConflictError,
    UnrestorableError,
)
from tests.conftest import fsck_clean, git
from tests.undo.helpers import (
    BINARY,
    agent_session,
    fixed_umask,  # noqa: F401  (an autouse fixture)
    make_logger,
    seed_workspace,
    snapshot,
)


def undoer(ledger_path: Path, work: Path) -> Restorer:
    return Restorer(ledger_dir=ledger_path, workdir=work, durable=False)


def test_revert_puts_the_workspace_back_byte_for_byte(ledger_path: Path, workdir: Path) -> None:
    seed_workspace(workdir)
    start = snapshot(workdir)
    agent_session(make_logger(ledger_path, workdir), workdir)
    assert snapshot(workdir) != start

    result = Restorer(ledger_dir=ledger_path, workdir=workdir).revert_session("agent-run")

    assert snapshot(workdir) == start  # contents, modes, symlinks, folders
    assert {a.path for a in result.written} == {
        "src/app.py",
        "new folder/café menu.txt",
        "notes with spaces.txt",
        "données.bin",
        "run.sh",
        "tool.py",
        "docs-link",
    }
    assert (workdir / "données.bin").read_bytes() == BINARY
    assert os.readlink(workdir / "docs-link") == "README"
    assert not (workdir / "new folder").exists()  # the folder the session made is gone
    fsck_clean(ledger_path)


def test_the_undo_is_recorded_and_can_itself_be_undone(ledger_path: Path, workdir: Path) -> None:
    seed_workspace(workdir)
    agent_session(make_logger(ledger_path, workdir), workdir)
    after_agent = snapshot(workdir)
    restorer = undoer(ledger_path, workdir)

    undo = restorer.revert_session("agent-run")

    assert undo.session_id is not None and undo.session_id.startswith("undo-")
    store = LedgerStore(ledger_path)
    recorded = list(store.walk_session(undo.session_id))
    assert len(recorded) == len(undo.written) == len(undo.entries) == 7
    for entry in recorded:
        assert entry.metadata["undo_of"] == "agent-run"
        assert entry.metadata["undo_kind"] == "revert"
        assert entry.change_type in (
            ChangeType.FILE_CREATE,
            ChangeType.FILE_UPDATE,
            ChangeType.FILE_DELETE,
        )
    by_path = {e.file_path: e for e in recorded}
    assert by_path["new folder/café menu.txt"].change_type is ChangeType.FILE_DELETE
    assert by_path["notes with spaces.txt"].change_type is ChangeType.FILE_CREATE
    assert by_path["notes with spaces.txt"].after_bytes == b"first draft\n"
    # git itself shows the undo: the tool.py entry flips the mode back.
    tool = by_path["tool.py"]
    shown = git(ledger_path, "show", "--format=", tool.id, "--", "files/tool.py")
    assert "old mode 100755" in shown and "new mode 100644" in shown

    redo = restorer.revert_session(undo.session_id)

    assert snapshot(workdir) == after_agent
    assert redo.session_id != undo.session_id
    fsck_clean(ledger_path)


def test_a_hand_edit_after_the_session_blocks_the_revert(ledger_path: Path, workdir: Path) -> None:
    seed_workspace(workdir)
    agent_session(make_logger(ledger_path, workdir), workdir)
    (workdir / "src" / "app.py").write_text("a person's fix\n")
    before = snapshot(workdir)
    restorer = undoer(ledger_path, workdir)

    with pytest.raises(UndoConflictError) as caught:
        restorer.revert_session("agent-run")

    assert [a.path for a in caught.value.conflicts] == ["src/app.py"]
    assert "changed since" in str(caught.value)
    assert snapshot(workdir) == before  # nothing at all was written
    assert not any(s.startswith("undo-") for s in LedgerStore(ledger_path).sessions())

    forced = restorer.revert_session("agent-run", force=True)

    assert (workdir / "src" / "app.py").read_text() == "print('v1')\n"
    entry = next(e for e in forced.entries if e.file_path == "src/app.py")
    assert entry.metadata["forced"] is True
    assert entry.before_bytes == b"a person's fix\n"  # the overwritten edit stays in the ledger


@pytest.mark.parametrize(
    "meddle, reason",
    [
        (lambda w: (w / "src" / "app.py").unlink(), "deleted since"),
        (lambda w: (w / "notes with spaces.txt").write_text("new\n"), "created since"),
        (lambda w: os.chmod(w / "src" / "app.py", 0o755), "mode changed"),
        (lambda w: (w / "docs-link").unlink() or os.symlink("/", w / "docs-link"), "changed"),
    ],
)
def test_every_kind_of_outside_change_is_a_conflict(
    ledger_path: Path, workdir: Path, meddle: object, reason: str
) -> None:
    seed_workspace(workdir)
    agent_session(make_logger(ledger_path, workdir), workdir)
    meddle(workdir)  # type: ignore[operator]
    before = snapshot(workdir)

    with pytest.raises(UndoConflictError) as caught:
        undoer(ledger_path, workdir).revert_session("agent-run")

    assert len(caught.value.conflicts) == 1
    assert reason in str(caught.value.conflicts[0].conflict)  # type: ignore[attr-defined]
    assert snapshot(workdir) == before


def test_a_later_recorded_session_is_known_to_the_ledger(ledger_path: Path, workdir: Path) -> None:
    """A change another session recorded is no conflict: the ledger holds its content."""
    seed_workspace(workdir)
    agent_session(make_logger(ledger_path, workdir), workdir)
    other = make_logger(ledger_path, workdir, "second-agent")
    with other.track_file("src/app.py"):
        (workdir / "src" / "app.py").write_text("second agent\n")

    result = undoer(ledger_path, workdir).revert_session("agent-run")

    app = next(a for a in result.plan if a.path == "src/app.py")
    assert app.conflict is None
    assert app.note is not None and "second-agent" in app.note
    assert (workdir / "src" / "app.py").read_text() == "print('v1')\n"


def test_dry_run_writes_nothing_and_shows_every_diff(ledger_path: Path, workdir: Path) -> None:
    seed_workspace(workdir)
    agent_session(make_logger(ledger_path, workdir), workdir)
    before = snapshot(workdir)
    sessions = set(LedgerStore(ledger_path).sessions())

    result = undoer(ledger_path, workdir).revert_session(
        "agent-run", dry_run=True
    )

    assert snapshot(workdir) == before
    assert set(LedgerStore(ledger_path).sessions()) == sessions
    assert result.dry_run and result.written == [] and result.entries == []
    diff = result.diff()
    assert "-print('v3')\n+print('v1')\n" in diff
    assert "deleted file mode 100644" in diff and "-espresso" in diff
    assert "+first draft" in diff
    assert "Binary files a/données.bin and b/données.bin differ" in diff
    assert "old mode 100755\nnew mode 100644" in diff
    assert "+README" in diff  # the symlink's target


def test_since_reverts_only_the_tail(ledger_path: Path, workdir: Path) -> None:
    seed_workspace(workdir)
    made = agent_session(make_logger(ledger_path, workdir), workdir)

    result = undoer(ledger_path, workdir).revert_session(
        "agent-run", since=made["binary"].id[:10]
    )

    assert {a.path for a in result.written} == {"données.bin", "run.sh", "tool.py", "docs-link"}
    assert (workdir / "src" / "app.py").read_text() == "print('v3')\n"  # before the tail
    assert (workdir / "données.bin").read_bytes() == BINARY
    assert (workdir / "run.sh").stat().st_mode & 0o777 == 0o755


def test_revert_refuses_what_it_cannot_do(ledger_path: Path, workdir: Path) -> None:
    logger = make_logger(ledger_path, workdir)
    logger.log_file_change("blind.txt", ChangeType.FILE_UPDATE, after_content="new\n")
    other = make_logger(ledger_path, workdir, "other")
    foreign = other.log_command("ls", "", 0)
    restorer = undoer(ledger_path, workdir)

    with pytest.raises(UnrestorableError, match=r"blind\.txt.*before-state"):
        restorer.revert_session("agent-run")
    with pytest.raises(SessionNotFoundError, match="no session nope"):
        restorer.revert_session("nope")
    with pytest.raises(InvalidInputError, match="belongs to session other"):
        restorer.revert_session("agent-run", since=foreign.id)
    assert list(workdir.iterdir()) == []


def test_revert_into_the_callers_session(ledger_path: Path, workdir: Path) -> None:
    seed_workspace(workdir)
    start = snapshot(workdir)
    agent_session(make_logger(ledger_path, workdir), workdir)
    supervisor = make_logger(ledger_path, workdir, "supervisor")
    supervisor.log_agent_decision("Roll back agent-run", "its tests failed")

    result = Restorer(workdir=workdir, logger=supervisor).revert_session("agent-run")

    assert result.session_id == "supervisor"
    assert snapshot(workdir) == start
    entries = list(LedgerStore(ledger_path).walk_session("supervisor"))
    assert len(entries) == 8 and entries[-1].change_type is ChangeType.AGENT_DECISION
    fsck_clean(ledger_path)


def test_revert_from_the_wrong_workspace_is_refused(ledger_path: Path, tmp_path: Path) -> None:
    work = tmp_path / "project"
    work.mkdir()
    logger = make_logger(ledger_path, work)
    with logger.track_file(str(work / "a.txt")):  # an absolute path names the workspace
        (work / "a.txt").write_text("x\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    with pytest.raises(InvalidInputError, match="recorded in workspace"):
        undoer(ledger_path, elsewhere).revert_session("agent-run")

    undoer(ledger_path, work).revert_session("agent-run")
    assert not (work / "a.txt").exists()


def test_long_and_blank_names_are_reverted(ledger_path: Path, workdir: Path) -> None:
    """Commit trailers shorten long names and fold blanks; the revert must not rely on them."""
    long_name = "deep/" + "n" * 200 + ".txt"
    logger = make_logger(ledger_path, workdir)
    (workdir / " ").write_text("blank\n")
    for rel in (long_name, " "):
        with logger.track_file(rel):
            (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
            (workdir / rel).write_text("agent\n")
    (workdir / long_name).write_text("by hand\n")

    with pytest.raises(UndoConflictError) as caught:
        undoer(ledger_path, workdir).revert_session("agent-run")
    assert [a.path for a in caught.value.conflicts] == [long_name]  # type: ignore[attr-defined]

    undoer(ledger_path, workdir).revert_session("agent-run", force=True)
    assert (workdir / " ").read_text() == "blank\n"
    assert not (workdir / "deep").exists()
