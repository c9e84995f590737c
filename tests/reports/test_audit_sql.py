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
from ledger.read.index_rows import _extra
from ledger.read.walk import scan
from ledger.reports.audit import audit_data, generate_audit_report
from ledger.reports.audit_sql import _stamp_sql, list_sql
from ledger.reports.jsontext import _ONE_LINE, RawJson, audit_json
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
    # as the CLI writes it: commands and API calls copied as SQLite's JSON text
    raw = generate_audit_report(query, start, end, fsck=False, json_items=True)
    assert raw["commands"] and all(type(c) is RawJson for c in raw["commands"])
    assert raw["errors"] and all(type(c) is RawJson for c in raw["errors"])
    assert raw["deployments"] and all(type(c) is RawJson for c in raw["deployments"])
    assert audit_json({k: raw[k] for k in read}) == audit_json(read)
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


_ODD_EXIT_CODES = [0, 0.0, -0.0, False, True, None, "0", "", 2, -1, 1.5, [0], {"a": 0},
                   10**30, -(10**30), "fail"]
_ODD_STATUS_CODES = [200, 399, 400, 404, 404.0, True, False, "500", None, 10**20, -5, [500],
                     {"c": 500}, 999]


def test_failures_in_the_summary_are_counted_as_python_counts_them(ledger_path: Path,
                                                                   workdir: Path):
    """Metadata is the agent's: exit and status codes of any JSON type are counted by SQL as
    the report read from git counts them, and their JSON text is copied exactly."""
    log = ChangeLogger(ledger_path, agent_id="a", session_id="odd", workdir=workdir,
                       durable=False)
    for n, code in enumerate(_ODD_EXIT_CODES):
        meta = {"command": ["x", n], "exit_code": code, "duration_seconds": 1e16 if n % 2 else 0.1}
        log.log(ChangeType.SYSTEM_COMMAND, f"run {n}", meta,
                timestamp=T0 + dt.timedelta(seconds=n))
    for n, code in enumerate(_ODD_STATUS_CODES):
        meta = {"method": "GET", "endpoint": f"/é/{n}", "status_code": code}
        log.log(ChangeType.API_CALL, f"call {n}", meta,
                timestamp=T0 + dt.timedelta(seconds=100 + n))
    log.log(ChangeType.SYSTEM_COMMAND, "no code at all", {},
            timestamp=T0 + dt.timedelta(hours=1))
    start, end = T0, T0 + dt.timedelta(hours=2)
    query = LogQuery(ledger_path)
    read = audit_data(scan(query.store, Criteria(start=start, end=end), None,
                           query.archives()), start, end)
    assert read["summary"]["failed_commands"] == 11  # all 16 but 0, 0.0, -0.0, False, None
    assert read["summary"]["failed_api_calls"] == 4  # 400, 404, 10**20, 999
    for json_items in (False, True):
        indexed = generate_audit_report(query, start, end, fsck=False, json_items=json_items)
        assert query.index is not None and query.index.path.exists()
        assert indexed["summary"] == read["summary"]
        assert audit_json({k: indexed[k] for k in read}) == audit_json(read)


_YEAR_1 = micros(dt.datetime(1, 1, 1, tzinfo=dt.UTC))
_YEAR_9999 = micros(dt.datetime(9999, 12, 31, tzinfo=dt.UTC))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["commands", "api_calls"]), st.dictionaries(st.text(), _JSON),
       st.text(), st.text(), st.text(), st.integers(min_value=_YEAR_1, max_value=_YEAR_9999))
def test_sqlite_writes_a_listed_item_as_the_report_writer_would(
    section: str, meta: dict, description: str, session: str, agent: str, ts: int
):
    """The JSON text SQLite builds for a command or API call from the index's row is the
    text the report's JSON writer writes for the item built in Python."""
    ctype = "system_command" if section == "commands" else "api_call"
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE t (id, ts, s, agent, extra)")
        conn.execute("INSERT INTO t VALUES ('c0ffee', ?, ?, ?, ?)",
                     (ts, session, agent, _extra(ctype, meta, description)))
        (text,) = conn.execute(f"SELECT {list_sql(section)} FROM t").fetchone()
    finally:
        conn.close()
    brief = {"id": "c0ffee", "timestamp": from_micros(ts).isoformat(), "session_id": session,
             "agent_id": agent}
    if section == "commands":
        item = {**brief, "command": meta.get("command", description),
                "exit_code": meta.get("exit_code"),
                "duration_seconds": meta.get("duration_seconds")}
    else:
        item = {**brief, "method": meta.get("method"), "endpoint": meta.get("endpoint"),
                "status_code": meta.get("status_code"),
                "duration_seconds": meta.get("duration_seconds")}
    assert text == _ONE_LINE.encode(item)
