"""Sessions as OpenTelemetry GenAI traces: OTLP/JSON files read back with the official protobuf
definitions, and spans sent by the SDK's exporter to a real OTLP/HTTP receiver."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from ledger import ChangeLogger, ChangeType, LogLevel
from ledger.read.otlp import entry_span_id, session_span_id, trace_id
from tests.conftest import git, run_cli
from tests.read.otlp_receiver import Receiver

SECRET = "ghp_" + "Q7x2Lk9PzR4mV8nB3cW6tY1uJ5hG0fD2sA9e"
T0 = dt.datetime(2025, 11, 5, 17, 30, tzinfo=dt.UTC)


def record(ledger: Path, workdir: Path) -> dict[str, Any]:
    """Two sessions of typical work; returns the entries by name."""
    log = ChangeLogger(ledger, agent_id="claude-code", session_id="fix-login", workdir=workdir)
    out: dict[str, Any] = {}
    out["decision"] = log.log_agent_decision("Patch the parser", "the tests point at it",
                                       timestamp=T0)
    out["file"] = log.log_file_change("src/app.py", ChangeType.FILE_CREATE, None, "print(1)\n",
                                      timestamp=T0 + dt.timedelta(seconds=1))
    out["command"] = log.log_command("pytest -q", "1 failed", exit_code=1, duration=2.5,
                                     timestamp=T0 + dt.timedelta(seconds=5))
    out["api"] = log.log_api_call("https://api.example.com/v1/deploy", "POST",
                                  request_data={"auth": f"token {SECRET}"}, status_code=503,
                                  duration=0.25, timestamp=T0 + dt.timedelta(seconds=6))
    out["deploy"] = log.log(ChangeType.DEPLOYMENT, "Deploy web to staging",
                            {"environment": "staging"}, LogLevel.CRITICAL,
                            timestamp=T0 + dt.timedelta(seconds=7))
    other = ChangeLogger(ledger, agent_id="gemini-cli", session_id="docs", workdir=workdir)
    out["chat"] = other.log(ChangeType.MODEL_INFERENCE, "Prompt: write the docs",
                            {"model": "gemini-2.5-pro"}, timestamp=T0)
    return out


def parse_lines(text: str) -> list[ExportTraceServiceRequest]:
    """OTLP/JSON lines into protobuf messages: hex ids back to the base64 of protobuf's JSON."""
    def unhex(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: base64.b64encode(bytes.fromhex(v)).decode()
                    if k in ("traceId", "spanId", "parentSpanId") else unhex(v)
                    for k, v in node.items()}
        return [unhex(v) for v in node] if isinstance(node, list) else node
    return [ParseDict(unhex(json.loads(line)), ExportTraceServiceRequest())
            for line in text.splitlines() if line]


def spans_of(requests: list[ExportTraceServiceRequest]) -> list[Any]:
    return [s for r in requests for rs in r.resource_spans for ss in rs.scope_spans
            for s in ss.spans]


def attrs(span: Any) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}


@pytest.fixture
def recorded(ledger_path: Path, workdir: Path) -> dict[str, Any]:
    return record(ledger_path, workdir)


def test_the_otlp_json_file_is_one_trace_per_session_in_official_protobuf(
    ledger_path: Path, tmp_path: Path, recorded: dict[str, Any]
) -> None:
    out = tmp_path / "day.otlp.jsonl"
    proc = run_cli("--ledger", str(ledger_path), "export", str(out), "--format", "otlp")
    assert proc.returncode == 0, proc.stderr
    assert "Exported 6 entries" in proc.stdout
    spans = spans_of(parse_lines(out.read_text()))
    assert len(spans) == 6 + 2  # one span per entry, one invoke_agent span per session
    roots = {s.trace_id.hex(): s for s in spans if not s.parent_span_id}
    assert {attrs(s)["gen_ai.conversation.id"] for s in roots.values()} == {"fix-login", "docs"}
    for root in roots.values():
        a = attrs(root)
        assert a["gen_ai.operation.name"] == "invoke_agent"
        assert root.name == f"invoke_agent {a['gen_ai.agent.name']}"
        assert root.trace_id == trace_id(a["gen_ai.conversation.id"]).to_bytes(16, "big")
    by_id = {attrs(s)["ledger.entry.id"]: s for s in spans if s.parent_span_id}
    assert set(by_id) == {e.id for e in recorded.values()}
    for entry in recorded.values():
        span = by_id[entry.id]
        root = roots[span.trace_id.hex()]
        assert span.parent_span_id == root.span_id  # every entry hangs off its session
        assert span.span_id == entry_span_id(entry.id).to_bytes(8, "big")
        assert attrs(span)["gen_ai.conversation.id"] == entry.session_id
        # the id leads back to the entry with the real git
        shown = json.loads(git(ledger_path, "show", f"{attrs(span)['ledger.entry.id']}:entry.json"))
        assert shown["description"] == attrs(span)["ledger.description"]

    cmd = by_id[recorded["command"].id]
    assert cmd.name == "execute_tool shell"
    assert attrs(cmd)["gen_ai.tool.name"] == "shell"
    assert attrs(cmd)["process.exit.code"] == 1
    assert attrs(cmd)["process.command_line"] == "pytest -q"
    assert cmd.status.code == Status.STATUS_CODE_ERROR
    assert cmd.end_time_unix_nano - cmd.start_time_unix_nano == 2_500_000_000  # the duration
    api = by_id[recorded["api"].id]
    assert attrs(api)["http.response.status_code"] == 503
    assert attrs(api)["error.type"] == "503" and api.status.code == Status.STATUS_CODE_ERROR
    file_span = by_id[recorded["file"].id]
    assert attrs(file_span)["file.path"] == "src/app.py"
    assert file_span.start_time_unix_nano == file_span.end_time_unix_nano  # a point in time
    assert file_span.status.code == Status.STATUS_CODE_UNSET
    assert by_id[recorded["decision"].id].name == "plan claude-code"
    assert by_id[recorded["deploy"].id].status.code == Status.STATUS_CODE_ERROR  # critical
    assert attrs(by_id[recorded["deploy"].id])["gen_ai.operation.name"] == "deploy"
    assert by_id[recorded["chat"].id].name == "chat gemini-2.5-pro"
    start = T0 + dt.timedelta(seconds=1)
    assert file_span.end_time_unix_nano == int(start.timestamp()) * 1_000_000_000


def test_exporting_twice_gives_the_same_ids_and_no_secret_leaves(
    ledger_path: Path, tmp_path: Path, recorded: dict[str, Any]
) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (first, second):
        proc = run_cli("--ledger", str(ledger_path), "export", str(out), "--format", "otlp")
        assert proc.returncode == 0, proc.stderr
    ids = [sorted((s.trace_id, s.span_id) for s in spans_of(parse_lines(p.read_text())))
           for p in (first, second)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 8
    assert SECRET not in first.read_text()
    streamed = run_cli("--ledger", str(ledger_path), "export", "-", "--format", "otlp",
                       "--session", "fix-login", "--level", "error")
    assert streamed.returncode == 0, streamed.stderr
    spans = spans_of(parse_lines(streamed.stdout))  # the same filters as every export
    assert sorted(attrs(s).get("ledger.entry.id", "") for s in spans) == sorted(
        ["", recorded["command"].id, recorded["api"].id]
    )
    assert session_span_id("fix-login").to_bytes(8, "big") in {s.span_id for s in spans}


def test_spans_reach_a_real_otlp_http_receiver(
    ledger_path: Path, recorded: dict[str, Any]
) -> None:
    with Receiver() as rx:
        proc = run_cli("--ledger", str(ledger_path), "export", "--otlp-endpoint", rx.url)
        assert proc.returncode == 0, proc.stderr
        assert "Sent 6 entries (8 spans)" in proc.stderr
        # the standard variables work as well, and sending again duplicates nothing
        again = run_cli("--ledger", str(ledger_path), "export",
                        env={"OTEL_EXPORTER_OTLP_ENDPOINT": rx.url})
        assert again.returncode == 0, again.stderr
    assert set(rx.paths) == {"/v1/traces"}
    assert len(rx.spans) == 16 and len({(s["trace_id"], s["span_id"]) for s in rx.spans}) == 8
    got = rx.by_entry()
    cmd = got[recorded["command"].id]
    assert cmd["attributes"]["gen_ai.operation.name"] == "execute_tool"
    assert cmd["attributes"]["gen_ai.agent.name"] == "claude-code"
    assert cmd["status"] == Status.STATUS_CODE_ERROR
    assert cmd["resource"]["service.name"] == "git-ledger"
    assert SECRET not in json.dumps([s["raw"] for s in rx.spans])


def test_follow_sends_entries_as_they_are_recorded(
    ledger_path: Path, workdir: Path, recorded: dict[str, Any]
) -> None:
    with Receiver() as rx:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledger", "--ledger", str(ledger_path), "export",
             "--otlp-endpoint", rx.url, "--follow", "--interval", "0.2", "--session", "fix-login"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            wait_for(lambda: len(rx.by_entry()) == 5)
            log = ChangeLogger(ledger_path, agent_id="claude-code", session_id="fix-login",
                               workdir=workdir)
            late = log.log_command("make deploy", "ok", duration=1.0)
            other = ChangeLogger(ledger_path, agent_id="x", session_id="other")
            other.log_agent_decision("no", "r")
            wait_for(lambda: late.id in rx.by_entry())
            # the session's span is sent again, grown to the late entry, in the same round or next
            wait_for(lambda: max(s["end"] for s in rx.spans if s["name"].startswith(
                "invoke_agent")) == rx.by_entry()[late.id]["end"])
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    got = rx.by_entry()
    assert len(got) == 6  # the other session is filtered out, as in the first export
    sessions = [s for s in rx.spans if s["name"].startswith("invoke_agent")]
    assert len({s["span_id"] for s in sessions}) == 1
    assert max(s["end"] for s in sessions) == got[late.id]["end"]  # the session grew


def wait_for(cond: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_without_the_otel_extra_one_line_says_what_to_install(
    ledger_path: Path, tmp_path: Path, recorded: dict[str, Any]
) -> None:
    out = tmp_path / "x.jsonl"
    blocked = ("import sys; sys.modules['opentelemetry'] = None; "
               "import runpy; runpy.run_module('ledger', run_name='__main__')")
    proc = subprocess.run(
        [sys.executable, "-c", blocked, "--ledger", str(ledger_path), "export", str(out),
         "--format", "otlp"],
        capture_output=True, text=True, check=False, env=os.environ.copy(),
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].endswith("pip install 'git-ledger[otel]'")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".x.jsonl.*"))


def test_bad_otlp_options_are_one_line_errors(ledger_path: Path, recorded: dict[str, Any]) -> None:
    for args, says in (
        (["--otlp-endpoint", "ftp://x"], "is not an http:// or https:// URL"),
        ([], "nowhere to export to"),
        (["out.json", "--follow"], "--follow needs"),
    ):
        env = {k: "" for k in os.environ if k.startswith("OTEL_")}
        proc = run_cli("--ledger", str(ledger_path), "export", *args, env=env)
        assert proc.returncode != 0 and says in proc.stderr, (args, proc.stderr)
    # '-' in another format is plain standard output, not an OTLP stream.
    plain = run_cli("--ledger", str(ledger_path), "export", "-", "--format", "csv")
    assert plain.returncode == 0 and plain.stdout.startswith("id,timestamp,")


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("OTEL_"):
            monkeypatch.delenv(key)
    yield
