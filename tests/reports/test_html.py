"""The HTML audit report: self-contained, escaped, complete, and clean in a real browser."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ledger import ChangeLogger
from ledger.lifecycle.storage import LogStorage
from ledger.reports.details import gather_details
from ledger.reports.html import render_audit_html, write_audit_html

NOW = dt.datetime.now(dt.UTC)
EVIL = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def make(ledger: Path, work: Path) -> None:
    t0 = NOW - dt.timedelta(hours=6)
    a = ChangeLogger(ledger, agent_id="deploy-bot", session_id="s1", workdir=work)
    src = "def handler(request):\n    return 'ok'\n"
    a.log_file_change("app/main.py", "file_create", None, src, timestamp=t0)
    a.log_file_change("app/main.py", "file_update", src, src.replace("'ok'", "'healthy'"),
                      description=EVIL, timestamp=t0 + dt.timedelta(minutes=5))
    a.log_command("pytest -q", "1 failed", exit_code=1, timestamp=t0 + dt.timedelta(minutes=9))
    a.log("deployment", "Deployed v1.4", {"env": "prod"}, timestamp=t0 + dt.timedelta(hours=1))
    b = ChangeLogger(ledger, agent_id="helper", session_id="s2", workdir=work)
    b.log_api_call("/v1/x", "POST", {}, {}, 503, timestamp=t0 + dt.timedelta(hours=2))
    b.log_file_change("notes.bin", "file_update", b"\x00\x01", b"\x00\x02",
                      timestamp=t0 + dt.timedelta(hours=3))


def report_for(ledger: Path) -> dict[str, Any]:
    """The report from LogQuery where the query layer exists, else built to its documented keys."""
    start = NOW - dt.timedelta(days=1)
    try:
        from ledger.read.query import LogQuery  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pass
    else:
        report: dict[str, Any] = LogQuery(ledger).generate_audit_report(start, NOW)
        return report
    entries = sorted(LogStorage(ledger, quiet=True).iter_entries(start, NOW),
                     key=lambda e: e.timestamp)
    brief = [{"id": e.id, "timestamp": e.timestamp.isoformat(), "session_id": e.session_id,
              "agent_id": e.agent_id} for e in entries]
    sessions: dict[str, dict[str, Any]] = {}
    for e in entries:
        s = sessions.setdefault(e.session_id, {
            "session_id": e.session_id, "agent_id": e.agent_id, "entries": 0, "errors": 0,
            "first_timestamp": e.timestamp.isoformat()})
        s["entries"] += 1
        s["errors"] += e.level.rank >= 3
        s["last_timestamp"] = e.timestamp.isoformat()
    files: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e.file_path:
            f = files.setdefault(e.file_path, {"file_path": e.file_path, "changes": 0,
                                               "by_type": {}, "sessions": 1})
            f["changes"] += 1
            f["by_type"][e.change_type.value] = f["by_type"].get(e.change_type.value, 0) + 1
            f["last_change"] = e.timestamp.isoformat()
    return {
        "report_type": "audit", "report_version": 1, "ledger": str(ledger),
        "generated_at": NOW.isoformat(),
        "period": {"start": start.isoformat(), "end": NOW.isoformat()},
        "summary": {"total_entries": len(entries), "sessions": len(sessions), "agents": 2,
                    "errors": sum(e.level.value == "error" for e in entries), "critical": 0},
        "changes_by_type": {e.change_type.value: 1 for e in entries},
        "changes_by_level": {"info": 4, "error": 2},
        "agents": [], "sessions": list(sessions.values()),
        "errors": [e.to_dict() for e in entries if e.level.rank >= 3],
        "files_changed": list(files.values()),
        "commands": [{**b, "command": e.metadata.get("command"),
                      "exit_code": e.metadata.get("exit_code")}
                     for b, e in zip(brief, entries, strict=True)
                     if e.change_type.value == "system_command"],
        "api_calls": [{**b, "method": "POST", "endpoint": e.metadata.get("endpoint"),
                       "status_code": e.metadata.get("status_code")}
                      for b, e in zip(brief, entries, strict=True)
                      if e.change_type.value == "api_call"],
        "deployments": [e.to_dict() for e in entries if e.change_type.value == "deployment"],
        "config_changes": [], "drift": [],
        "integrity": {"fsck": {"ok": True, "exit_code": 0, "command": "git fsck",
                               "output": ""},
                      "sessions_in_ledger": 2,
                      "session_tips": [{"session_id": s, "branch": f"refs/heads/sessions/{s}",
                                        "tip": None} for s in sessions]},
    }


def test_page_is_self_contained_escaped_and_complete(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    page = render_audit_html(report_for(ledger_path))
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    tags = _Tags()
    tags.feed(page)
    assert not tags.found & {"script", "link", "iframe", "img", "object", "embed", "audio",
                             "video", "source", "base", "form"}
    assert all(href.startswith("#") for href in tags.hrefs)  # links stay inside the page
    assert not tags.srcs and "@import" not in page and "url(" not in page
    assert re.findall(r"https?://[^\s\"'<]+", page) == ["http://www.w3.org/2000/svg"] * \
        page.count('xmlns="http://www.w3.org/2000/svg"')
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    for section in ("summary", "charts", "timeline", "errors", "sessions", "files",
                    "commands", "deployments", "integrity"):
        assert f'id="{section}"' in page
    assert page.count("<svg") >= 3
    # Each changed file links to its diffs, rendered inline.
    assert 'href="#file-' in page
    assert "+    return &#x27;healthy&#x27;" in page and "-    return &#x27;ok&#x27;" in page
    assert "binary content: 2 -&gt; 2 bytes" in page
    assert "pytest -q" in page and "503" in page and "Deployed v1.4" in page
    assert "git fsck found no problems" in page


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.add(tag)
        for key, value in attrs:
            if key == "href":
                self.hrefs.append(value or "")
            if key in ("src", "srcset", "data", "action", "poster"):
                self.srcs.append(value or "")


def test_page_from_the_report_alone(tmp_path: Path, ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    report = report_for(ledger_path)
    report["ledger"] = str(tmp_path / "gone.git")  # the ledger is not here to read
    page = render_audit_html(report)
    assert 'id="files"' in page and "Deployed v1.4" in page and "<svg" in page
    report["integrity"]["fsck"] = {"ok": False, "exit_code": 4, "output": "error: broken"}
    assert "must not be trusted" in render_audit_html(report)


def test_details_cover_the_period(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    report = report_for(ledger_path)
    details = gather_details(report)
    assert details.bucket == "hour"
    assert sum(total for _, total, _ in details.activity) == 6
    assert sum(errs for _, _, errs in details.activity) == 2
    assert [c.change_type for c in details.file_changes[None, "app/main.py"]] == [
        "file_create", "file_update"]


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _console(browser: str, page: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )
    assert "</html>" in proc.stdout, proc.stderr[-2000:]
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


def test_page_renders_without_console_errors(ledger_path: Path, workdir: Path,
                                             tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("no headless Chromium installed (Debian package 'chromium')")
    make(ledger_path, workdir)
    page = write_audit_html(report_for(ledger_path), tmp_path / "audit.html")
    # The check can fail: a page that fetches something is caught by the policy.
    control = tmp_path / "control.html"
    control.write_text(render_audit_html(report_for(ledger_path)).replace(
        "<main>", '<main><img src="http://example.invalid/x.png" alt="">'))
    assert _console(browser, control), "the browser reported nothing for a fetching page"
    assert _console(browser, page) == []
