"""The sections of the HTML audit page, each built from the report dict (and read-back details).

Each function returns the inner HTML of one ``<section>``; :mod:`ledger.reports.html` lays them out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ledger.reports.details import MAX_DIFFS, Details
from ledger.reports.html_cells import code, diff_html, esc, pill, short, table, td, when
from ledger.reports.svg import LEVEL_COLOURS, activity_svg, bar_chart_svg

MAX_TIMELINE = 300


def summary_cards(summary: Mapping[str, Any]) -> str:
    """The headline figures as cards; the ones that signal trouble are marked."""
    cards = [
        ("entries", summary.get("total_entries", 0), False),
        ("sessions", summary.get("sessions", 0), False),
        ("agents", summary.get("agents", 0), False),
        ("errors", summary.get("errors", 0), bool(summary.get("errors"))),
        ("critical", summary.get("critical", 0), bool(summary.get("critical"))),
        ("warnings", summary.get("warnings", 0), False),
        ("files changed", summary.get("files_changed", 0), False),
        (
            "commands (failed)",
            f"{summary.get('commands', 0)} ({summary.get('failed_commands', 0)})",
            bool(summary.get("failed_commands")),
        ),
        (
            "API calls (failed)",
            f"{summary.get('api_calls', 0)} ({summary.get('failed_api_calls', 0)})",
            bool(summary.get("failed_api_calls")),
        ),
        ("deployments", summary.get("deployments", 0), False),
        ("config changes", summary.get("config_changes", 0), False),
        ("drift", summary.get("drift_detected", 0), bool(summary.get("drift_detected"))),
    ]
    cards_html = "".join(
        f'<div class="card{" bad" if bad else ""}"><b>{esc(v)}</b><span>{esc(k)}</span></div>'
        for k, v, bad in cards
    )
    return f'<div class="cards">{cards_html}</div>'


def activity(report: Mapping[str, Any], details: Details) -> str:
    """Entries over time, and the changes by type and by level."""
    by_type = sorted((report.get("changes_by_type") or {}).items(), key=lambda kv: -kv[1])
    by_level = list((report.get("changes_by_level") or {}).items())
    return (
        f"<h3>Entries per {esc(details.bucket)}</h3>"
        f"{activity_svg(details.activity, details.bucket)}"
        '<div class="charts"><div><h3>Changes by type</h3>'
        f"{bar_chart_svg(by_type, 'Changes by type')}</div>"
        f"<div><h3>By level</h3>"
        f"{bar_chart_svg(by_level, 'Changes by level', 380, LEVEL_COLOURS)}</div></div>"
    )


def _events(report: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(time, kind, who, what) of the period's notable events, oldest first."""
    events: list[tuple[str, str, str, str]] = []
    for s in report.get("sessions") or []:
        who = f"{s.get('agent_id', '')} / {s.get('session_id', '')}"
        events.append(
            (
                s.get("first_timestamp") or "",
                "session start",
                who,
                f"{s.get('entries', 0)} entries, {s.get('errors', 0)} errors",
            )
        )
        events.append((s.get("last_timestamp") or "", "session last entry", who, ""))
    for key, kind in (
        ("deployments", "deployment"),
        ("config_changes", "config change"),
        ("errors", "error"),
    ):
        for item in report.get(key) or []:
            events.append(
                (
                    item.get("timestamp") or "",
                    item.get("level", kind) if key == "errors" else kind,
                    f"{item.get('agent_id', '')} / {item.get('session_id', '')}",
                    item.get("description") or "",
                )
            )
    for c in report.get("commands") or []:
        if c.get("exit_code") not in (0, None):
            events.append(
                (
                    c.get("timestamp") or "",
                    "failed command",
                    f"{c.get('agent_id', '')} / {c.get('session_id', '')}",
                    f"{c.get('command')} (exit {c.get('exit_code')})",
                )
            )
    events.sort(key=lambda e: e[0])
    return events


def timeline(report: Mapping[str, Any]) -> str:
    """Session starts and ends, deployments, configuration changes, errors, failed commands."""
    rows = [
        (td(when(t)), pill(kind, kind.split()[0]), td(who), td(what))
        for t, kind, who, what in _events(report)[:MAX_TIMELINE]
    ]
    return table(["Time", "Event", "Agent / session", "Detail"], rows, "No events in the period.")


def errors(items: Sequence[Mapping[str, Any]]) -> str:
    """The error and critical entries."""
    rows = [
        (
            td(when(e.get("timestamp"))),
            pill(e.get("level"), str(e.get("level"))),
            td(e.get("change_type")),
            td(e.get("agent_id")),
            td(e.get("session_id")),
            td(e.get("description")),
            code(short(e.get("id"))),
        )
        for e in items
    ]
    return table(
        ["Time", "Level", "Type", "Agent", "Session", "Description", "Entry"],
        rows,
        "No errors in the period.",
    )


def sessions(report: Mapping[str, Any], tips: Mapping[Any, Any]) -> str:
    """The sessions with their tip commits, then the agents."""
    session_rows = [
        (
            td(s.get("session_id")),
            td(s.get("agent_id")),
            td(s.get("entries"), "num"),
            td(s.get("errors"), "num"),
            td(when(s.get("first_timestamp"))),
            td(when(s.get("last_timestamp"))),
            code(short(tips.get(s.get("session_id")))),
        )
        for s in report.get("sessions") or []
    ]
    agent_rows = [
        (
            td(a.get("agent_id")),
            td(a.get("entries"), "num"),
            td(a.get("sessions"), "num"),
            td(a.get("errors"), "num"),
            td(when(a.get("first_timestamp"))),
            td(when(a.get("last_timestamp"))),
        )
        for a in report.get("agents") or []
    ]
    return (
        table(
            ["Session", "Agent", "Entries", "Errors", "First", "Last", "Tip"],
            session_rows,
            "No sessions in the period.",
        )
        + "<h3>Agents</h3>"
        + table(
            ["Agent", "Entries", "Sessions", "Errors", "First", "Last"],
            agent_rows,
            "No agents in the period.",
        )
    )


def _diffs(details: Details, anchors: Mapping[Any, str]) -> list[str]:
    """Each changed file's diffs, oldest first, under a heading the file table links to."""
    diff_sections = []
    for path, changes in details.file_changes.items():
        items = []
        for c in changes:
            note = ' <span class="muted">(diff cut at 400 lines)</span>' if c.truncated else ""
            items.append(
                f"<details open><summary><code>{esc(short(c.id))}</code> "
                f"{esc(when(c.timestamp))} · {esc(c.change_type)} · {esc(c.agent_id)} · "
                f"{esc(c.description)}{note}</summary>{diff_html(c.diff)}</details>"
            )
        diff_sections.append(
            f'<h3 id="{anchors[path]}"><code>{esc(path)}</code></h3>' + "".join(items)
        )
    if details.diffs_omitted:
        diff_sections.append(
            f'<p class="muted">{details.diffs_omitted} older file changes '
            f"are not shown (at most {MAX_DIFFS} diffs per report).</p>"
        )
    return diff_sections


def files(report: Mapping[str, Any], details: Details) -> str:
    """The files changed, each linked to its diffs below the table."""
    changed = report.get("files_changed") or []
    anchors = {f.get("file_path"): f"file-{i}" for i, f in enumerate(changed)}
    for path in details.file_changes:
        anchors.setdefault(path, f"file-{len(anchors)}")
    file_rows = []
    for f in changed:
        path = f.get("file_path")
        link = (
            f'<td><a href="#{anchors[path]}">{esc(path)}</a></td>'
            if path in details.file_changes
            else td(path)
        )
        kinds = ", ".join(f"{k} {v}" for k, v in (f.get("by_type") or {}).items())
        file_rows.append(
            (
                link,
                td(f.get("changes"), "num"),
                td(kinds),
                td(f.get("sessions"), "num"),
                td(when(f.get("last_change"))),
            )
        )
    return table(
        ["File", "Changes", "By type", "Sessions", "Last change"],
        file_rows,
        "No files changed in the period.",
    ) + "".join(_diffs(details, anchors))


def commands(report: Mapping[str, Any]) -> str:
    """The commands run and the API calls made."""
    command_rows = [
        (
            td(when(c.get("timestamp"))),
            code(c.get("command")),
            pill(c.get("exit_code"), "ok" if c.get("exit_code") == 0 else "fail"),
            td(c.get("duration_seconds"), "num"),
            td(c.get("agent_id")),
        )
        for c in report.get("commands") or []
    ]
    api_rows = [
        (
            td(when(c.get("timestamp"))),
            td(c.get("method")),
            code(c.get("endpoint")),
            pill(
                c.get("status_code"),
                "fail"
                if isinstance(c.get("status_code"), int) and c["status_code"] >= 400
                else "ok",
            ),
            td(c.get("duration_seconds"), "num"),
            td(c.get("agent_id")),
        )
        for c in report.get("api_calls") or []
    ]
    return (
        table(
            ["Time", "Command", "Exit", "Seconds", "Agent"],
            command_rows,
            "No commands in the period.",
        )
        + "<h3>API calls</h3>"
        + table(
            ["Time", "Method", "Endpoint", "Status", "Seconds", "Agent"],
            api_rows,
            "No API calls in the period.",
        )
    )


def _full(items: Sequence[Mapping[str, Any]], empty: str) -> str:
    """Each entry folded under its time, agent and description, its whole JSON inside."""
    if not items:
        return f'<p class="muted">{esc(empty)}</p>'
    return "".join(
        f"<details><summary>{esc(when(i.get('timestamp')))} · {esc(i.get('agent_id'))} · "
        f"{esc(i.get('description'))}</summary><pre>"
        f"{esc(json.dumps(i, indent=2, ensure_ascii=False, default=str))}</pre></details>"
        for i in items
    )


def releases(report: Mapping[str, Any]) -> str:
    """Deployments and configuration changes in full."""
    return (
        "<h3>Deployments</h3>"
        + _full(report.get("deployments") or [], "No deployments.")
        + "<h3>Configuration changes</h3>"
        + _full(report.get("config_changes") or [], "No configuration changes.")
    )


def _verdict(fsck: Mapping[str, Any] | None) -> tuple[bool, str]:
    """Whether the ledger checked out, and the sentence that says so."""
    if fsck is None:
        return True, (
            "git fsck was not run for this report; the session tips below identify "
            "each session's complete history."
        )
    ok = bool(fsck.get("ok"))
    statement = (
        "git fsck found no problems in the ledger. Each session's tip commit below "
        "identifies its complete history: any change to any earlier entry would change "
        "these ids."
        if ok
        else f"git fsck reported problems (exit code {fsck.get('exit_code')}): this ledger "
        "must not be trusted until they are explained."
    )
    return ok, statement


def integrity(integrity: Mapping[str, Any], ledger: str) -> str:
    """fsck's verdict, how to check it yourself, and each session's tip commit."""
    fsck = integrity.get("fsck")
    ok, statement = _verdict(fsck)
    fsck_out = f"<pre>{esc(fsck.get('output'))}</pre>" if fsck and fsck.get("output") else ""
    tip_rows = [
        (td(t.get("session_id")), code(t.get("branch")), code(t.get("tip")))
        for t in integrity.get("session_tips") or []
    ]
    check = (
        f"git --git-dir={ledger} fsck --no-dangling"
        if ledger
        else "git --git-dir=LEDGER fsck --no-dangling"
    )
    return (
        f'<p class="statement {"ok" if ok else "bad"}">{esc(statement)}</p>{fsck_out}'
        f"<p>{esc(integrity.get('sessions_in_ledger', 0))} sessions in the ledger. "
        f"Check it yourself: <code>{esc(check)}</code></p>"
        + table(["Session", "Branch", "Tip commit"], tip_rows, "No session tips listed.")
    )
