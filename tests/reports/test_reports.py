"""Audit reports and pattern analysis on a real ledger."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, LogLevel, LogQuery
from ledger.errors import InvalidInputError
from tests.conftest import git

T0 = dt.datetime(2025, 11, 3, 9, 0, 0, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def ledger(ledger_path: Path, workdir: Path) -> Path:
    a = ChangeLogger(ledger_path, agent_id="alpha", session_id="s1", workdir=workdir,
                     durable=False)
    b = ChangeLogger(ledger_path, agent_id="beta", session_id="s2", workdir=workdir,
                     durable=False)
    a.log_file_change("app.py", ChangeType.FILE_CREATE, None, "a\n", timestamp=at(0))
    a.log_command("pytest", "ok", 0, duration=3.0, timestamp=at(1))
    a.log_command("pytest", "1 failed", 1, duration=4.0, timestamp=at(2))
    b.log_api_call("/v1/infer", "POST", {}, {}, 200, duration=0.5, timestamp=at(2.5))
    b.log_api_call("/v1/infer", "POST", {}, {}, 503, duration=1.5, timestamp=at(3))
    b.log_api_call("/health", "GET", None, None, 200, duration=0.1, timestamp=at(3.5))
    b.log(ChangeType.CONFIG_CHANGE, "Set retries", {"key": "retries", "value": 3},
          timestamp=at(4))
    b.log(ChangeType.DEPLOYMENT, "Deploy v2", {"environment": "prod"},
          level=LogLevel.CRITICAL, timestamp=at(25))
    a.log_file_change("app.py", ChangeType.FILE_UPDATE, "a\n", "b\n", timestamp=at(26))
    a.log(ChangeType.AGENT_DECISION, "outside the period", timestamp=at(24 * 10))
    return ledger_path


def test_audit_report_sections(ledger: Path, tmp_path: Path):
    q = LogQuery(ledger)
    out = tmp_path / "audit.json"
    report = q.generate_audit_report(at(0), at(30), output_file=out)
    assert json.loads(out.read_text()) == report
    assert report["period"] == {"start": at(0).isoformat(), "end": at(30).isoformat()}
    s = report["summary"]
    assert (s["total_entries"], s["sessions"], s["agents"]) == (9, 2, 2)
    assert (s["errors"], s["critical"], s["failed_commands"], s["failed_api_calls"]) == (
        2, 1, 1, 1
    )
    assert report["changes_by_type"]["api_call"] == 3
    assert report["changes_by_level"] == {"info": 6, "error": 2, "critical": 1}
    assert [e["description"] for e in report["errors"]] == [
        "Executed: pytest", "POST /v1/infer -> 503", "Deploy v2",
    ]
    assert report["files_changed"] == [
        {"file_path": "app.py", "changes": 2, "by_type": {"file_create": 1, "file_update": 1},
         "sessions": 1, "first_change": at(0).isoformat(), "last_change": at(26).isoformat()}
    ]
    assert [(c["command"], c["exit_code"]) for c in report["commands"]] == [
        ("pytest", 0), ("pytest", 1),
    ]
    assert [(c["endpoint"], c["status_code"]) for c in report["api_calls"]] == [
        ("/v1/infer", 200), ("/v1/infer", 503), ("/health", 200),
    ]
    assert report["deployments"][0]["metadata"] == {"environment": "prod"}
    assert report["config_changes"][0]["metadata"] == {"key": "retries", "value": 3}
    assert [(a["agent_id"], a["entries"]) for a in report["agents"]] == [("beta", 5), ("alpha", 4)]
    integrity = report["integrity"]
    assert integrity["fsck"]["ok"] is True and integrity["sessions_in_ledger"] == 2
    tips = {t["session_id"]: t["tip"] for t in integrity["session_tips"]}
    assert tips == {
        s: git(ledger, "rev-parse", f"refs/heads/sessions/{s}").strip() for s in ("s1", "s2")
    }


def test_audit_report_markdown_and_errors(ledger: Path, tmp_path: Path):
    q = LogQuery(ledger)
    out = tmp_path / "audit.md"
    report = q.generate_audit_report("2025-11-03", "2025-11-04", out, format="markdown",
                                     fsck=False)
    text = out.read_text()
    assert text.startswith("# Audit report")
    for heading in ("## Summary", "## Errors and critical entries", "## Files changed",
                    "## Commands", "## API calls", "## Deployments", "## Integrity"):
        assert heading in text
    assert "| /v1/infer | 503 |" in text.replace("POST | ", "")
    assert report["integrity"]["fsck"] is None and "not run" in text
    with pytest.raises(InvalidInputError):
        q.generate_audit_report(at(5), at(1))
    with pytest.raises(InvalidInputError):
        q.generate_audit_report(at(0), at(1), format="pdf")


def test_audit_of_an_empty_period(ledger: Path):
    report = LogQuery(ledger).generate_audit_report("2020-01-01", "2020-01-02", fsck=False)
    assert report["summary"]["total_entries"] == 0 and report["errors"] == []


def test_patterns(ledger: Path):
    p = LogQuery(ledger).analyze_patterns(at(0), at(30))
    assert p["total_entries"] == 9
    assert p["activity_by_hour"]["09"] == 1 and sum(p["activity_by_hour"].values()) == 9
    assert p["activity_by_day"] == {"2025-11-03": 7, "2025-11-04": 2}
    assert p["error_rate_by_day"]["2025-11-04"] == {"entries": 2, "errors": 1, "rate": 0.5}
    assert p["most_changed_files"] == [{"file_path": "app.py", "changes": 2}]
    assert p["failing_commands"] == [
        {"command": "pytest", "runs": 2, "failures": 1, "exit_codes": {"0": 1, "1": 1}}
    ]
    infer = p["api_endpoints"][0]
    assert (infer["endpoint"], infer["calls"], infer["errors"]) == ("/v1/infer", 2, 1)
    assert infer["avg_duration_seconds"] == 1.0 and infer["max_duration_seconds"] == 1.5
    assert p["slowest_endpoints"] == ["/v1/infer", "/health"]
    assert {a["agent_id"]: a["entries"] for a in p["agents"]} == {"alpha": 4, "beta": 5}
    assert {s["session_id"] for s in p["sessions"]} == {"s1", "s2"}
    everything = LogQuery(ledger).analyze_patterns()
    assert everything["total_entries"] == 10


def test_audit_from_the_index_matches_the_walk(ledger: Path, workdir: Path) -> None:
    """The fast audit (index rows) and the walk (every entry read) agree field for field."""
    drifted = ChangeLogger(ledger, agent_id="gamma", session_id="s3", workdir=workdir,
                           durable=False)
    drifted.log_file_change("web/x.js", ChangeType.FILE_DELETE, "x\n", None, timestamp=at(5))
    (workdir / "web").mkdir(exist_ok=True)
    (workdir / "web" / "x.js").write_text("changed outside\n")
    drifted.log_file_change("web/x.js", ChangeType.FILE_CREATE, None, "y\n", timestamp=at(6))
    indexed = LogQuery(ledger).generate_audit_report(at(0), at(30), fsck=False)
    walked = LogQuery(ledger, use_index=False).generate_audit_report(at(0), at(30), fsck=False)
    for report in (indexed, walked):
        report.pop("generated_at")
    assert indexed["summary"]["total_entries"] == 11
    assert indexed == walked
