"""Importing seed-format JSON: arrays and JSON lines, original times, idempotence."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ledger import LogQuery
from ledger.errors import ImportFormatError, InvalidInputError
from ledger.write.importer import import_files
from tests.conftest import fsck_clean, git


def seed_entry(n: int, session: str, stamp: str, **extra: object) -> dict:
    entry = {
        "id": f"seed{n:012x}",
        "timestamp": stamp,
        "session_id": session,
        "agent_id": "prime-spark-agent",
        "change_type": "system_command",
        "description": f"Executed: step {n}",
        "level": "info",
        "file_path": None,
        "file_hash_before": None,
        "file_hash_after": None,
        "metadata": {"command": f"step {n}", "exit_code": 0},
    }
    entry.update(extra)
    return entry


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    # Out of order on purpose: a session's entries are sorted by time before writing.
    array = [
        seed_entry(2, "abc123", "2025-11-05T17:31:00.500000+00:00"),
        seed_entry(1, "abc123", "2025-11-05T17:30:45.123456+00:00"),
        seed_entry(
            3, "abc123", "2025-11-05T17:32:00+00:00", change_type="file_update",
            description="Updated configuration file", file_path="/srv/app/config.py",
            file_hash_before="sha256:aa", file_hash_after="sha256:bb",
            before_state="DEBUG = True\n", after_state="DEBUG = False\n",
            metadata={"file_size_before": 13, "file_size_after": 14},
        ),
    ]
    first = tmp_path / "a.json"
    first.write_text(json.dumps(array))
    lines = tmp_path / "b.jsonl"
    lines.write_text(
        "\n".join(
            json.dumps(e)
            for e in (
                seed_entry(4, "def456", "2025-11-06T08:00:00+00:00", level="error",
                           agent_id="other-agent"),
                seed_entry(5, "def456", "2025-11-06T08:00:01+00:00"),
            )
        )
        + "\n\n"
    )
    return [first, lines]


def test_import_keeps_times_sessions_agents_and_ids(ledger_path: Path, files: list[Path]):
    result = import_files(files, ledger_path, durable=False)
    assert (result.imported, result.skipped) == (5, 0)
    assert sorted(result.sessions) == ["abc123", "def456"]
    q = LogQuery(ledger_path)
    logs = q.get_session_logs("abc123")
    assert [e.metadata["imported_id"] for e in logs] == [f"seed{n:012x}" for n in (1, 2, 3)]
    assert logs[0].timestamp == dt.datetime(2025, 11, 5, 17, 30, 45, 123456, tzinfo=dt.UTC)
    assert logs[0].agent_id == "prime-spark-agent"
    update = logs[2]
    assert (update.before_state, update.after_state) == ("DEBUG = True\n", "DEBUG = False\n")
    assert update.file_path == "/srv/app/config.py"
    assert update.metadata["imported_file_hash_before"] == "sha256:aa"
    assert q.get_file_history("/srv/app/config.py") == [update]
    other = q.get_session_logs("def456")
    assert [e.agent_id for e in other] == ["other-agent", "prime-spark-agent"]
    assert other[0].level.value == "error"
    # git agrees on the commit times.
    assert git(ledger_path, "log", "-1", "--format=%ct", other[1].id).strip() == str(
        int(other[1].timestamp.timestamp())
    )
    fsck_clean(ledger_path)


def test_importing_again_adds_nothing(ledger_path: Path, files: list[Path], tmp_path: Path):
    import_files(files, ledger_path, durable=False)
    before = git(ledger_path, "for-each-ref", "--format=%(objectname) %(refname)")
    again = import_files(files, ledger_path, durable=False)
    assert (again.imported, again.skipped) == (0, 5)
    assert git(ledger_path, "for-each-ref", "--format=%(objectname) %(refname)") == before
    # A file that grew by later entries adds only the new ones.
    grown = tmp_path / "grown.jsonl"
    grown.write_text(
        files[1].read_text()
        + json.dumps(seed_entry(6, "def456", "2025-11-06T09:00:00+00:00"))
        + "\n"
    )
    more = import_files([grown], ledger_path, durable=False)
    assert (more.imported, more.skipped) == (1, 2)
    assert len(LogQuery(ledger_path).get_session_logs("def456")) == 3


def test_bad_files_write_nothing(ledger_path: Path, files: list[Path], tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(seed_entry(9, "ghi", "2025-11-07T00:00:00")) + "\n{not json\n")
    with pytest.raises(ImportFormatError, match="bad.jsonl:2"):
        import_files([files[0], bad], ledger_path)
    assert not ledger_path.exists()
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([seed_entry(1, "x", "2025-11-07T00:00:00",
                                            change_type="teleport")]))
    with pytest.raises(ImportFormatError, match="teleport"):
        import_files([wrong], ledger_path)
    unsafe = tmp_path / "unsafe.json"
    unsafe.write_text(json.dumps([seed_entry(1, "../x", "2025-11-07T00:00:00")]))
    with pytest.raises(ImportFormatError):
        import_files([unsafe], ledger_path)
    missing = seed_entry(1, "x", "2025-11-07T00:00:00")
    del missing["timestamp"]
    wrong.write_text(json.dumps([missing]))
    with pytest.raises(ImportFormatError, match="timestamp"):
        import_files([wrong], ledger_path)
    assert not ledger_path.exists()


def test_entries_older_than_the_session_are_refused(ledger_path: Path, files: list[Path],
                                                    tmp_path: Path):
    import_files(files, ledger_path, durable=False)
    late = tmp_path / "late.json"
    late.write_text(json.dumps([seed_entry(7, "abc123", "2025-11-01T00:00:00+00:00")]))
    with pytest.raises(InvalidInputError, match="nothing was imported"):
        import_files([late], ledger_path)
    assert len(LogQuery(ledger_path).get_session_logs("abc123")) == 3


def test_naive_seed_times_are_local(ledger_path: Path, tmp_path: Path):
    naive = tmp_path / "naive.json"
    naive.write_text(json.dumps([seed_entry(1, "loc", "2025-11-05T17:30:45.123456")]))
    import_files([naive], ledger_path, durable=False)
    entry = LogQuery(ledger_path).get_session_logs("loc")[0]
    expected = dt.datetime(2025, 11, 5, 17, 30, 45, 123456).astimezone().astimezone(dt.UTC)
    assert entry.timestamp == expected
