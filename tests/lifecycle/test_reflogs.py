"""Reflog compaction in maintenance: runs of plain fast-forward lines leave the reflog for a
chained record; every other line stays; git itself still reads the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import ChangeLogger, LogStorage
from ledger._layout import SESSION_REF_PREFIX
from ledger.errors import InvalidInputError
from ledger.lifecycle.reflogs import RECORD_FILE, parse_lines, runs
from ledger.trust.verify import verify_ledger
from tests.conftest import fsck_clean, git, run_cli


def _write(ledger: Path, work: Path, session: str, n: int, start: int = 0) -> ChangeLogger:
    logger = ChangeLogger(ledger, agent_id="a", session_id=session, workdir=work, durable=False)
    for i in range(start, start + n):
        logger.log_file_change(f"src/{session}.py", "file_update", f"v{i}\n", f"v{i + 1}\n")
    return logger


def _reflog(ledger: Path, session: str) -> list[str]:
    return (ledger / "logs" / (SESSION_REF_PREFIX + session)).read_text().splitlines()


def _records(ledger: Path) -> list[dict[str, object]]:
    path = ledger / "ledger-state" / RECORD_FILE
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_maintenance_compacts_fast_forward_runs_and_records_them(
    ledger_path: Path, workdir: Path
) -> None:
    _write(ledger_path, workdir, "s1", 40)
    before = _reflog(ledger_path, "s1")
    assert len(before) == 40
    result = LogStorage(ledger_path, quiet=True).maintenance()
    after = _reflog(ledger_path, "s1")
    records = _records(ledger_path)
    assert result["reflog_lines_compacted"] == len(before) - len(after) > 20
    assert sum(int(str(r["lines"])) for r in records) == result["reflog_lines_compacted"]
    assert all(line in before for line in after)  # kept lines are untouched, in order
    assert after[0] == before[0]  # the first line (observation + entry) is not plain: kept
    assert after[-1] == before[-1]  # the newest line stays: the ref's current value
    assert records[0]["prev"] is None and all(r["prev"] for r in records[1:])
    report = verify_ledger(ledger_path)
    assert report.ok, report.problems
    fsck_clean(ledger_path)


def test_lines_that_are_not_plain_fast_forwards_are_kept(ledger_path: Path, workdir: Path) -> None:
    logger = _write(ledger_path, workdir, "s1", 10)
    ref = SESSION_REF_PREFIX + "s1"
    ids = git(ledger_path, "rev-list", "--first-parent", "--reverse", ref).split()
    # A rewind with the git CLI (not a fast-forward), then more entries on top of it.
    git(ledger_path, "update-ref", "-m", "rewound by hand", ref, ids[4], ids[-1])
    _write(ledger_path, workdir, "s1", 10, start=100)
    with logger.batch():  # one line for many entries: new is not a child of old
        for i in range(5):
            logger.log("deployment", f"batched {i}")
    _write(ledger_path, workdir, "s1", 5, start=200)
    before = _reflog(ledger_path, "s1")
    LogStorage(ledger_path, quiet=True).maintenance()
    after = _reflog(ledger_path, "s1")
    assert len(after) < len(before)
    for marker in ("rewound by hand", "ledger: batch of 5 entries"):
        assert [x for x in before if marker in x] == [x for x in after if marker in x]
    assert any(f"{ids[-1]} {ids[4]} " in x for x in after)  # the rewind line, as it was
    assert verify_ledger(ledger_path).ok


def test_repeated_runs_compact_only_new_lines_and_keep_the_seams(
    ledger_path: Path, workdir: Path
) -> None:
    storage = LogStorage(ledger_path, quiet=True)
    _write(ledger_path, workdir, "s1", 20)
    storage.maintenance()
    first = _reflog(ledger_path, "s1")
    assert storage.maintenance()["reflog_lines_compacted"] == 0
    assert _reflog(ledger_path, "s1") == first
    _write(ledger_path, workdir, "s1", 20, start=20)
    assert storage.maintenance()["reflog_lines_compacted"] > 5
    second = _reflog(ledger_path, "s1")
    assert all(line in second for line in first)  # earlier seams stay
    assert len(second) < len(first) + 20
    assert verify_ledger(ledger_path).ok


def test_compaction_can_be_turned_off(ledger_path: Path, workdir: Path) -> None:
    _write(ledger_path, workdir, "s1", 10)
    git(ledger_path, "config", "ledger.compactReflogs", "false")
    result = LogStorage(ledger_path, quiet=True).maintenance()
    assert result["reflog_lines_compacted"] == 0
    assert len(_reflog(ledger_path, "s1")) == 10
    assert _records(ledger_path) == []


def test_a_setting_that_is_no_boolean_is_refused_in_one_line(ledger_path: Path,
                                                            workdir: Path) -> None:
    _write(ledger_path, workdir, "s1", 10)
    git(ledger_path, "config", "ledger.compactReflogs", "sometimes")
    with pytest.raises(InvalidInputError, match="ledger.compactReflogs must be true or false"):
        LogStorage(ledger_path, quiet=True).maintenance()
    assert len(_reflog(ledger_path, "s1")) == 10
    proc = run_cli("--ledger", str(ledger_path), "maintenance")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "ledger.compactReflogs" in proc.stderr


def test_a_line_edited_by_hand_ends_a_run(ledger_path: Path, workdir: Path) -> None:
    import pygit2

    _write(ledger_path, workdir, "s1", 12)
    path = ledger_path / "logs" / (SESSION_REF_PREFIX + "s1")
    lines = path.read_bytes().splitlines(keepends=True)
    lines[6] = lines[6].replace(b"ledger: file_update", b"ledger: edited by hand")
    path.write_bytes(b"".join(lines))
    repo = pygit2.Repository(str(ledger_path))
    found = list(runs(repo, parse_lines(b"".join(lines))))
    assert found and all(not (start <= 6 <= end) for start, end in found)
    LogStorage(ledger_path, quiet=True).maintenance()
    assert any(b"edited by hand" in x for x in path.read_bytes().splitlines())


def test_archived_then_restored_session_verifies_clean(ledger_path: Path, workdir: Path) -> None:
    import time

    _write(ledger_path, workdir, "s1", 15)
    _write(ledger_path, workdir, "s2", 5)
    LogStorage(ledger_path, quiet=True).maintenance()
    assert any(r["ref"] == SESSION_REF_PREFIX + "s1" for r in _records(ledger_path))
    time.sleep(1.1)  # the sessions' last entries are now older than a zero-day limit
    result = LogStorage(ledger_path, quiet=True, max_log_age_days=0).maintenance()
    assert "s1" in result["sessions_archived"]
    assert not (ledger_path / "logs" / (SESSION_REF_PREFIX + "s1")).exists()
    assert verify_ledger(ledger_path).ok
    LogStorage(ledger_path, quiet=True).restore_archive(result["archive"])
    assert len(_reflog(ledger_path, "s1")) == 1  # a new life of the ref: a new reflog
    report = verify_ledger(ledger_path)
    assert report.ok, report.problems


def test_a_record_torn_by_a_crash_is_dropped_before_the_next(
    ledger_path: Path, workdir: Path
) -> None:
    _write(ledger_path, workdir, "s1", 10)
    storage = LogStorage(ledger_path, quiet=True)
    storage.maintenance()
    path = ledger_path / "ledger-state" / RECORD_FILE
    whole = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b'{"ref":"refs/heads/sessions/s1","fr')  # killed mid-append
    _write(ledger_path, workdir, "s1", 10, start=10)
    storage.maintenance()
    data = path.read_bytes()
    assert data.startswith(whole) and b'"fr{' not in data and data.endswith(b"\n")
    report = verify_ledger(ledger_path)
    assert report.ok, report.problems
