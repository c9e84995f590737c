"""The audit report as one self-contained HTML page: summary, charts, tables and diffs.

The page loads nothing (no scripts, fonts or images from anywhere; a Content-Security-Policy
says so to the browser), charts are inline SVG, and every value from the ledger is escaped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import html
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError
from ledger.lifecycle.storage import LogStorage
from ledger.types import FILE_CHANGE_TYPES

MAX_DIFFS = 300
MAX_DIFF_LINES = 400
MAX_TIMELINE = 300

_TYPE_COLOURS = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#17becf", "#8c564b", "#bcbd22",
]


@dataclasses.dataclass
class FileChange:
    """One change of a file in the period, with its unified diff."""

    id: str
    timestamp: str
    change_type: str
    session_id: str
    agent_id: str
    description: str
    diff: str
    truncated: bool = False


@dataclasses.dataclass
class Details:
    """What the report dict does not hold, read from the ledger: activity and diffs."""

    activity: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)
    bucket: str = "day"
    file_changes: dict[str, list[FileChange]] = dataclasses.field(default_factory=dict)
    diffs_omitted: int = 0


def _e(value: Any) -> str:
    """HTML-escape anything (None shows as an empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


def _parse(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _bucket_for(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None:
        return "day"
    span = end - start
    if span <= dt.timedelta(days=3):
        return "hour"
    if span <= dt.timedelta(days=120):
        return "day"
    return "week"


def _bucket_key(stamp: dt.datetime, bucket: str) -> str:
    stamp = stamp.astimezone(dt.UTC)
    if bucket == "hour":
        return stamp.strftime("%Y-%m-%d %H:00")
    if bucket == "week":
        monday = stamp.date() - dt.timedelta(days=stamp.weekday())
        return monday.isoformat()
    return stamp.date().isoformat()


def _buckets(start: dt.datetime, end: dt.datetime, bucket: str) -> list[str]:
    step = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1),
            "week": dt.timedelta(weeks=1)}[bucket]
    keys: list[str] = []
    here = start
    while here <= end and len(keys) < 2000:
        key = _bucket_key(here, bucket)
        if not keys or keys[-1] != key:
            keys.append(key)
        here += step
    last = _bucket_key(end, bucket)
    if keys and keys[-1] != last:
        keys.append(last)
    return keys


def _diff(before: bytes | None, after: bytes | None, path: str) -> tuple[str, bool]:
    if before is None and after is None:
        return "(contents not stored)", False
    binary = b"\0" in (before or b"")[:8000] or b"\0" in (after or b"")[:8000]  # git's test
    try:
        if binary:
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "binary")
        old = (before or b"").decode("utf-8").splitlines(keepends=True)
        new = (after or b"").decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return (f"binary content: {len(before or b'')} -> {len(after or b'')} bytes"), False
    lines = list(difflib.unified_diff(
        old, new, f"a/{path}" if before is not None else "/dev/null",
        f"b/{path}" if after is not None else "/dev/null", n=3,
    ))
    truncated = len(lines) > MAX_DIFF_LINES
    text = "".join(x if x.endswith("\n") else x + "\n" for x in lines[:MAX_DIFF_LINES])
    return text or "(no textual change)\n", truncated


def gather_details(report: Mapping[str, Any],
                   ledger_dir: str | os.PathLike[str] | None = None) -> Details:
    """Read the report's period back from the ledger: activity buckets and file diffs.

    Args:
        report: the dict from ``LogQuery.generate_audit_report`` (``period``, ``ledger``).
        ledger_dir: the ledger (default: the one the report names).
    """
    period = report.get("period") or {}
    start, end = _parse(period.get("start")), _parse(period.get("end"))
    where = ledger_dir if ledger_dir is not None else report.get("ledger")
    details = Details(bucket=_bucket_for(start, end))
    if where is None or start is None or end is None:
        return details
    totals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    changes: list[FileChange] = []
    paths: list[str] = []
    storage = LogStorage(where, quiet=True)
    for entry in storage.iter_entries(start, end):  # newest first
        key = _bucket_key(entry.timestamp, details.bucket)
        totals[key] += 1
        errors[key] += entry.level.rank >= 3
        if entry.change_type in FILE_CHANGE_TYPES and entry.file_path:
            if len(changes) >= MAX_DIFFS:
                details.diffs_omitted += 1
                continue
            text, cut = _diff(entry.before_bytes, entry.after_bytes, entry.file_path)
            changes.append(FileChange(
                entry.id, entry.timestamp.isoformat(), entry.change_type.value,
                entry.session_id, entry.agent_id, entry.description, text, cut,
            ))
            paths.append(entry.file_path)
    for path, change in zip(reversed(paths), reversed(changes), strict=True):
        details.file_changes.setdefault(path, []).append(change)  # oldest first
    details.activity = [(k, totals[k], errors[k]) for k in _buckets(start, end, details.bucket)]
    return details


def _fallback_activity(report: Mapping[str, Any]) -> Details:
    """Activity from the timestamps the report itself holds (no ledger to read)."""
    period = report.get("period") or {}
    start, end = _parse(period.get("start")), _parse(period.get("end"))
    details = Details(bucket=_bucket_for(start, end))
    if start is None or end is None:
        return details
    totals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for key in ("commands", "api_calls", "deployments", "config_changes", "errors"):
        for item in report.get(key) or []:
            stamp = _parse(item.get("timestamp"))
            if stamp is None:
                continue
            bucket = _bucket_key(stamp, details.bucket)
            if key == "errors":
                errors[bucket] += 1
            else:
                totals[bucket] += 1
    details.activity = [
        (k, max(totals[k], errors[k]), errors[k]) for k in _buckets(start, end, details.bucket)
    ]
    return details


# -- SVG charts -----------------------------------------------------------------------------
_LEVEL_COLOURS = {"debug": "#98a2b3", "info": "#4e79a7", "warning": "#edc948",
                  "error": "#e15759", "critical": "#8b1e1e"}


def bar_chart_svg(items: Sequence[tuple[str, int]], title: str, width: int = 560,
                  colours: Mapping[str, str] | None = None) -> str:
    """Horizontal bars, one per item, labelled with name and count."""
    if not items:
        return '<p class="muted">Nothing to chart.</p>'
    row, label_w = 24, 150
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{_e(title)}</title>"
    ]
    for i, (name, value) in enumerate(items):
        y = 5 + i * row
        bar = max(2.0, (width - label_w - 60) * value / top)
        colour = (colours or {}).get(name) or _TYPE_COLOURS[i % len(_TYPE_COLOURS)]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="lbl">{_e(name)}'
            f'</text><rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" '
            f'rx="3" fill="{colour}"><title>{_e(name)}: {value}</title></rect>'
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 16}" class="val">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def activity_svg(activity: Sequence[tuple[str, int, int]], bucket: str,
                 width: int = 1100, height: int = 220) -> str:
    """Columns of entries per time bucket, with the errors among them in red."""
    if not activity or not any(total for _, total, _ in activity):
        return '<p class="muted">No activity in the period.</p>'
    left, bottom, top_pad = 40, 40, 10
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max(total for _, total, _ in activity) or 1
    step = plot_w / len(activity)
    bar_w = min(48.0, max(1.0, step * 0.8))
    parts = [
        f'<svg class="chart" role="img" aria-label="Entries per {bucket}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>Entries per {_e(bucket)}</title>"
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" '
        'class="axis"/>'
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end" class="val">{peak}</text>'
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" class="val">0</text>'
    ]
    label_every = max(1, len(activity) // 8)
    for i, (key, total, errs) in enumerate(activity):
        x = left + i * step + (step - bar_w) / 2
        h = plot_h * total / peak
        eh = plot_h * errs / peak
        tip = f"{key}: {total} entries, {errs} errors"
        if total:
            parts.append(
                f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="#4e79a7"><title>{_e(tip)}</title></rect>'
            )
        if errs:
            parts.append(
                f'<rect x="{x:.1f}" y="{top_pad + plot_h - eh:.1f}" width="{bar_w:.1f}" '
                f'height="{eh:.1f}" fill="#e15759"><title>{_e(tip)}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top_pad + plot_h + 16}" '
                f'text-anchor="middle" class="tick">{_e(key)}</text>'
            )
    parts.append(
        f'<rect x="{width - 210}" y="{height - 16}" width="10" height="10" fill="#4e79a7"/>'
        f'<text x="{width - 196}" y="{height - 7}" class="tick">entries</text>'
        f'<rect x="{width - 130}" y="{height - 16}" width="10" height="10" fill="#e15759"/>'
        f'<text x="{width - 116}" y="{height - 7}" class="tick">errors</text></svg>'
    )
    return "".join(parts)


# -- HTML -----------------------------------------------------------------------------------
_CSS = """
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f7f8fa;--card:#fff;--bad:#c0392b;
--ok:#1e8449;--warn:#b9770e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:24px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#c9ced8}
main{max-width:1180px;margin:0 auto;padding:24px 32px 64px}
nav{margin:0 0 20px;font-size:13px}
nav a{margin-right:14px;color:#3b5bdb;text-decoration:none}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:18px 22px;margin:0 0 20px}
h2{font-size:18px;margin:0 0 12px}
h3{font-size:15px;margin:18px 0 8px}
h3 code{font-size:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fbfcfd}
.card b{display:block;font-size:22px}
.card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.bad b{color:var(--bad)}
.charts{display:flex;flex-wrap:wrap;gap:24px}
svg.chart{max-width:100%;height:auto}
svg .lbl{font-size:12px;fill:#344054}
svg .val,svg .tick{font-size:11px;fill:#667085}
svg .axis{stroke:#98a2b3}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f2f4f7;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:10px;
overflow:auto;margin:6px 0}
.diff .add{background:#e6ffed;color:#14532d;display:block}
.diff .del{background:#ffeef0;color:#7f1d1d;display:block}
.diff .hunk{color:#6f42c1;display:block}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;
background:#eef2f6}
.pill.error,.pill.critical,.pill.fail{background:#fde2e1;color:var(--bad)}
.pill.warning{background:#fef3c7;color:var(--warn)}
.pill.ok{background:#dcfce7;color:var(--ok)}
.muted{color:var(--muted)}
details{margin:6px 0}
summary{cursor:pointer}
.statement{font-size:15px;padding:12px 14px;border-radius:6px}
.statement.ok{background:#ecfdf3;border:1px solid #abefc6}
.statement.bad{background:#fef3f2;border:1px solid #fecdca}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; " \
       "form-action 'none'"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    if not body:
        return f'<p class="muted">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value: Any, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_e(value)}</td>"


def _code(value: Any) -> str:
    return f"<td><code>{_e(value)}</code></td>"


def _pill(text: Any, kind: str) -> str:
    return f'<td><span class="pill {_e(kind)}">{_e(text)}</span></td>'


def _short(entry_id: Any) -> str:
    return str(entry_id or "")[:12]


def _when(text: Any) -> str:
    stamp = _parse(text) if isinstance(text, str) else None
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC") if stamp else str(text or "")


def _diff_html(text: str) -> str:
    out = []
    for line in text.splitlines():
        cls = ""
        if line.startswith("+") and not line.startswith("+++"):
            cls = "add"
        elif line.startswith("-") and not line.startswith("---"):
            cls = "del"
        elif line.startswith("@@"):
            cls = "hunk"
        out.append(f'<span class="{cls}">{_e(line)}</span>' if cls else _e(line) + "\n")
    return '<pre class="diff">' + "".join(out) + "</pre>"


def _timeline(report: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(time, kind, who, what) of the period's notable events, oldest first."""
    events: list[tuple[str, str, str, str]] = []
    for s in report.get("sessions") or []:
        who = f"{s.get('agent_id', '')} / {s.get('session_id', '')}"
        events.append((s.get("first_timestamp") or "", "session start", who,
                       f"{s.get('entries', 0)} entries, {s.get('errors', 0)} errors"))
        events.append((s.get("last_timestamp") or "", "session last entry", who, ""))
    for key, kind in (("deployments", "deployment"), ("config_changes", "config change"),
                      ("errors", "error")):
        for item in report.get(key) or []:
            events.append((item.get("timestamp") or "", item.get("level", kind)
                           if key == "errors" else kind,
                           f"{item.get('agent_id', '')} / {item.get('session_id', '')}",
                           item.get("description") or ""))
    for c in report.get("commands") or []:
        if c.get("exit_code") not in (0, None):
            events.append((c.get("timestamp") or "", "failed command",
                           f"{c.get('agent_id', '')} / {c.get('session_id', '')}",
                           f"{c.get('command')} (exit {c.get('exit_code')})"))
    events.sort(key=lambda e: e[0])
    return events


def render_audit_html(report: Mapping[str, Any], details: Details | None = None) -> str:
    """The audit report dict as one self-contained HTML page.

    Args:
        report: the dict from ``LogQuery.generate_audit_report`` (keys in docs/api.md).
        details: activity and diffs read from the ledger (``gather_details``); by default
            they are read from the ledger the report names, and when that cannot be read
            the page is built from the report alone (no diffs).
    """
    if details is None:
        try:
            details = gather_details(report)
        except (LedgerError, OSError):
            details = None
        if details is None or not details.activity:
            details = _fallback_activity(report)
    summary = report.get("summary") or {}
    period = report.get("period") or {}
    integrity = report.get("integrity") or {}
    fsck = integrity.get("fsck")
    tips = {t.get("session_id"): t.get("tip") for t in integrity.get("session_tips") or []}

    cards = [
        ("entries", summary.get("total_entries", 0), False),
        ("sessions", summary.get("sessions", 0), False),
        ("agents", summary.get("agents", 0), False),
        ("errors", summary.get("errors", 0), bool(summary.get("errors"))),
        ("critical", summary.get("critical", 0), bool(summary.get("critical"))),
        ("warnings", summary.get("warnings", 0), False),
        ("files changed", summary.get("files_changed", 0), False),
        ("commands (failed)", f"{summary.get('commands', 0)} ({summary.get('failed_commands', 0)})",
         bool(summary.get("failed_commands"))),
        ("API calls (failed)",
         f"{summary.get('api_calls', 0)} ({summary.get('failed_api_calls', 0)})",
         bool(summary.get("failed_api_calls"))),
        ("deployments", summary.get("deployments", 0), False),
        ("config changes", summary.get("config_changes", 0), False),
        ("drift", summary.get("drift_detected", 0), bool(summary.get("drift_detected"))),
    ]
    cards_html = "".join(
        f'<div class="card{" bad" if bad else ""}"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
        for k, v, bad in cards
    )
    by_type = sorted((report.get("changes_by_type") or {}).items(), key=lambda kv: -kv[1])
    by_level = list((report.get("changes_by_level") or {}).items())

    timeline_rows = [
        (_td(_when(t)), _pill(kind, kind.split()[0]), _td(who), _td(what))
        for t, kind, who, what in _timeline(report)[:MAX_TIMELINE]
    ]
    errors = report.get("errors") or []
    error_rows = [
        (_td(_when(e.get("timestamp"))), _pill(e.get("level"), str(e.get("level"))),
         _td(e.get("change_type")), _td(e.get("agent_id")), _td(e.get("session_id")),
         _td(e.get("description")), _code(_short(e.get("id"))))
        for e in errors
    ]
    session_rows = [
        (_td(s.get("session_id")), _td(s.get("agent_id")), _td(s.get("entries"), "num"),
         _td(s.get("errors"), "num"), _td(_when(s.get("first_timestamp"))),
         _td(_when(s.get("last_timestamp"))), _code(_short(tips.get(s.get("session_id")))))
        for s in report.get("sessions") or []
    ]
    agent_rows = [
        (_td(a.get("agent_id")), _td(a.get("entries"), "num"), _td(a.get("sessions"), "num"),
         _td(a.get("errors"), "num"), _td(_when(a.get("first_timestamp"))),
         _td(_when(a.get("last_timestamp"))))
        for a in report.get("agents") or []
    ]
    files = report.get("files_changed") or []
    anchors = {f.get("file_path"): f"file-{i}" for i, f in enumerate(files)}
    for path in details.file_changes:
        anchors.setdefault(path, f"file-{len(anchors)}")
    file_rows = []
    for f in files:
        path = f.get("file_path")
        link = (f'<td><a href="#{anchors[path]}">{_e(path)}</a></td>'
                if path in details.file_changes else _td(path))
        kinds = ", ".join(f"{k} {v}" for k, v in (f.get("by_type") or {}).items())
        file_rows.append((link, _td(f.get("changes"), "num"), _td(kinds),
                          _td(f.get("sessions"), "num"), _td(_when(f.get("last_change")))))
    diff_sections = []
    for path, changes in details.file_changes.items():
        items = []
        for c in changes:
            note = ' <span class="muted">(diff cut at 400 lines)</span>' if c.truncated else ""
            items.append(
                f"<details open><summary><code>{_e(_short(c.id))}</code> "
                f"{_e(_when(c.timestamp))} · {_e(c.change_type)} · {_e(c.agent_id)} · "
                f"{_e(c.description)}{note}</summary>{_diff_html(c.diff)}</details>"
            )
        diff_sections.append(f'<h3 id="{anchors[path]}"><code>{_e(path)}</code></h3>'
                             + "".join(items))
    if details.diffs_omitted:
        diff_sections.append(f'<p class="muted">{details.diffs_omitted} older file changes '
                             f"are not shown (at most {MAX_DIFFS} diffs per report).</p>")
    command_rows = [
        (_td(_when(c.get("timestamp"))), _code(c.get("command")),
         _pill(c.get("exit_code"), "ok" if c.get("exit_code") == 0 else "fail"),
         _td(c.get("duration_seconds"), "num"), _td(c.get("agent_id")))
        for c in report.get("commands") or []
    ]
    api_rows = [
        (_td(_when(c.get("timestamp"))), _td(c.get("method")), _code(c.get("endpoint")),
         _pill(c.get("status_code"), "fail" if isinstance(c.get("status_code"), int)
               and c["status_code"] >= 400 else "ok"),
         _td(c.get("duration_seconds"), "num"), _td(c.get("agent_id")))
        for c in report.get("api_calls") or []
    ]

    def full(items: Sequence[Mapping[str, Any]], empty: str) -> str:
        if not items:
            return f'<p class="muted">{_e(empty)}</p>'
        return "".join(
            f"<details><summary>{_e(_when(i.get('timestamp')))} · {_e(i.get('agent_id'))} · "
            f"{_e(i.get('description'))}</summary><pre>"
            f"{_e(json.dumps(i, indent=2, ensure_ascii=False, default=str))}</pre></details>"
            for i in items
        )

    if fsck is None:
        statement = ("git fsck was not run for this report; the session tips below identify "
                     "each session's complete history.")
        ok = True
    else:
        ok = bool(fsck.get("ok"))
        statement = (
            "git fsck found no problems in the ledger. Each session's tip commit below "
            "identifies its complete history: any change to any earlier entry would change "
            "these ids."
            if ok else
            f"git fsck reported problems (exit code {fsck.get('exit_code')}): this ledger "
            "must not be trusted until they are explained."
        )
    fsck_out = (f"<pre>{_e(fsck.get('output'))}</pre>"
                if fsck and fsck.get("output") else "")
    tip_rows = [
        (_td(t.get("session_id")), _code(t.get("branch")), _code(t.get("tip")))
        for t in integrity.get("session_tips") or []
    ]
    ledger = report.get("ledger") or ""
    check = (f"git --git-dir={ledger} fsck --no-dangling" if ledger
             else "git --git-dir=LEDGER fsck --no-dangling")

    start, end = _when(period.get("start")), _when(period.get("end"))
    sections = [
        ("summary", "Summary", f'<div class="cards">{cards_html}</div>'),
        ("charts", "Activity",
         f"<h3>Entries per {_e(details.bucket)}</h3>"
         f"{activity_svg(details.activity, details.bucket)}"
         '<div class="charts"><div><h3>Changes by type</h3>'
         f"{bar_chart_svg(by_type, 'Changes by type')}</div>"
         f"<div><h3>By level</h3>"
         f"{bar_chart_svg(by_level, 'Changes by level', 380, _LEVEL_COLOURS)}</div></div>"),
        ("timeline", "Timeline",
         _table(["Time", "Event", "Agent / session", "Detail"], timeline_rows,
                "No events in the period.")),
        ("errors", f"Errors ({len(errors)})",
         _table(["Time", "Level", "Type", "Agent", "Session", "Description", "Entry"],
                error_rows, "No errors in the period.")),
        ("sessions", "Sessions",
         _table(["Session", "Agent", "Entries", "Errors", "First", "Last", "Tip"],
                session_rows, "No sessions in the period.")
         + "<h3>Agents</h3>"
         + _table(["Agent", "Entries", "Sessions", "Errors", "First", "Last"], agent_rows,
                  "No agents in the period.")),
        ("files", "Files changed",
         _table(["File", "Changes", "By type", "Sessions", "Last change"], file_rows,
                "No files changed in the period.")
         + "".join(diff_sections)),
        ("commands", "Commands and API calls",
         _table(["Time", "Command", "Exit", "Seconds", "Agent"], command_rows,
                "No commands in the period.")
         + "<h3>API calls</h3>"
         + _table(["Time", "Method", "Endpoint", "Status", "Seconds", "Agent"], api_rows,
                  "No API calls in the period.")),
        ("deployments", "Deployments and configuration changes",
         "<h3>Deployments</h3>" + full(report.get("deployments") or [], "No deployments.")
         + "<h3>Configuration changes</h3>"
         + full(report.get("config_changes") or [], "No configuration changes.")),
        ("integrity", "Integrity",
         f'<p class="statement {"ok" if ok else "bad"}">{_e(statement)}</p>{fsck_out}'
         f"<p>{_e(integrity.get('sessions_in_ledger', 0))} sessions in the ledger. "
         f"Check it yourself: <code>{_e(check)}</code></p>"
         + _table(["Session", "Branch", "Tip commit"], tip_rows, "No session tips listed.")),
    ]
    nav = "".join(f'<a href="#{sid}">{_e(title.split(" (")[0])}</a>' for sid, title, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{_e(title)}</h2>{content}</section>'
                   for sid, title, content in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="git-ledger">'
        f"<title>Audit report {_e(start)} – {_e(end)}</title><style>{_CSS}</style></head>"
        f"<body><header><h1>Agent activity audit</h1><p>{_e(start)} – {_e(end)} · "
        f"generated {_e(_when(report.get('generated_at')))} · ledger <code>{_e(ledger)}</code>"
        f"</p></header><main><nav>{nav}</nav>{body}</main></body></html>\n"
    )


def write_audit_html(report: Mapping[str, Any], output_file: str | os.PathLike[str],
                     details: Details | None = None) -> Path:
    """Render the report and write it to ``output_file`` (atomically); return the path."""
    path = Path(os.fspath(output_file))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_audit_html(report, details), encoding="utf-8")
    os.replace(tmp, path)
    return path
