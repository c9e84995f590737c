"""The audit computed by SQL over the query index equals the audit read entry by entry
from git, on a real ledger with every kind of entry the report counts or lists."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from ledger import ChangeLogger, ChangeType, LogLevel, LogQuery
from ledger.read.filters import Criteria
from ledger.read.walk import scan
from ledger.reports.audit import audit_data
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
