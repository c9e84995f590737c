"""The audit's JSON text: the report exactly, each listed item on a line of its own, as the
CLI writes it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ledger import ChangeLogger, ChangeType, LogLevel, LogQuery
from ledger.reports.jsontext import audit_json
from tests.conftest import run_cli

T0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC)


def _report(ledger: Path, workdir: Path) -> dict:
    log = ChangeLogger(ledger, agent_id="agent-é", session_id="s1", workdir=workdir,
                       durable=False)
    for n in range(5):
        at = T0 + dt.timedelta(minutes=n)
        log.log_command(f"make t{n} \"quoted\"\nsecond line", "out", n % 2, duration=0.5,
                        timestamp=at)
        log.log_api_call("/v1/ü", "POST", {}, {}, 500 if n == 3 else 200, timestamp=at)
    log.log(ChangeType.DEPLOYMENT, "Deploy ☃", {"env": {"name": "prod", "tags": [1, 2]}},
            level=LogLevel.CRITICAL, timestamp=T0 + dt.timedelta(minutes=9))
    log.log_file_change("src/a b.py", ChangeType.FILE_CREATE, None, "x\n",
                        timestamp=T0 + dt.timedelta(minutes=10))
    report: dict = LogQuery(ledger).generate_audit_report(T0, T0 + dt.timedelta(hours=1))
    return report


def test_the_json_text_is_the_report_with_one_line_per_listed_item(ledger_path: Path,
                                                                   workdir: Path):
    report = _report(ledger_path, workdir)
    text = audit_json(report)
    assert json.loads(text) == report
    assert list(json.loads(text)) == list(report)  # key order kept
    lines = text.splitlines()
    for key in ("commands", "api_calls", "errors", "deployments", "sessions"):
        assert report[key], key
        opening = lines.index(f'  "{key}": [')
        for n, item in enumerate(report[key]):
            assert json.loads(lines[opening + 1 + n].strip().rstrip(",")) == item
        assert lines[opening + 1 + len(report[key])] in ("  ]", "  ],")
    assert audit_json({}) == "{}\n"


def test_the_cli_writes_that_text(ledger_path: Path, workdir: Path, tmp_path: Path):
    report = _report(ledger_path, workdir)
    out = tmp_path / "audit.json"
    done = run_cli("--ledger", str(ledger_path), "audit", T0.isoformat(), "--until",
                   (T0 + dt.timedelta(hours=1)).isoformat(), "-o", str(out))
    assert done.returncode == 0, done.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["summary"] == report["summary"]
    assert [c["id"] for c in written["commands"]] == [c["id"] for c in report["commands"]]
