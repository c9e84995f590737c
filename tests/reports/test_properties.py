"""Property tests for outside input: report text in HTML, and date bounds."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.dates import as_datetime as as_utc
from ledger.errors import InvalidInputError
from ledger.reports.details import Details
from ledger.reports.html import render_audit_html

ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
           "main", "nav", "a", "section", "div", "b", "span", "svg", "text", "rect", "line",
           "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "details", "summary"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs |= {k for k, _ in attrs}


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=30))
def test_any_ledger_text_stays_text(description: str, agent: str, path: str) -> None:
    entry: dict[str, Any] = {"id": "ab" * 20, "timestamp": "2025-11-05T10:00:00+00:00",
                             "session_id": agent, "agent_id": agent, "level": "error",
                             "change_type": "deployment", "description": description,
                             "metadata": {description: agent}}
    report = {
        "period": {"start": "2025-11-05T00:00:00+00:00", "end": "2025-11-06T00:00:00+00:00"},
        "ledger": path, "summary": {"total_entries": 1},
        "changes_by_type": {description: 1}, "changes_by_level": {agent: 1},
        "sessions": [{"session_id": agent, "agent_id": agent, "entries": 1, "errors": 1,
                      "first_timestamp": entry["timestamp"], "last_timestamp": description}],
        "agents": [{"agent_id": agent, "entries": 1}], "errors": [entry],
        "files_changed": [{"file_path": path, "changes": 1, "by_type": {description: 1}}],
        "commands": [{**entry, "command": description, "exit_code": agent}],
        "api_calls": [{**entry, "endpoint": description, "status_code": agent}],
        "deployments": [entry], "config_changes": [entry],
        "integrity": {"fsck": {"ok": True, "output": description},
                      "session_tips": [{"session_id": agent, "branch": path,
                                        "tip": description}]},
    }
    page = render_audit_html(report, Details())
    seen = _Collect()
    seen.feed(page)
    assert seen.tags <= ALLOWED, seen.tags - ALLOWED
    assert not {a for a in seen.attrs if a.startswith("on")}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_date_bounds_parse_or_refuse_cleanly(text: str) -> None:
    try:
        value = as_utc(text)
    except InvalidInputError:
        return
    assert value is not None and value.tzinfo is not None
    assert value.utcoffset() == dt.timedelta(0)


def test_date_forms() -> None:
    local_midnight = dt.datetime(2025, 11, 5).astimezone()
    assert as_utc("2025-11-05") == local_midnight.astimezone(dt.UTC)
    end = as_utc("2025-11-05", end=True)
    assert end is not None and end.astimezone(local_midnight.tzinfo).date() == dt.date(2025, 11, 5)
    assert end + dt.timedelta(microseconds=1) == dt.datetime(2025, 11, 6).astimezone()
    assert as_utc("2025-11-05T10:30:00Z") == dt.datetime(2025, 11, 5, 10, 30, tzinfo=dt.UTC)
    assert as_utc("2025-11-05T10:30:00+02:00") == dt.datetime(2025, 11, 5, 8, 30, tzinfo=dt.UTC)
    ago = as_utc("24h")
    assert ago is not None
    assert abs((dt.datetime.now(dt.UTC) - ago) - dt.timedelta(hours=24)) < dt.timedelta(minutes=1)
    with pytest.raises(InvalidInputError):
        as_utc("2025-02-30")
