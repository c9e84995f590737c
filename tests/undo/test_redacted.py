"""Undo with redacted states: restored exactly from the secret on disk, or refused; never a marker.

The ledger stores ``db_password = [REDACTED:…]`` where the file said ``db_password = <secret>``.
Undo fills each marker back from the file on disk when the marker's keyed fingerprint proves
the disk holds the same secret, and otherwise refuses (even with --force) and writes nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ledger import ChangeLogger, Restorer
from ledger._store import LedgerStore
from ledger.errors import UnrestorableError
from ledger.trust.redact import MARKER_RE
from ledger.trust.redact.fill import marker_marks
from tests.conftest import fsck_clean, git, run_cli
from tests.undo.helpers import fixed_umask  # noqa: F401  (an autouse fixture)

SECRET = "Xk29vLq7pMw4RzT8e"
OTHER = "Pq83nVb61ZyT0wKe"
V1 = f"host = db1\nport = 5432\ndb_password = {SECRET}\n"
V2 = f"host = db2\nport = 5432\ndb_password = {SECRET}\n"
V3 = f"host = db3\nport = 6543\ndb_password = {SECRET}\n"


def all_objects(ledger: Path) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(ledger), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout


def agent_edits(ledger: Path, work: Path) -> list[str]:
    """An agent creates settings.conf with a password, then edits it twice (real files)."""
    lg = ChangeLogger(ledger, agent_id="coder", session_id="agent", workdir=work, durable=False)
    conf = work / "settings.conf"
    ids = []
    for text in (V1, V2, V3):
        with lg.track_file("settings.conf") as tracked:
            conf.write_text(text)
        assert tracked.entry is not None
        ids.append(tracked.entry.id)
    return ids


def assert_no_marker_from_undo(ledger: Path, work: Path, undone: bool = True) -> None:
    """No workspace file holds a marker, no object holds the secret, and every marker in a
    recorded state is one the ledger put there (listed in its entry's marks)."""
    for path in work.rglob("*"):
        if path.is_file():
            assert b"[REDACTED:" not in path.read_bytes(), path
    objects = all_objects(ledger)
    assert SECRET.encode() not in objects and OTHER.encode() not in objects
    store = LedgerStore(ledger)
    undo_sessions = [s for s in store.sessions() if s.startswith("undo-")]
    assert bool(undo_sessions) == undone
    for session in undo_sessions:
        for entry in store.walk_session(session):
            marks = entry.metadata.get("redacted_states", {})
            for which in ("before", "after"):
                oid = getattr(entry, f"file_hash_{which}")
                if oid is None:
                    continue
                blob = subprocess.run(
                    ["git", "--git-dir", str(ledger), "cat-file", "blob", oid],
                    capture_output=True,
                    check=True,
                ).stdout
                # every marker in the recorded state is one the ledger wrote redacting it
                found = [list(m[:2]) for m in marker_marks(blob)]
                assert found == [m[:2] for m in marks.get(which, [])], (which, blob)
    fsck_clean(ledger)


def test_revert_since_restores_the_secret_exactly(ledger_path: Path, workdir: Path) -> None:
    ids = agent_edits(ledger_path, workdir)
    proc = run_cli("--ledger", str(ledger_path), "revert", "agent", "--since", ids[1], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "settings.conf").read_text() == V1  # byte for byte, password included
    assert_no_marker_from_undo(ledger_path, workdir)


def test_restore_before_and_redo_after_are_exact(ledger_path: Path, workdir: Path) -> None:
    ids = agent_edits(ledger_path, workdir)
    conf = workdir / "settings.conf"
    proc = run_cli("--ledger", str(ledger_path), "restore", ids[2], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert conf.read_text() == V2
    proc = run_cli("--ledger", str(ledger_path), "restore", ids[2], "--after", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert conf.read_text() == V3
    assert_no_marker_from_undo(ledger_path, workdir)


def test_restore_after_force_with_another_secret_on_disk_is_refused(
    ledger_path: Path, workdir: Path
) -> None:
    ids = agent_edits(ledger_path, workdir)
    conf = workdir / "settings.conf"
    changed = V3.replace(SECRET, OTHER).encode()  # the password was rotated by hand
    conf.write_bytes(changed)
    proc = run_cli(
        "--ledger", str(ledger_path), "restore", ids[0], "settings.conf", "--after", "--force",
        cwd=workdir,
    )
    assert proc.returncode != 0
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "settings.conf" in message and "redacted" in message
    assert "size cap" not in message
    assert conf.read_bytes() == changed  # the real password on disk keeps its bytes
    assert "undo-" not in git(ledger_path, "for-each-ref")  # nothing was recorded either
    assert_no_marker_from_undo(ledger_path, workdir, undone=False)


def test_restore_after_force_fills_the_same_secret(ledger_path: Path, workdir: Path) -> None:
    ids = agent_edits(ledger_path, workdir)
    conf = workdir / "settings.conf"
    conf.write_text(V3 + "debug = true\n")  # changed behind the ledger: a conflict
    refused = run_cli("--ledger", str(ledger_path), "restore", ids[0], "--after", cwd=workdir)
    assert refused.returncode != 0 and "changed since" in refused.stderr
    proc = run_cli(
        "--ledger", str(ledger_path), "restore", ids[0], "settings.conf", "--after", "--force",
        cwd=workdir,
    )
    assert proc.returncode == 0, proc.stderr
    assert conf.read_text() == V1
    assert_no_marker_from_undo(ledger_path, workdir)


def test_revert_plans_every_file_and_writes_nothing_if_one_is_refused(
    ledger_path: Path, workdir: Path
) -> None:
    lg = ChangeLogger(ledger_path, agent_id="coder", session_id="agent", workdir=workdir)
    (workdir / "a.conf").write_text(f"password = {SECRET}\nmode = 1\n")
    (workdir / "b.conf").write_text(f"password = {SECRET}\nmode = 1\n")
    (workdir / "plain.txt").write_text("one\n")
    for name in ("a.conf", "b.conf", "plain.txt"):
        with lg.track_file(name):
            text = (workdir / name).read_text()
            (workdir / name).write_text(text.replace("1", "2").replace("one", "two"))
    (workdir / "b.conf").write_text(f"password = {OTHER}\nmode = 2\n")  # rotated by hand
    before = {p.name: p.read_bytes() for p in workdir.iterdir()}
    with pytest.raises(UnrestorableError, match=r"b\.conf was redacted"):
        Restorer(ledger_path, workdir, durable=False).revert_session("agent", force=True)
    assert {p.name: p.read_bytes() for p in workdir.iterdir()} == before
    proc = run_cli("--ledger", str(ledger_path), "revert", "agent", "--force", cwd=workdir)
    assert proc.returncode != 0 and "b.conf" in proc.stderr and "redacted" in proc.stderr
    assert {p.name: p.read_bytes() for p in workdir.iterdir()} == before


def test_a_state_known_only_from_the_tree_is_filled_too(ledger_path: Path, workdir: Path) -> None:
    """The entry gives no before content: its before-state is the redacted blob an earlier
    entry left in the tree, found through that entry's marks."""
    lg = ChangeLogger(ledger_path, agent_id="coder", session_id="agent", workdir=workdir)
    lg.log_file_change("settings.conf", "file_create", None, V1)
    second = lg.log_file_change("settings.conf", "file_update", None, V2)
    (workdir / "settings.conf").write_text(V2)
    Restorer(ledger_path, workdir, durable=False).restore(second)
    assert (workdir / "settings.conf").read_text() == V1
    assert_no_marker_from_undo(ledger_path, workdir)


def test_a_file_kept_only_as_a_fingerprint_comes_back_only_unchanged(
    ledger_path: Path, workdir: Path
) -> None:
    env = workdir / ".env"
    lg = ChangeLogger(ledger_path, agent_id="coder", session_id="agent", workdir=workdir)
    env.write_text(f"API_KEY={SECRET}\n")
    with lg.track_file(".env"):
        env.write_text(f"API_KEY={SECRET}\nDEBUG=1\n")
    with lg.track_file(".env") as last:
        env.write_text(f"API_KEY={OTHER}\n")
    assert last.entry is not None
    r = Restorer(ledger_path, workdir, durable=False)
    result = r.restore(last.entry, which="after")  # the disk holds exactly that state
    assert [a.action for a in result.plan] == ["none"]
    with pytest.raises(UnrestorableError, match=r"\.env was redacted"):
        r.restore(last.entry, force=True)  # its before-state is nowhere to fill it from
    assert env.read_text() == f"API_KEY={OTHER}\n"
    assert not MARKER_RE.search(env.read_text())


def test_a_literal_marker_in_an_unredacted_file_is_restored_as_it_was(
    ledger_path: Path, workdir: Path
) -> None:
    """A document that quotes a marker held no secret: it is restored as recorded."""
    doc = workdir / "doc.md"
    quoted = "A redacted value looks like [REDACTED:github-pat:hmac=0123456789ab].\n"
    lg = ChangeLogger(ledger_path, agent_id="coder", session_id="agent", workdir=workdir)
    doc.write_text(quoted)
    with lg.track_file("doc.md") as edit:
        doc.write_text("rewritten\n")
    assert edit.entry is not None
    Restorer(ledger_path, workdir, durable=False).restore(edit.entry)
    assert doc.read_text() == quoted
