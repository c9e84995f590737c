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


def test_dashboard_provisions_from_a_file(ledger_path: Path, workdir: Path) -> None:
    """The shape Grafana's file provisioning and HTTP API load: no __inputs, every data
    source a template variable, every query filtered by $job and following the time range."""
    data = dashboard()
    text = DASHBOARD.read_text()
    assert "__inputs" not in data and "${DS_" not in text  # import-only placeholders
    assert data["id"] is None and data["uid"] and data["title"]
    variables = {v["name"]: v for v in data["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["infinity"]["query"] == "yesoreyeram-infinity-datasource"
    ds_vars = {f"${{{n}}}" for n, v in variables.items() if v["type"] == "datasource"}
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids))
    for p in data["panels"]:
        assert set(p["gridPos"]) == {"x", "y", "w", "h"} and p["gridPos"]["x"] + p["gridPos"][
            "w"] <= 24
        assert p["datasource"]["uid"] in ds_vars, p["title"]
        for t in p["targets"]:
            assert t["datasource"]["uid"] in ds_vars, p["title"]
            if "expr" in t:  # every Prometheus query honours $job
                assert 'job=~"$job"' in t["expr"], (p["title"], t["expr"])
    for name in ("job", "instance"):
        assert variables[name]["datasource"]["uid"] == "${datasource}"
    # The top-files table reads the chosen job's server over the picker's time range.
    table = next(p for p in data["panels"] if "most-modified" in p["title"].lower())
    target = table["targets"][0]
    assert target["url"].startswith("http://${instance}" + TOP_FILES_PATH)
    assert "from=${__from}" in target["url"] and "to=${__to}" in target["url"]
    assert "$job" in variables["instance"]["definition"]
    logger = ChangeLogger(ledger_path, agent_id="a", session_id="s", workdir=workdir)
    logger.log_file_change("x.py", "file_create", None, "x\n")
    row = LogMetrics(ledger_path).top_files()[0]
    assert {c["selector"] for c in target["columns"]} <= set(row)


def test_provisioning_files_point_at_the_dashboard() -> None:
    yaml = pytest.importorskip("yaml")
    folder = DASHBOARD.parent / "provisioning"
    dashboards = yaml.safe_load((folder / "dashboards" / "git-ledger.yaml").read_text())
    assert dashboards["apiVersion"] == 1
    provider = dashboards["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")
    sources = yaml.safe_load((folder / "datasources" / "git-ledger.yaml").read_text())
    types = {d["type"] for d in sources["datasources"]}
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    # Each data source variable finds a provisioned data source of its type.
    assert {variables["datasource"]["query"], variables["infinity"]["query"]} <= types


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
