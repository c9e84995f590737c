"""The Grafana dashboard queries only metrics the exporter emits, in valid PromQL."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ledger import ChangeLogger, LogMetrics
from ledger.metrics import TOP_FILES_PATH

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "git-ledger.json"
METRIC = re.compile(r"\bgit_ledger_[a-z0-9_]+")


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def prom_exprs(data: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in data["panels"] for t in p["targets"] if "expr" in t]
    exprs += [v["definition"] for v in data["templating"]["list"] if v.get("definition")]
    return exprs


def emitted(ledger: Path, work: Path) -> set[str]:
    logger = ChangeLogger(ledger, agent_id="a", session_id="s", workdir=work)
    logger.log_file_change("x.py", "file_create", None, "x\n")
    logger.log_command("false", exit_code=1)
    text = LogMetrics(ledger).exposition()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_every_queried_metric_is_emitted(ledger_path: Path, workdir: Path) -> None:
    names = emitted(ledger_path, workdir)
    data = dashboard()
    queried = {m for expr in prom_exprs(data) for m in METRIC.findall(expr)}
    assert queried, "the dashboard queries no git_ledger metric"
    assert queried <= names, f"not emitted: {sorted(queried - names)}"
    # The panels the design asks for are there.
    titles = " | ".join(p["title"].lower() for p in data["panels"])
    for wanted in ("change rate by type", "error rate", "most-modified files",
                   "agent activity", "storage"):
        assert wanted in titles


def test_dashboard_is_importable(ledger_path: Path, workdir: Path) -> None:
    data = dashboard()
    inputs = {f"${{{i['name']}}}" for i in data["__inputs"]}
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids)) and data["uid"] and data["title"]
    for p in data["panels"]:
        assert set(p["gridPos"]) == {"x", "y", "w", "h"} and p["gridPos"]["x"] + p["gridPos"][
            "w"] <= 24
        assert p["datasource"]["uid"] in inputs
        for t in p["targets"]:
            assert t["datasource"]["uid"] in inputs
    # The top-files table reads the JSON endpoint, with columns that endpoint returns.
    table = next(p for p in data["panels"] if "most-modified" in p["title"].lower())
    target = table["targets"][0]
    assert target["url"].split("?")[0].endswith(TOP_FILES_PATH)
    logger = ChangeLogger(ledger_path, agent_id="a", session_id="s", workdir=workdir)
    logger.log_file_change("x.py", "file_create", None, "x\n")
    row = LogMetrics(ledger_path).top_files()[0]
    assert {c["selector"] for c in target["columns"]} <= set(row)


def test_queries_are_valid_promql() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package 'prometheus')")
    exprs = [e for e in prom_exprs(dashboard()) if not e.startswith("label_values")]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}",
         "expr": e.replace("$__rate_interval", "5m").replace("$job", ".*")}
        for i, e in enumerate(exprs)
    ]}]}
    proc = subprocess.run([promtool, "check", "rules", "/dev/stdin"], input=json.dumps(rules),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
