"""The audit report as Markdown: one table per section of the report dict.

Used by ``generate_audit_report(format="markdown")`` and ``git ledger audit --format markdown``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return ("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*out, ""]


def _files(files: Sequence[dict[str, Any]]) -> list[str]:
    """The files table; one per repository (a ``###`` heading each) when entries name one."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for f in files:
        groups.setdefault(f.get("repository"), []).append(f)
    out: list[str] = []
    for repo, rows in groups.items() or [(None, [])]:
        if len(groups) > 1 or repo is not None:
            out += [f"### {repo or 'Repository not recorded'}", ""]
        out += _md_table(
            ["File", "Changes", "Sessions", "Last change"],
            [(f["file_path"], f["changes"], f["sessions"], f["last_change"]) for f in rows],
        )
    return out


SUMMARY_LABELS = {
    "total_entries": "Entries",
    "sessions": "Sessions",
    "agents": "Agents",
    "errors": "Errors",
    "critical": "Critical",
    "warnings": "Warnings",
    "files_changed": "Files changed",
    "commands": "Commands",
    "failed_commands": "Failed commands",
    "api_calls": "API calls",
    "failed_api_calls": "Failed API calls",
    "deployments": "Deployments",
    "config_changes": "Configuration changes",
    "drift_detected": "Changed outside the session (drift)",
}


def _label(key: str) -> str:
    """A summary key as people read it (``total_entries`` is "Entries")."""
    return SUMMARY_LABELS.get(key) or key.replace("_", " ").capitalize()


def _head_and_counts(report: dict[str, Any]) -> list[str]:
    period = report["period"]
    return [
        "# Audit report",
        "",
        f"Period: {period['start']} to {period['end']}  ",
        f"Generated: {report.get('generated_at', '')}  ",
        f"Ledger: {report.get('ledger', '')}",
        "",
        "## Summary",
        "",
        *_md_table(["Measure", "Count"],
                   [(_label(k), v) for k, v in report["summary"].items()]),
        "## Changes by type",
        "",
        *_md_table(["Type", "Count"], report["changes_by_type"].items()),
        "## Changes by level",
        "",
        *_md_table(["Level", "Count"], report["changes_by_level"].items()),
    ]


def _who(report: dict[str, Any]) -> list[str]:
    return [
        "## Agents",
        "",
        *_md_table(
            ["Agent", "Entries", "Sessions", "Errors"],
            [(a["agent_id"], a["entries"], a["sessions"], a["errors"]) for a in report["agents"]],
        ),
        "## Sessions",
        "",
        *_md_table(
            ["Session", "Agent", "First", "Last", "Entries", "Errors"],
            [
                (
                    s["session_id"],
                    s["agent_id"],
                    s["first_timestamp"],
                    s["last_timestamp"],
                    s["entries"],
                    s["errors"],
                )
                for s in report["sessions"]
            ],
        ),
    ]


def _what(report: dict[str, Any]) -> list[str]:
    return [
        "## Errors and critical entries",
        "",
        *_md_table(
            ["Time", "Id", "Session", "Level", "Type", "Description"],
            [
                (
                    e["timestamp"],
                    e["id"][:12],
                    e["session_id"],
                    e["level"],
                    e["change_type"],
                    e["description"],
                )
                for e in report["errors"]
            ],
        ),
        "## Files changed",
        "",
        *_files(report["files_changed"]),
        "## Commands",
        "",
        *_md_table(
            ["Time", "Id", "Session", "Exit code", "Command"],
            [
                (c["timestamp"], c["id"][:12], c["session_id"], c["exit_code"], c["command"])
                for c in report["commands"]
            ],
        ),
        "## API calls",
        "",
        *_md_table(
            ["Time", "Id", "Session", "Method", "Endpoint", "Status"],
            [
                (
                    c["timestamp"],
                    c["id"][:12],
                    c["session_id"],
                    c["method"],
                    c["endpoint"],
                    c["status_code"],
                )
                for c in report["api_calls"]
            ],
        ),
    ]


def _releases(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for title, key in (("Deployments", "deployments"), ("Configuration changes", "config_changes")):
        lines += [f"## {title}", ""]
        for e in report[key]:
            lines.append(
                f"- {e['timestamp']} `{e['id'][:12]}` {e['session_id']} ({e['level']}): "
                f"{e['description']}"
            )
            if e.get("metadata"):
                lines.append(f"  - metadata: `{json.dumps(e['metadata'], ensure_ascii=False)}`")
        lines.append("")
    if report.get("drift"):
        lines += ["## Files changed outside the sessions (drift)", ""]
        lines += _md_table(
            ["Time", "Id", "Session", "File"],
            [
                (d["timestamp"], d["id"][:12], d["session_id"], d["file_path"])
                for d in report["drift"]
            ],
        )
    return lines


def _integrity(report: dict[str, Any]) -> list[str]:
    integrity = report.get("integrity") or {}
    lines = ["## Integrity", ""]
    fsck = integrity.get("fsck")
    if fsck is None:
        lines.append("git fsck: not run")
    else:
        verdict = "clean" if fsck["ok"] else f"FAILED (exit {fsck['exit_code']})"
        lines.append(f"`{fsck['command']}`: {verdict}")
        if fsck.get("output"):
            lines += ["", "```", fsck["output"], "```"]
    lines += [
        "",
        f"Sessions in the ledger: {integrity.get('sessions_in_ledger', '')}"
        f" live, {integrity.get('archived_sessions', 0)} archived",
        "",
    ]
    lines += _md_table(
        ["Session", "Tip commit"],
        [(t["session_id"], t["tip"]) for t in integrity.get("session_tips", [])],
    )
    return lines


def _coverage(report: dict[str, Any]) -> list[str]:
    """What the report could not cover: archives that are missing or unreadable."""
    lines = ["## Not covered", ""]
    if report.get("live_only"):
        lines += ["Live sessions only: archived sessions were left out on request.", ""]
    missing = report.get("not_covered") or []
    if not missing:
        return [*lines, "Every archived session of the period was read.", ""]
    return [
        *lines,
        *_md_table(
            ["Archive", "Why", "Sessions", "Entries", "From", "To"],
            [(m["bundle"], m["reason"], len(m["sessions"]), m["entries"], m["first_entry"],
              m["last_entry"]) for m in missing],
        ),
        "",
    ]


def audit_markdown(report: dict[str, Any]) -> str:
    """Render an audit report dict (from generate_audit_report) as Markdown."""
    lines = [
        *_head_and_counts(report),
        *_who(report),
        *_what(report),
        *_releases(report),
        *_coverage(report),
        *_integrity(report),
    ]
    return "\n".join(lines)
