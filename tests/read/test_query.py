"""LogQuery on real ledgers written with ChangeLogger: filters, order, windows, history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, LogLevel, LogQuery
from ledger._layout import INDEX_FILE
from ledger.errors import (
    EntryNotFoundError,
    InvalidDateError,
    InvalidInputError,
    LedgerNotFoundError,
)
from tests.conftest import fsck_clean, git

T0 = dt.datetime(2025, 11, 1, 12, 0, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def logger(ledger: Path, work: Path, session: str, agent: str) -> ChangeLogger:
    return ChangeLogger(ledger, agent_id=agent, session_id=session, workdir=work, durable=False)


@pytest.fixture
def ledger(ledger_path: Path, workdir: Path) -> Path:
    """Two agents in three sessions over three days, with a file both sessions change."""
    a = logger(ledger_path, workdir, "s-alpha", "alpha")
    b = logger(ledger_path, workdir, "s-beta", "beta")
    c = logger(ledger_path, workdir, "s-gamma", "alpha")
    a.log_file_change("api/main.py", ChangeType.FILE_CREATE, None, "v1\n", timestamp=at(0))
    b.log_command("pytest -q", "12 passed", 0, timestamp=at(5))
    a.log_command("make build", "Linker FAILED", 2, timestamp=at(10))
    # b has never seen api/main.py: an observation commit precedes this entry.
    b.log_file_change(
        "api/main.py", ChangeType.FILE_UPDATE, "v1\n", "v2\n", timestamp=at(20)
    )
    a.log_api_call("/api/users", "POST", {"name": "x"}, {"error": "boom"}, 500,
                   timestamp=at(86400))
    b.log_agent_decision("Use the Database cache", "Reads dominate",
                         {"ticket": "OPS-7"}, timestamp=at(86400 + 30))
    c.log(ChangeType.CONFIG_CHANGE, "Raise pool size", {"key": "db.pool", "value": 20},
          level=LogLevel.WARNING, file_path="config/app.yaml", timestamp=at(2 * 86400))
    c.log(ChangeType.DEPLOYMENT, "Deployed v1.4", {"environment": "prod"},
          level=LogLevel.CRITICAL, timestamp=at(2 * 86400 + 60))
    c.log_file_change("api/routes/users.py", ChangeType.FILE_CREATE, None, "def f(): ...\n",
                      timestamp=at(2 * 86400 + 120))
    a.log_file_change("api/main.py", ChangeType.FILE_DELETE, "v2\n", None,
                      timestamp=at(3 * 86400))
    return ledger_path


@pytest.fixture(params=[True, False], ids=["index", "walk"])
def q(request: pytest.FixtureRequest, ledger: Path) -> LogQuery:
    return LogQuery(ledger, use_index=request.param)


def descriptions(entries: list) -> list[str]:
    return [e.description for e in entries]


def test_query_returns_every_entry_newest_first_without_observations(q: LogQuery, ledger: Path):
    entries = q.query()
    assert len(entries) == 10
    stamps = [e.timestamp for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    assert all(e.timestamp.tzinfo is dt.UTC for e in entries)
    # git sees two more commits: beta's first sight of api/main.py and alpha's view of it
    # changed behind its back (drift); observations are not entries.
    commits = git(ledger, "log", "--all", "--format=%H").split()
    observations = git(ledger, "log", "--all", "--format=%H", "--grep=^Ledger-Observation:")
    assert len(commits) == 12 and len(observations.split()) == 2
    assert [e.drift for e in entries if e.change_type is ChangeType.FILE_DELETE] == [True]
    assert {e.id for e in entries} == set(commits) - set(observations.split())
    fsck_clean(ledger)


def test_filters_by_type_level_session_agent(q: LogQuery):
    cmds = q.query(change_types=[ChangeType.SYSTEM_COMMAND])
    assert descriptions(cmds) == ["Executed: make build", "Executed: pytest -q"]
    assert descriptions(q.query(change_types="file_update")) == ["Updated api/main.py"]
    errors = q.query(levels=["error", "critical"])
    assert descriptions(errors) == [
        "Deployed v1.4", "POST /api/users -> 500", "Executed: make build",
    ]
    assert {e.session_id for e in q.query(agent_id="alpha")} == {"s-alpha", "s-gamma"}
    beta = q.query(session_id="s-beta")
    assert [e.agent_id for e in beta] == ["beta"] * 3
    assert q.query(session_id="s-none") == []
    assert q.query(agent_id="nobody") == []


def test_limit_keeps_the_newest(q: LogQuery):
    assert descriptions(q.query(limit=2)) == ["Deleted api/main.py", "Created api/routes/users.py"]
    assert q.query(limit=0) == []
    with pytest.raises(InvalidInputError):
        q.query(limit=-1)


def test_file_path_matches_files_and_folders(q: LogQuery):
    assert len(q.query(file_path="api/main.py")) == 3
    assert len(q.query(file_path="./api/main.py")) == 3
    folder = q.query(file_path="api/")
    assert descriptions(folder) == [
        "Deleted api/main.py", "Created api/routes/users.py", "Updated api/main.py",
        "Created api/main.py",
    ]
    assert q.query(file_path="api") == folder
    assert q.query(file_path="ap") == []  # a prefix of a name is not a folder
    assert descriptions(q.query(file_path="config")) == ["Raise pool size"]


def test_absolute_path_inside_workspace_matches_both_forms(ledger_path: Path, workdir: Path):
    lg = logger(ledger_path, workdir, "s-abs", "alpha")
    full = workdir / "src" / "app.py"
    lg.log_file_change(str(full), ChangeType.FILE_CREATE, None, "x = 1\n", timestamp=at(0))
    for use_index in (True, False):
        q = LogQuery(ledger_path, use_index=use_index)
        assert len(q.query(file_path="src/app.py")) == 1
        assert len(q.query(file_path=str(workdir / "src"))) == 1
        assert len(q.get_file_history("src/app.py")) == 1


def test_search_text_is_case_insensitive_over_metadata_values(q: LogQuery):
    assert descriptions(q.query(search_text="DATABASE")) == ["Use the Database cache"]
    assert descriptions(q.query(search_text="reads dominate")) == ["Use the Database cache"]
    assert descriptions(q.query(search_text="ops-7")) == ["Use the Database cache"]
    assert descriptions(q.query(search_text="linker failed")) == ["Executed: make build"]
    assert descriptions(q.query(search_text="/api/users")) == ["POST /api/users -> 500"]
    assert descriptions(q.query(search_text="db.pool")) == ["Raise pool size"]
    assert q.query(search_text="no such words") == []
    combined = q.query(search_text="api", change_types=["file_create"], agent_id="alpha")
    assert descriptions(combined) == ["Created api/routes/users.py", "Created api/main.py"]


def test_date_windows_are_inclusive_and_accept_strings(q: LogQuery):
    day2 = q.query(start_date=at(86400), end_date=at(86400 + 30))
    assert descriptions(day2) == ["Use the Database cache", "POST /api/users -> 500"]
    assert len(q.query(start_date=at(86400 + 0.000001), end_date=at(86400 + 30))) == 1
    # A bare date as the end includes that whole day; as a date object too.
    assert len(q.query(end_date=dt.date(2025, 11, 1))) == len(
        q.query(end_date=at(86399))
    )
    assert len(q.query(start_date="2020-01-01", end_date="2025-11-01T12:00:05+00:00")) == 2
    with pytest.raises(InvalidDateError):
        q.query(start_date="yesterday-ish")


def test_naive_datetimes_are_local_time(q: LogQuery):
    local_start = at(86400).astimezone().replace(tzinfo=None)
    assert len(q.query(start_date=local_start)) == 6


def test_window_edges_within_one_second(ledger_path: Path, workdir: Path):
    """Commit times are whole seconds; entry times have microseconds."""
    base = dt.datetime(2025, 6, 1, 8, 0, 0, tzinfo=dt.UTC)
    x = logger(ledger_path, workdir, "s-x", "x")
    y = logger(ledger_path, workdir, "s-y", "y")
    z = logger(ledger_path, workdir, "s-z", "z")
    y.log(ChangeType.AGENT_DECISION, "early", timestamp=base + dt.timedelta(microseconds=250000))
    x.log(ChangeType.AGENT_DECISION, "late", timestamp=base + dt.timedelta(microseconds=750000))
    z.log(ChangeType.AGENT_DECISION, "middle", timestamp=base + dt.timedelta(microseconds=500000))
    z.log(ChangeType.AGENT_DECISION, "next second", timestamp=base + dt.timedelta(seconds=1))
    for use_index in (True, False):
        q = LogQuery(ledger_path, use_index=use_index)
        assert descriptions(q.query()) == ["next second", "late", "middle", "early"]
        half = base + dt.timedelta(microseconds=500000)
        assert descriptions(q.query(start_date=half)) == ["next second", "late", "middle"]
        assert descriptions(q.query(end_date=half)) == ["middle", "early"]
        assert descriptions(q.query(start_date=half, end_date=half)) == ["middle"]
        assert descriptions(q.query(limit=2)) == ["next second", "late"]
        assert descriptions(q.query(search_text="e", limit=3)) == ["next second", "late", "middle"]


def test_recent_changes(ledger_path: Path, workdir: Path):
    lg = logger(ledger_path, workdir, "s-now", "alpha")
    now = dt.datetime.now(dt.UTC)
    lg.log(ChangeType.AGENT_DECISION, "old", timestamp=now - dt.timedelta(hours=30))
    lg.log(ChangeType.AGENT_DECISION, "new", timestamp=now - dt.timedelta(hours=2))
    lg.log(ChangeType.AGENT_DECISION, "newest")
    q = LogQuery(ledger_path)
    assert descriptions(q.get_recent_changes()) == ["newest", "new"]
    assert descriptions(q.get_recent_changes(hours=48, limit=1)) == ["newest"]
    assert descriptions(q.get_recent_changes(hours=1)) == ["newest"]


def test_windows_see_sessions_that_moved_on(ledger: Path, workdir: Path):
    q = LogQuery(ledger)
    window = {"start_date": at(3 * 86400 - 1)}
    assert descriptions(q.query(**window)) == ["Deleted api/main.py"]
    # s-beta's tip was older than the window: its new tip must be read, not remembered.
    logger(ledger, workdir, "s-beta", "beta").log(
        ChangeType.AGENT_DECISION, "back again", timestamp=at(3 * 86400 + 1)
    )
    assert descriptions(q.query(**window)) == ["back again", "Deleted api/main.py"]
    assert descriptions(LogQuery(ledger, use_index=False).query(**window)) == [
        "back again", "Deleted api/main.py",
    ]


def test_session_logs_are_oldest_first(q: LogQuery):
    logs = q.get_session_logs("s-alpha")
    assert descriptions(logs) == [
        "Created api/main.py", "Executed: make build", "POST /api/users -> 500",
        "Deleted api/main.py",
    ]
    assert q.get_session_logs("s-unknown") == []
    with pytest.raises(InvalidInputError):
        q.get_session_logs("../x")


def test_get_entry_by_prefix(q: LogQuery, ledger: Path):
    entry = q.query(limit=1)[0]
    assert q.get_entry(entry.id[:7]) == entry
    assert q.get_entry(entry.id.upper()) == entry
    observation = git(ledger, "log", "--all", "--format=%H", "--grep=^Ledger-Observation:")
    with pytest.raises(EntryNotFoundError):
        q.get_entry(observation.split()[0])
    with pytest.raises(EntryNotFoundError):
        q.get_entry("0000000000")
    with pytest.raises(EntryNotFoundError):
        q.get_entry("abc")


def test_file_history_across_sessions_matches_git_log(q: LogQuery, ledger: Path):
    history = q.get_file_history("api/main.py")
    assert [(e.session_id, e.change_type.value) for e in history] == [
        ("s-alpha", "file_create"), ("s-beta", "file_update"), ("s-alpha", "file_delete"),
    ]
    assert [e.before_state for e in history] == [None, "v1\n", "v2\n"]
    assert [e.after_state for e in history] == ["v1\n", "v2\n", None]
    logged = git(ledger, "log", "--all", "--format=%H", "--", "files/api/main.py").split()
    observations = set(
        git(ledger, "log", "--all", "--format=%H", "--grep=^Ledger-Observation:").split()
    )
    assert {e.id for e in history} == set(logged) - observations
    diffs = [q.get_diff(e) for e in history]
    assert diffs[0].startswith("--- /dev/null\n+++ b/api/main.py\n") and "+v1" in diffs[0]
    assert "-v1\n+v2\n" in diffs[1]
    assert "+++ /dev/null" in diffs[2] and "-v2" in diffs[2]
    # git shows the same step: the entry's commit against its parent.
    shown = git(ledger, "show", "--format=", history[1].id, "--", "files/api/main.py")
    assert "-v1\n+v2\n" in shown
    assert q.get_file_history("api/") == []  # a folder is not a file
    assert q.get_diff(q.query(change_types="system_command")[0]) == ""


def test_list_sessions(q: LogQuery):
    rows = q.list_sessions()
    assert [r["session_id"] for r in rows] == ["s-alpha", "s-gamma", "s-beta"]
    alpha = rows[0]
    assert alpha["agent_id"] == "alpha" and alpha["entries"] == 4 and alpha["errors"] == 2
    assert alpha["first_timestamp"] == at(0).isoformat()
    assert alpha["last_timestamp"] == at(3 * 86400).isoformat()
    assert rows[1]["errors"] == 1 and rows[2]["entries"] == 3
    assert alpha["tip"] == q.store.tip("s-alpha").hex()


def test_stats(q: LogQuery):
    s = q.stats()
    assert s["total_entries"] == 10 and s["sessions"] == 3 and s["agents"] == 2
    assert s["by_type"]["file_create"] == 2 and s["by_level"]["critical"] == 1
    assert sum(s["by_level"].values()) == 10


def test_index_follows_the_refs(ledger: Path, workdir: Path):
    q = LogQuery(ledger)
    assert len(q.query(search_text="pytest")) == 1
    assert (ledger / INDEX_FILE).exists()
    # New entries appear at once; a session deleted with git disappears.
    logger(ledger, workdir, "s-beta", "beta").log_command("pytest -x", "1 failed", 1,
                                                          timestamp=at(4 * 86400))
    assert len(q.query(search_text="pytest")) == 2
    git(ledger, "update-ref", "-d", "refs/heads/sessions/s-beta")
    assert q.query(search_text="pytest") == []
    assert [r["session_id"] for r in q.list_sessions()] == ["s-alpha", "s-gamma"]
    # A rewritten session is re-read, not appended to.
    tip = git(ledger, "rev-parse", "refs/heads/sessions/s-alpha~1").strip()
    git(ledger, "update-ref", "refs/heads/sessions/s-alpha", tip)
    assert len(q.query(file_path="api/main.py")) == 1
    assert q.list_sessions()[1]["entries"] == 3
    # A damaged index file is rebuilt.
    (ledger / INDEX_FILE).write_bytes(b"not a database")
    for suffix in ("-wal", "-shm"):
        (ledger / (INDEX_FILE + suffix)).unlink(missing_ok=True)
    assert len(q.query(file_path="api/")) == 2
    fsck_clean(ledger)


def test_index_and_walk_agree(ledger: Path):
    with_index, walk = LogQuery(ledger), LogQuery(ledger, use_index=False)
    for kwargs in (
        {"search_text": "a"}, {"file_path": "api/"}, {"search_text": "e", "levels": ["info"]},
        {"file_path": "api/", "start_date": at(10), "end_date": at(86400 * 2 + 120)},
    ):
        assert with_index.query(**kwargs) == walk.query(**kwargs)
    assert with_index.list_sessions() == walk.list_sessions()
    assert with_index.stats() == walk.stats()


def test_missing_ledger_is_a_clear_error(tmp_path: Path):
    with pytest.raises(LedgerNotFoundError):
        LogQuery(tmp_path / "nothing.git")
    assert not (tmp_path / "nothing.git").exists()
