"""The audit computed by SQL over the query index equals the audit read entry by entry
from git, on a real ledger with every kind of entry the report counts or lists."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger, ChangeType, LogLevel, LogQuery
from ledger.dates import from_micros, micros
from ledger.read.filters import Criteria
from ledger.read.walk import scan
from ledger.reports.audit import audit_data
from ledger.reports.audit_sql import _stamp_sql
from tests.conftest import git

T0 = dt.datetime(2025, 11, 3, 9, 0, 0, tzinfo=dt.UTC)
REPOS = [None, {"repository": "/src/one"}, {"repository": {"root": "/src/two",
                                                         "remote": "https://example.com/two.git"}}]


def _fill(ledger: Path, workdir: Path, seed: int) -> None:
    rnd = random.Random(seed)
    loggers = [ChangeLogger(ledger, agent_id=f"agent-{i % 2}", session_id=f"s{i}",
                            workdir=workdir, durable=False) for i in range(4)]
    contents: dict[str, str | None] = {}
    times = sorted(rnd.randrange(0, 3000) // 7 * 7 for _ in range(120))  # ties on purpose
    for n, minutes in enumerate(times):
        log = rnd.choice(loggers)
        at = T0 + dt.timedelta(minutes=minutes)
        kind = rnd.randrange(7)
        repo = rnd.choice(REPOS) or {}
        if kind == 0:
            path = f"src/f{rnd.randrange(5)}.py"
            old = contents.get(path)
            ctype = ChangeType.FILE_UPDATE if old is not None else ChangeType.FILE_CREATE
            contents[path] = f"{n}\n"
            log.log_file_change(path, ctype, old, contents[path], metadata=dict(repo),
                                timestamp=at)
        elif kind == 1:
            log.log_command(f"make t{n}", "out", rnd.choice([0, 0, 2]), duration=1.5,
                            timestamp=at)
        elif kind == 2:
            log.log_api_call("/v1/x", "POST", {}, {}, rnd.choice([200, 404, 503]),
                             duration=0.25, timestamp=at)
        elif kind == 3:
            log.log(ChangeType.DEPLOYMENT, f"Deploy {n}", {"env": "prod"},
                    level=LogLevel.CRITICAL, timestamp=at)
        elif kind == 4:
            log.log(ChangeType.CONFIG_CHANGE, f"Set {n}", {"key": "k", "value": n},
                    level=rnd.choice([LogLevel.INFO, LogLevel.WARNING]), timestamp=at)
        else:
            log.log(ChangeType.AGENT_DECISION, f"decide {n}", dict(repo),
                    level=rnd.choice(list(LogLevel)), timestamp=at)


def test_indexed_audit_equals_the_audit_read_from_git(ledger_path: Path, workdir: Path):
    _fill(ledger_path, workdir, seed=15)
    start, end = T0 + dt.timedelta(hours=3), T0 + dt.timedelta(hours=40)
    query = LogQuery(ledger_path)
    indexed = query.generate_audit_report(start, end, fsck=False)
    assert query.index is not None and query.index.path.exists()  # the SQL path answered
    read = audit_data(scan(query.store, Criteria(start=start, end=end), None,
                           query.archives()), start, end)
    for key in read:
        assert indexed[key] == read[key], key
    # the same JSON text, key order included
    sections = {k: indexed[k] for k in read}
    assert json.dumps(sections) == json.dumps(read)
    s = indexed["summary"]
    assert 0 < s["total_entries"] < 120
    assert s["errors"] and s["commands"] and s["api_calls"] and s["files_changed"]
    repos = {r["repository"] for r in indexed["repositories"]}
    assert None in repos and "/src/one" in repos and len(repos) == 3
    in_period = git(ledger_path, "log", "--all", "--format=%H",
                    f"--since=@{int(start.timestamp())}", f"--until=@{int(end.timestamp())}")
    assert {e["id"] for e in indexed["errors"]} <= set(in_period.split())


def test_a_commit_two_copies_of_a_session_share_is_counted_once(ledger_path: Path,
                                                                  workdir: Path):
    """A diverged copy kept beside a session (as a pull keeps one) shares the session's
    older commits: the audit counts and lists each of them once, as git sees them."""
    log = ChangeLogger(ledger_path, agent_id="a", session_id="s", workdir=workdir,
                       durable=False)
    for n in range(6):
        log.log_command(f"make t{n}", "", n % 2, timestamp=T0 + dt.timedelta(minutes=n))
    tip = git(ledger_path, "rev-parse", "refs/heads/sessions/s").strip()
    git(ledger_path, "update-ref", "refs/heads/sessions/s--from-origin-abc", tip)
    for n in range(6, 9):
        log.log_command(f"make t{n}", "", 0, timestamp=T0 + dt.timedelta(minutes=n))
    copy = ChangeLogger(ledger_path, agent_id="b", session_id="s--from-origin-abc",
                        workdir=workdir, durable=False)
    copy.log_command("make other", "", 0, timestamp=T0 + dt.timedelta(minutes=7))
    start, end = T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1)
    query = LogQuery(ledger_path)
    report = query.generate_audit_report(start, end, fsck=False)
    commits = git(ledger_path, "log", "--all", "--format=%H").split()
    assert len(commits) == len(set(commits)) == 10
    assert report["summary"]["total_entries"] == 10
    assert sorted(c["id"] for c in report["commands"]) == sorted(commits)
    assert sum(s["entries"] for s in report["sessions"]) == 10
    read = audit_data(scan(query.store, Criteria(start=start, end=end), None,
                           query.archives()), start, end)
    assert json.dumps({k: report[k] for k in read}) == json.dumps(read)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=micros(dt.datetime(1, 1, 1, tzinfo=dt.UTC)),
                   max_value=micros(dt.datetime(9999, 12, 31, 23, 59, 59, 999999,
                                                tzinfo=dt.UTC))))
def test_times_formatted_by_sqlite_are_pythons_isoformat(value: int):
    conn = sqlite3.connect(":memory:")
    try:
        (text,) = conn.execute(f"SELECT {_stamp_sql(':v')}", {"v": value}).fetchone()
    finally:
        conn.close()
    assert text == from_micros(value).isoformat()


def test_times_formatted_by_sqlite_at_the_edges():
    conn = sqlite3.connect(":memory:")
    for value in (0, 1, -1, 999_999, 1_000_000, -1_000_000, -1_500_000, 1_764_000_000_000_000):
        (text,) = conn.execute(f"SELECT {_stamp_sql(':v')}", {"v": value}).fetchone()
        assert text == from_micros(value).isoformat(), value
    conn.close()
