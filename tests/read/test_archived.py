"""Archived sessions are part of every answer: audit, queries, session, show, stats,
patterns, file history and export read them from their bundles after maintenance has
removed their refs and pruned their objects from the ledger; a bundle that cannot be read
is reported, never dropped silently."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from ledger import ChangeLogger, LogQuery, LogStorage
from tests.conftest import fsck_clean, git, run_cli
from tests.lifecycle.test_storage import NOW, OLD, fill


def _archive(ledger: Path, work: Path) -> tuple[list[str], list[str], Path]:
    """Two sessions, the old one archived by maintenance and its objects pruned."""
    old_ids = fill(ledger, work, "old-session", 8, OLD)
    new_ids = fill(ledger, work, "new-session", 6, NOW - dt.timedelta(hours=2))
    result = LogStorage(ledger, prune_grace_seconds=0, quiet=True).maintenance()
    assert result["sessions_archived"] == ["old-session"]
    # The old session's objects are gone from the ledger itself: only the bundle has them.
    assert "old-session" not in git(ledger, "for-each-ref")
    assert git(ledger, "cat-file", "-e", old_ids[0], check=False) == ""
    return old_ids, new_ids, Path(result["archive"])


def test_audit_over_a_partly_archived_period_counts_every_entry(
    ledger_path: Path, workdir: Path
) -> None:
    _old_ids, _new_ids, _bundle = _archive(ledger_path, workdir)
    # The cache is disposable: readers index the bundle's pack again.
    shutil.rmtree(ledger_path / "archive" / "objects")
    q = LogQuery(ledger_path)
    report = q.generate_audit_report("90d", fsck=False)
    assert report["summary"]["total_entries"] == 14
    assert report["summary"]["sessions"] == 2
    assert report["not_covered"] == []
    assert report["integrity"]["archived_sessions"] == 1
    assert {s["session_id"]: s["entries"] for s in report["sessions"]} == {
        "old-session": 8, "new-session": 6,
    }
    live = LogQuery(ledger_path, live_only=True).generate_audit_report("90d", fsck=False)
    assert live["summary"]["total_entries"] == 6 and live["live_only"] is True
    fsck_clean(ledger_path)


def test_every_answer_includes_archived_sessions(ledger_path: Path, workdir: Path) -> None:
    old_ids, new_ids, bundle = _archive(ledger_path, workdir)
    q = LogQuery(ledger_path)
    assert {e.id for e in q.query()} == set(old_ids + new_ids)
    assert [e.id for e in q.query(session_id="old-session")] == old_ids[::-1]
    assert [e.id for e in q.get_session_logs("old-session")] == old_ids
    assert q.get_entry(old_ids[3][:10]).id == old_ids[3]
    assert q.get_entry(old_ids[0]).session_id == "old-session"
    assert {e.id for e in q.query(search_text="make step1")} >= {old_ids[1], new_ids[1]}
    history = q.get_file_history("src/f0.py")
    assert [e.id for e in history] == [old_ids[0], old_ids[6], new_ids[0]]
    assert history[0].after_state is not None  # the file state is read from the bundle
    stats = q.stats()
    assert stats["total_entries"] == 14 and stats["sessions"] == 2
    assert stats["archived_sessions"] == 1
    rows = {r["session_id"]: r for r in q.list_sessions()}
    assert rows["old-session"]["entries"] == 8 and rows["old-session"]["archive"] == bundle.name
    assert rows["new-session"]["archive"] is None
    assert q.analyze_patterns()["total_entries"] == 14
    # Without the index, walking the graph gives the same answers.
    walked = LogQuery(ledger_path, use_index=False)
    assert {e.id for e in walked.query()} == set(old_ids + new_ids)
    assert walked.stats()["total_entries"] == 14
    # --live-only: the old behaviour.
    live = LogQuery(ledger_path, live_only=True)
    assert {e.id for e in live.query()} == set(new_ids)
    assert live.stats()["total_entries"] == 6
    assert live.get_session_logs("old-session") == []
    # A full answer after a live-only one still covers the archive (one shared index).
    assert LogQuery(ledger_path).stats()["total_entries"] == 14


def test_export_includes_archived_sessions(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    old_ids, new_ids, _ = _archive(ledger_path, workdir)
    out = tmp_path / "all.jsonl"
    result = LogStorage(ledger_path, quiet=True).export_logs(out, format="jsonl")
    assert result["entries"] == 14 and result["warnings"] == []
    ids = {json.loads(line)["id"] for line in out.read_text().splitlines()}
    assert ids == set(old_ids + new_ids)
    live = LogStorage(ledger_path, quiet=True).export_logs(out, format="jsonl", live_only=True)
    assert live["entries"] == 6


def test_a_missing_bundle_is_reported_in_one_line(ledger_path: Path, workdir: Path) -> None:
    _old_ids, _new_ids, bundle = _archive(ledger_path, workdir)
    bundle.unlink()
    shutil.rmtree(ledger_path / "archive" / "objects")
    q = LogQuery(ledger_path)
    report = q.generate_audit_report("90d", fsck=False)
    assert report["summary"]["total_entries"] == 6
    [gap] = report["not_covered"]
    assert gap["bundle"] == bundle.name and gap["reason"] == "is missing"
    assert gap["sessions"] == ["old-session"] and gap["entries"] == 8
    # A period the missing sessions do not touch has nothing to report.
    recent = q.generate_audit_report("1d", fsck=False)
    assert recent["not_covered"] == []
    proc = run_cli("--ledger", str(ledger_path), "stats")
    assert proc.returncode == 0
    warning = [line for line in proc.stderr.splitlines() if bundle.name in line]
    assert len(warning) == 1 and "8 entries" in warning[0] and "missing" in warning[0]
    md = run_cli("--ledger", str(ledger_path), "audit", "90d", "--no-fsck", "--format",
                 "markdown")
    assert "## Not covered" in md.stdout and bundle.name in md.stdout


def test_a_damaged_bundle_is_reported(ledger_path: Path, workdir: Path) -> None:
    _, _, bundle = _archive(ledger_path, workdir)
    shutil.rmtree(ledger_path / "archive" / "objects")
    data = bundle.read_bytes()
    bundle.write_bytes(data[: len(data) // 2])
    q = LogQuery(ledger_path)
    assert q.stats()["total_entries"] == 6
    [gap] = q.not_covered()
    assert gap["bundle"] == bundle.name and "unreadable" in gap["reason"]


def test_cli_session_show_and_live_only(ledger_path: Path, workdir: Path) -> None:
    old_ids, _new_ids, _ = _archive(ledger_path, workdir)
    proc = run_cli("--ledger", str(ledger_path), "session", "old-session", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [row["id"] for row in json.loads(proc.stdout)] == old_ids
    proc = run_cli("--ledger", str(ledger_path), "show", old_ids[2][:12], "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == old_ids[2]
    proc = run_cli("--ledger", str(ledger_path), "session", "old-session", "--live-only")
    assert proc.returncode == 1 and "no session old-session" in proc.stderr  # live only: not there
    proc = run_cli("--ledger", str(ledger_path), "audit", "90d", "--no-fsck")
    assert json.loads(proc.stdout)["summary"]["total_entries"] == 14
    proc = run_cli("--ledger", str(ledger_path), "audit", "90d", "--no-fsck", "--live-only")
    assert json.loads(proc.stdout)["summary"]["total_entries"] == 6


def test_restored_sessions_are_not_counted_twice(ledger_path: Path, workdir: Path) -> None:
    _old_ids, _, bundle = _archive(ledger_path, workdir)
    LogStorage(ledger_path, quiet=True).restore_archive(bundle)
    q = LogQuery(ledger_path)
    assert q.stats()["total_entries"] == 14 and q.stats()["archived_sessions"] == 0
    # The restored session grows and is archived again: the older bundle's copy is covered.
    logger = ChangeLogger(ledger_path, agent_id="agent-a", session_id="old-session",
                          workdir=workdir, durable=False)
    logger.log_command("again", timestamp=OLD + dt.timedelta(hours=3))
    LogStorage(ledger_path, prune_grace_seconds=0, quiet=True).maintenance()
    q = LogQuery(ledger_path)
    assert q.stats()["total_entries"] == 15
    assert len(q.get_session_logs("old-session")) == 9


def test_writers_never_lean_on_archived_objects(ledger_path: Path, workdir: Path) -> None:
    """A new entry whose objects equal archived ones still writes them into the ledger."""
    _archive(ledger_path, workdir)
    LogQuery(ledger_path).stats()  # a reader has the archive open in this process
    again = fill(ledger_path, workdir, "old-session-2", 8, OLD)
    assert again
    fsck_clean(ledger_path)
    for oid in git(ledger_path, "rev-list", "--objects", "--all").split():
        if len(oid) == 40:
            git(ledger_path, "cat-file", "-e", oid)


@pytest.mark.parametrize("command", ["stats", "sessions"])
def test_live_only_is_accepted_by_read_commands(
    ledger_path: Path, workdir: Path, command: str
) -> None:
    _archive(ledger_path, workdir)
    proc = run_cli("--ledger", str(ledger_path), command, "--live-only", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "old-session" not in proc.stdout
