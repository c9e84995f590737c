"""The sections of the HTML audit page, each built from the report dict (and read-back details).

Each function returns the inner HTML of one ``<section>``; :mod:`ledger.reports.html` lays them out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ledger.reports.details import Details
from ledger.reports.html_budget import MAX_DIFFS_SHOWN, capped, more_note
from ledger.reports.html_cells import code, diff_html, esc, pill, short, table, td, when
from ledger.reports.svg import LEVEL_COLOURS, activity_svg, bar_chart_svg


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


def errors(items: Sequence[Mapping[str, Any]]) -> str:
    """The error and critical entries."""
    shown, left_out = capped(items)
    rows = [
        (td(when(e.get("timestamp"))), pill(e.get("level"), str(e.get("level"))),
         td(e.get("change_type")), td(e.get("agent_id")), td(e.get("session_id")),
         td(e.get("description")), code(short(e.get("id"))))
        for e in shown
    ]
    return table(["Time", "Level", "Type", "Agent", "Session", "Description", "Entry"],
                 rows, "No errors in the period.") + more_note(left_out, "error")


def sessions(report: Mapping[str, Any], tips: Mapping[Any, Any]) -> str:
    """The sessions with their tip commits, then the agents."""
    some_sessions, sessions_left = capped(report.get("sessions") or [])
    session_rows = [
        (td(s.get("session_id")), td(s.get("agent_id")), td(s.get("entries"), "num"),
         td(s.get("errors"), "num"), td(when(s.get("first_timestamp"))),
         td(when(s.get("last_timestamp"))), code(short(tips.get(s.get("session_id")))))
        for s in some_sessions
    ]
    some_agents, agents_left = capped(report.get("agents") or [])
    agent_rows = [
        (td(a.get("agent_id")), td(a.get("entries"), "num"), td(a.get("sessions"), "num"),
         td(a.get("errors"), "num"), td(when(a.get("first_timestamp"))),
         td(when(a.get("last_timestamp"))))
        for a in some_agents
    ]
    return (
        table(["Session", "Agent", "Entries", "Errors", "First", "Last", "Tip"],
              session_rows, "No sessions in the period.")
        + more_note(sessions_left, "session")
        + "<h3>Agents</h3>"
        + table(["Agent", "Entries", "Sessions", "Errors", "First", "Last"], agent_rows,
                "No agents in the period.")
        + more_note(agents_left, "agent")
    )


def _diffs(details: Details, anchors: Mapping[Any, str]) -> list[str]:
    """Each changed file's diffs, oldest first and folded, under a heading the file table
    links to (one per repository and path); at most MAX_DIFFS_SHOWN of them."""
    diff_sections = []
    budget = MAX_DIFFS_SHOWN
    omitted = details.diffs_omitted
    for (repo, path), changes in details.file_changes.items():
        if budget <= 0:
            omitted += len(changes)
            continue
        shown, left = capped(changes, budget)
        budget -= len(shown)
        omitted += left
        items = []
        for c in shown:
            note = ' <span class="muted">(diff cut at 400 lines)</span>' if c.truncated else ""
            items.append(
                f"<details><summary><code>{esc(short(c.id))}</code> "
                f"{esc(when(c.timestamp))} · {esc(c.change_type)} · {esc(c.agent_id)} · "
                f"{esc(c.description)}{note}</summary>{diff_html(c.diff)}</details>"
            )
        where = f' <span class="muted">in {esc(repo)}</span>' if repo is not None else ""
        diff_sections.append(f'<h3 id="{anchors[repo, path]}"><code>{esc(path)}</code>{where}</h3>'
                             + "".join(items))
    if omitted:
        diff_sections.append(f'<p class="muted">{omitted:,} more file changes are not shown '
                             f"(at most {MAX_DIFFS_SHOWN} diffs per page); "
                             "<code>git ledger show ID</code> prints any of them.</p>")
    return diff_sections


def files(report: Mapping[str, Any], details: Details) -> str:
    """The files changed, each linked to its diffs below the table."""
    changed = report.get("files_changed") or []
    anchors: dict[Any, str] = {}  # one id per (repository, path): a path is in many repositories
    keys = [(f.get("repository"), f.get("file_path")) for f in changed]
    for key in [*keys, *details.file_changes]:
        anchors.setdefault(key, f"file-{len(anchors)}")
    some_files, files_left = capped(changed)
    groups: dict[str | None, list[str]] = {}
    for f in some_files:
        path, key = f.get("file_path"), (f.get("repository"), f.get("file_path"))
        link = (
            f'<td><a href="#{anchors[key]}">{esc(path)}</a></td>'
            if key in details.file_changes
            else td(path)
        )
        kinds = ", ".join(f"{k} {v}" for k, v in (f.get("by_type") or {}).items())
        cells = "".join((link, td(f.get("changes"), "num"), td(kinds),
                         td(f.get("sessions"), "num"), td(when(f.get("last_change")))))
        groups.setdefault(f.get("repository"), []).append(cells)
    tables = []
    for repo, rows in groups.items() or [(None, [])]:
        head = (f'<h3 class="repo">{esc(repo or "Repository not recorded")}</h3>'
                if len(groups) > 1 or repo is not None else "")
        tables.append(head + table(["File", "Changes", "By type", "Sessions", "Last change"],
                                   [[c] for c in rows], "No files changed in the period."))
    return "".join(tables) + more_note(files_left, "file") + "".join(_diffs(details, anchors))


def commands(report: Mapping[str, Any]) -> str:
    """The commands run and the API calls made."""
    some_commands, commands_left = capped(report.get("commands") or [])
    command_rows = [
        (td(when(c.get("timestamp"))), code(c.get("command")),
         pill(c.get("exit_code"), "ok" if c.get("exit_code") == 0 else "fail"),
         td(c.get("duration_seconds"), "num"), td(c.get("agent_id")))
        for c in some_commands
    ]
    some_calls, calls_left = capped(report.get("api_calls") or [])
    api_rows = [
        (td(when(c.get("timestamp"))), td(c.get("method")), code(c.get("endpoint")),
         pill(c.get("status_code"), "fail" if isinstance(c.get("status_code"), int)
              and c["status_code"] >= 400 else "ok"),
         td(c.get("duration_seconds"), "num"), td(c.get("agent_id")))
        for c in some_calls
    ]
    return (
        table(["Time", "Command", "Exit", "Seconds", "Agent"], command_rows,
              "No commands in the period.")
        + more_note(commands_left, "command")
        + "<h3>API calls</h3>"
        + table(["Time", "Method", "Endpoint", "Status", "Seconds", "Agent"], api_rows,
                "No API calls in the period.")
        + more_note(calls_left, "API call")
    )


def _full(items: Sequence[Mapping[str, Any]], empty: str) -> str:
    """Each entry folded under its time, agent and description, its whole JSON inside."""
    if not items:
        return f'<p class="muted">{esc(empty)}</p>'
    items, left_out = capped(items)
    return "".join(
        f"<details><summary>{esc(when(i.get('timestamp')))} · {esc(i.get('agent_id'))} · "
        f"{esc(i.get('description'))}</summary><pre>"
        f"{esc(json.dumps(i, indent=2, ensure_ascii=False, default=str))}</pre></details>"
        for i in items
    ) + more_note(left_out, "entry")


def releases(report: Mapping[str, Any]) -> str:
    """Deployments and configuration changes in full."""
    return (
        "<h3>Deployments</h3>"
        + _full(report.get("deployments") or [], "No deployments.")
        + "<h3>Configuration changes</h3>"
        + _full(report.get("config_changes") or [], "No configuration changes.")
    )


