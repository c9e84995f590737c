"""LogMetrics: figures, the Prometheus exposition (parsed, linted, scraped) and health."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from ledger import ChangeLogger, LogMetrics
from ledger.metrics import HealthThresholds, make_server
from tests.conftest import git, run_cli

NOW = dt.datetime.now(dt.UTC)
ALLOWED_LABELS = {"type", "level", "agent"}


def make(ledger: Path, work: Path) -> dict[str, int]:
    """3 old entries (outside a 24 h window) and 6 recent ones, 2 of them errors."""
    old = ChangeLogger(ledger, agent_id="old-bot", session_id="old", workdir=work)
    for i in range(3):
        old.log("deployment", f"deploy {i}", timestamp=NOW - dt.timedelta(days=3, minutes=-i))
    a = ChangeLogger(ledger, agent_id="alpha", session_id="s-alpha", workdir=work)
    a.log_file_change("api/main.py", "file_update", "a\n", "b\n")
    a.log_file_change("api/main.py", "file_update", "b\n", "c\n")
    a.log_command("pytest", "boom", exit_code=1)                      # error
    b = ChangeLogger(ledger, agent_id="beta", session_id="s-beta", workdir=work)
    b.log_file_change("README.md", "file_create", None, "hi\n")
    b.log_api_call("/v1/x", "POST", {}, {}, 503)                      # error
    b.log_agent_decision("ship", "green")
    return {"old": 3, "recent": 6, "errors": 2}


def test_get_metrics_counts_the_window(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    m = LogMetrics(ledger_path).get_metrics(window_hours=24)
    assert m["total_changes"] == 6
    assert m["changes_per_hour"] == pytest.approx(6 / 24)
    assert m["error_rate"] == pytest.approx(100 * 2 / 6)
    assert m["changes_by_type"] == {"file_update": 2, "system_command": 1, "file_create": 1,
                                    "api_call": 1, "agent_decision": 1}
    assert m["changes_by_level"] == {"info": 4, "error": 2}
    assert m["changes_by_agent"] == {"alpha": 3, "beta": 3}
    assert m["active_sessions"] == 2 and m["total_sessions"] == 3
    assert m["total_entries"] == 9
    assert m["storage"]["total_size_bytes"] > 0
    wide = LogMetrics(ledger_path).get_metrics(window_hours=24 * 7)
    assert wide["total_changes"] == 9 and wide["active_sessions"] == 3


def test_top_files(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    top = LogMetrics(ledger_path).top_files(hours=24, limit=5)
    assert [(t["file_path"], t["changes"]) for t in top] == [("api/main.py", 2),
                                                              ("README.md", 1)]
    assert top[0]["agents"] == ["alpha"]


def families(text: str) -> dict[str, Metric]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_exposition_parses_and_keeps_labels_bounded(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    metrics = LogMetrics(ledger_path)
    text = metrics.exposition()
    fams = list(text_string_to_metric_families(text))
    assert fams and all(f.name.startswith("git_ledger_") for f in fams)
    total = 0.0
    for fam in fams:
        for sample in fam.samples:
            assert set(sample.labels) <= ALLOWED_LABELS, sample
        if fam.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in fam.samples)
    entries = next(f for f in fams if f.name == "git_ledger_entries")
    total = sum(s.value for s in entries.samples if s.name.endswith("_total"))
    assert total == 9
    errors = sum(s.value for s in entries.samples if s.labels["level"] == "error")
    assert errors == 2
    by_name = {s.name: s.value for f in fams for s in f.samples if not s.labels}
    assert by_name["git_ledger_error_ratio"] == pytest.approx(2 / 6)
    assert by_name["git_ledger_sessions"] == 3
    assert by_name["git_ledger_health_status"] in (0, 1, 2)
    # Counting is incremental; a new entry shows up at the next scrape.
    ChangeLogger(ledger_path, agent_id="alpha", session_id="s-alpha", workdir=workdir).log(
        "deployment", "more")
    again = list(text_string_to_metric_families(metrics.exposition()))
    entries = next(f for f in again if f.name == "git_ledger_entries")
    assert sum(s.value for s in entries.samples if s.name.endswith("_total")) == 10


def test_textfile_export_is_atomic_and_promtool_accepts_it(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    make(ledger_path, workdir)
    out = tmp_path / "prom" / "git_ledger.prom"
    out.parent.mkdir()
    text = LogMetrics(ledger_path).export_prometheus_metrics(out)
    assert out.read_text() == text and "git_ledger_entries_total" in text
    assert [p.name for p in out.parent.iterdir()] == ["git_ledger.prom"]  # no temp left
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package 'prometheus')")
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_http_endpoint_is_scraped_over_loopback(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    server = make_server(LogMetrics(ledger_path), "127.0.0.1", 0, "/metrics/agent_logs")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(base + "/metrics/agent_logs", timeout=10) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            body = resp.read().decode()
        entries = families(body)["git_ledger_entries"]
        assert sum(s.value for s in entries.samples if s.name.endswith("_total")) == 9
        with urllib.request.urlopen(base + "/api/top-files?hours=24&limit=1",
                                    timeout=10) as resp:
            assert json.load(resp)[0]["file_path"] == "api/main.py"
        with urllib.request.urlopen(base + "/api/health", timeout=10) as resp:
            assert json.load(resp)["status"] in ("healthy", "warning")
        # Grafana's table passes the time picker as from/to in milliseconds.
        now_ms = int(time.time() * 1000)
        picked = f"/api/top-files?from={now_ms - 3_600_000}&to={now_ms}&limit=5"
        with urllib.request.urlopen(base + picked, timeout=10) as resp:
            assert [r["file_path"] for r in json.load(resp)] == ["api/main.py", "README.md"]
        # /metrics, where Prometheus scrapes when a job names no metrics_path, answers too.
        with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
            assert families(resp.read().decode())["git_ledger_entries"].samples
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "/nothing-here", timeout=10)
        assert err.value.code == 404
        err.value.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_default_port_is_not_prometheus_nor_an_allocated_exporter_port() -> None:
    from ledger.metrics import DEFAULT_PORT

    assert DEFAULT_PORT != 9090 and not 9100 <= DEFAULT_PORT <= 9999
    assert DEFAULT_PORT not in (10050, 10051)  # Zabbix agent and server


def test_health_grades_error_rate_storage_idle_and_integrity(
    ledger_path: Path, workdir: Path
) -> None:
    make(ledger_path, workdir)
    relaxed = HealthThresholds(error_rate_warning=50, error_rate_critical=90)
    assert LogMetrics(ledger_path, thresholds=relaxed).get_health_status()["status"] == "healthy"
    warn = LogMetrics(ledger_path, thresholds=HealthThresholds(error_rate_warning=10,
                                                                error_rate_critical=50))
    health = warn.get_health_status()
    assert health["status"] == "warning" and "error rate 33.3%" in health["message"]
    full = LogMetrics(ledger_path, max_storage_mb=0.001, thresholds=relaxed)
    health = full.get_health_status()
    assert health["status"] == "critical" and health["checks"]["storage"]["status"] == "critical"
    idle = LogMetrics(ledger_path, thresholds=HealthThresholds(
        error_rate_warning=None, error_rate_critical=None, idle_warning_hours=0.0))
    assert idle.get_health_status()["checks"]["activity"]["status"] == "warning"
    tree = git(ledger_path, "mktree", input="").strip()
    foreign = git(ledger_path, "commit-tree", tree, "-m", "not an entry").strip()
    git(ledger_path, "update-ref", "refs/heads/sessions/broken", foreign)
    health = LogMetrics(ledger_path, thresholds=relaxed).get_health_status()
    assert health["status"] == "critical" and "broken" in health["checks"]["integrity"]["message"]


def test_health_and_export_commands(ledger_path: Path, workdir: Path, tmp_path: Path) -> None:
    make(ledger_path, workdir)
    ok = run_cli("--ledger", str(ledger_path), "metrics", "health", "--json")
    assert ok.returncode == 1  # 33% errors is above the default warning threshold
    assert json.loads(ok.stdout)["status"] == "warning"
    table = run_cli("--ledger", str(ledger_path), "metrics", "health", "--deep")
    assert "integrity" in table.stdout and "fsck clean" in table.stdout
    prom = tmp_path / "m.prom"
    out = run_cli("--ledger", str(ledger_path), "metrics", "export", str(prom))
    assert out.returncode == 0 and prom.exists() and "series" in out.stdout
    missing = run_cli("--ledger", str(tmp_path / "none.git"), "metrics", "export", str(prom))
    assert missing.returncode == 1 and "no ledger" in missing.stderr  # not found
