"""The audit report as one self-contained HTML page: summary, charts, tables and diffs.

The page loads nothing (no scripts, fonts or images from anywhere; a Content-Security-Policy
says so to the browser), charts are inline SVG, and every value from the ledger is escaped.
This module lays the page out; the sections are built in :mod:`ledger.reports.html_parts`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger._outfile import write_output
from ledger.errors import LedgerError
from ledger.reports import html_parts as parts
from ledger.reports.details import Details, fallback_activity, gather_details
from ledger.reports.html_budget import timeline
from ledger.reports.html_cells import esc, when
from ledger.reports.html_integrity import integrity as integrity_section

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
.pill.event{background:#e0e7ff;color:#3730a3}
.pill.undo{background:#f3e8ff;color:#6b21a8}
.muted{color:var(--muted)}
details{margin:6px 0}
summary{cursor:pointer}
.statement{font-size:15px;padding:12px 14px;border-radius:6px}
.statement.ok{background:#ecfdf3;border:1px solid #abefc6}
.statement.bad{background:#fef3f2;border:1px solid #fecdca}
"""

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def _details_for(report: Mapping[str, Any]) -> Details:
    """Activity and diffs read from the ledger the report names, else from the report alone."""
    details: Details | None
    try:
        details = gather_details(report)
    except (LedgerError, OSError):
        details = None
    if details is None or not details.activity:
        details = fallback_activity(report)
    return details


def _page(report: Mapping[str, Any], sections: list[tuple[str, str, str]]) -> str:
    """The whole document: head, header, the navigation and each (id, title, HTML) section."""
    period = report.get("period") or {}
    ledger = report.get("ledger") or ""
    start, end = when(period.get("start")), when(period.get("end"))
    nav = "".join(f'<a href="#{sid}">{esc(title.split(" (")[0])}</a>' for sid, title, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{esc(title)}</h2>{content}</section>'
        for sid, title, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="git-ledger">'
        f"<title>Audit report {esc(start)} – {esc(end)}</title><style>{_CSS}</style></head>"
        f"<body><header><h1>Agent activity audit</h1><p>{esc(start)} – {esc(end)} · "
        f"generated {esc(when(report.get('generated_at')))} · ledger <code>{esc(ledger)}</code>"
        f"</p></header><main><nav>{nav}</nav>{body}</main></body></html>\n"
    )


def render_audit_html(report: Mapping[str, Any], details: Details | None = None) -> str:
    """The audit report dict as one self-contained HTML page.

    Args:
        report: the dict from ``LogQuery.generate_audit_report`` (keys in docs/api.md).
        details: activity and diffs read from the ledger (``gather_details``); by default
            they are read from the ledger the report names, and when that cannot be read
            the page is built from the report alone (no diffs).
    """
    if details is None:
        details = _details_for(report)
    integrity = report.get("integrity") or {}
    tips = {t.get("session_id"): t.get("tip") for t in integrity.get("session_tips") or []}
    errors = report.get("errors") or []
    sections = [
        ("summary", "Summary", parts.summary_cards(report.get("summary") or {})),
        ("charts", "Activity", parts.activity(report, details)),
        ("timeline", "Timeline", timeline(report)),
        ("errors", f"Errors ({len(errors)})", parts.errors(errors)),
        ("sessions", "Sessions", parts.sessions(report, tips)),
        ("files", "Files changed", parts.files(report, details)),
        ("commands", "Commands and API calls", parts.commands(report)),
        ("deployments", "Deployments and configuration changes", parts.releases(report)),
        ("integrity", "Integrity", integrity_section(integrity, report.get("ledger") or "")),
    ]
    return _page(report, sections)


def write_audit_html(
    report: Mapping[str, Any], output_file: str | os.PathLike[str], details: Details | None = None
) -> Path:
    """Render the report and write it to ``output_file`` (atomically); return the path."""
    path = Path(os.fspath(output_file))
    write_output(path, render_audit_html(report, details))
    return path
