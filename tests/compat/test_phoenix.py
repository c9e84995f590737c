"""A session captured from Claude Code's documented hook payloads, sent as OTLP to receivers:
the test's own OTLP/HTTP receiver always, and Arize Phoenix when it is installed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.capture.test_agents import FIXTURES, SESSION, feed
from tests.conftest import git, run_cli
from tests.read.otlp_receiver import Receiver

EVENTS = ["01_session_start.json", "02_user_prompt_submit.json", "03_pre_write.json",
          "04_post_write.json", "05_pre_edit.json", "06_post_edit.json", "07_post_bash.json",
          "08_post_bash_failure.json", "09_post_webfetch.json", "13_session_end.json"]


@pytest.fixture
def captured(tmp_path: Path, ledger_path: Path) -> list[str]:
    """The entry ids of a Claude Code session recorded through its hooks."""
    workspace = tmp_path / "webapp"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "dates.py").write_text((FIXTURES / "dates_before.py").read_text())
    for name in EVENTS:
        feed(ledger_path, name, workspace)
    log = git(ledger_path, "log", "--format=%H%x1f%B%x1e", f"refs/heads/sessions/{SESSION}")
    records = [r.strip().split("\x1f", 1) for r in log.split("\x1e") if r.strip()]
    # an observation commit records the workspace as found, not an action: it is no span
    return [oid for oid, body in records if "Ledger-Observation:" not in body]


def test_a_captured_session_is_one_trace_of_tool_spans(
    ledger_path: Path, captured: list[str]
) -> None:
    with Receiver() as rx:
        proc = run_cli("--ledger", str(ledger_path), "export", "--otlp-endpoint", rx.url)
        assert proc.returncode == 0, proc.stderr
    entries = rx.by_entry()
    assert len({s["trace_id"] for s in rx.spans}) == 1
    assert sorted(entries) == sorted(captured)
    assert len(rx.spans) == len(entries) + 1
    tools = {s["attributes"].get("gen_ai.tool.name") for s in entries.values()}
    assert {"Write", "Edit", "Bash", "WebFetch"} <= tools
    failed = [s for s in entries.values() if s["status"] == 2]
    assert [s["attributes"]["gen_ai.tool.name"] for s in failed] == ["Bash"]
    for entry_id in entries:
        assert git(ledger_path, "cat-file", "-t", entry_id).strip() == "commit"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def phoenix(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("phoenix.server", reason="arize-phoenix is not installed")
    port = _free_port()
    env = {**os.environ, "PHOENIX_HOST": "127.0.0.1", "PHOENIX_PORT": str(port),
           "PHOENIX_GRPC_PORT": str(_free_port()), "PHOENIX_WORKING_DIR": str(tmp_path / "phx"),
           "PHOENIX_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    log = (tmp_path / "phoenix.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "phoenix.server.main", "serve"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "phoenix.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "Phoenix did not start"
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _phoenix_spans(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(
        url + "/v1/projects/default/spans/otlpv1?limit=1000", timeout=10
    ) as reply:
        return list(json.load(reply)["data"])


def _attrs(span: dict[str, Any]) -> dict[str, Any]:
    # Phoenix lists every field of an AnyValue, the unset ones as null
    return {a["key"]: next((v for v in a["value"].values() if v is not None), None)
            for a in span.get("attributes", [])}


def test_phoenix_shows_the_session_as_one_trace(
    ledger_path: Path, captured: list[str], phoenix: str
) -> None:
    for _ in range(2):  # the second export must not duplicate anything
        proc = run_cli("--ledger", str(ledger_path), "export", "--otlp-endpoint", phoenix)
        assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + 60
    spans = _phoenix_spans(phoenix)
    while len(spans) < len(captured) + 1 and time.monotonic() < deadline:
        time.sleep(0.5)
        spans = _phoenix_spans(phoenix)
    time.sleep(2)  # let a duplicate, if any, land too
    spans = _phoenix_spans(phoenix)
    attrs = [_attrs(s) for s in spans]
    by_entry = {a["ledger.entry.id"]: a for a in attrs if "ledger.entry.id" in a}
    assert sorted(by_entry) == sorted(captured)
    assert len(spans) == len(captured) + 1
    assert len({s["trace_id"] for s in spans}) == 1
    roots = [a for a in attrs if a.get("gen_ai.operation.name") == "invoke_agent"]
    assert roots and roots[0]["gen_ai.conversation.id"] == SESSION
    assert {"Write", "Edit", "Bash"} <= {a.get("gen_ai.tool.name") for a in by_entry.values()}
