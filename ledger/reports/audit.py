"""The audit report: what happened in a period, as a plain dict (keys in docs/api.md).

``LogQuery.generate_audit_report`` delegates here; the integrity section runs ``git fsck``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger._fs import maintenance_paused
from ledger._layout import SESSION_REF_PREFIX
from ledger._outfile import write_output
from ledger._snapshot import RefSnapshot, snapshot_fsck, take_snapshot
from ledger.dates import as_datetime
from ledger.entry import Entry
from ledger.errors import InvalidInputError, StorageError
from ledger.read.archived import in_period
from ledger.read.filters import Criteria, DateLike, as_scope
from ledger.read.index import Progress
from ledger.read.index_rows import entry_file
from ledger.read.repos import RepoScope, entry_repo, repo_label
from ledger.read.walk import scan
from ledger.reports.audit_sql import indexed_audit
from ledger.reports.jsontext import audit_json
from ledger.types import FILE_CHANGE_TYPES, ChangeType, LogLevel

if TYPE_CHECKING:  # annotations only: LogQuery loads this module when a report is asked for
    from ledger.read.query import LogQuery

FSCK_OUTPUT_LINES = 50

"""An entry as the audit reads it: in full from git, or its indexed fields."""


def generate_audit_report(
    query: LogQuery,
    start_date: DateLike,
    end_date: DateLike = None,
    output_file: str | os.PathLike[str] | None = None,
    format: str = "json",
    *,
    fsck: bool = True,
    verify: bool = False,
    progress: Progress | None = None,
    repo: str | os.PathLike[str] | RepoScope | None = None,
    json_items: bool = False,
) -> dict[str, Any]:
    """The audit of one period of ``query``'s ledger; see ``LogQuery.generate_audit_report``.

    ``json_items``: for a caller that writes the report only through ``audit_json`` (the
    CLI's JSON output): the commands, API calls and entries shown in full (errors,
    deployments, configuration changes) may then be ``RawJson`` text, which that writer
    copies as it is, rather than dicts.
    """
    if format not in ("json", "markdown"):
        raise InvalidInputError(f"unknown report format {format!r} (json or markdown)")
    start, end = report_period(start_date, end_date)
    scope = as_scope(repo)
    crit = Criteria(start=start, end=end, repo=scope)
    sections = indexed_audit(query, crit, json_items)
    if sections is not None:
        report = _assemble(sections, start, end)
    else:
        report = audit_data(scan(query.store, crit, progress, query.archives()), start, end)
    report["generated_at"] = dt.datetime.now(dt.UTC).isoformat()
    report["ledger"] = str(query.ledger_dir)
    report["live_only"] = query.live_only
    if scope is not None:
        report["repository"] = scope.label
    report["not_covered"] = [
        u.as_dict() for u in in_period(query.archives().uncovered, start, end)
    ]
    report["integrity"] = _integrity(query, report["sessions"], fsck)
    if verify:
        from ledger.trust.verify import verify_ledger

        result = verify_ledger(query.ledger_dir, accept=False)  # reads; remembers nothing
        report["integrity"]["verify"] = result.to_dict()
    if output_file is not None:
        if format == "markdown":
            from ledger.reports.markdown import audit_markdown

            text = audit_markdown(report)
        else:
            text = audit_json(report)
        write_output(output_file, text)
    return report


def report_period(start_date: DateLike, end_date: DateLike) -> tuple[dt.datetime, dt.datetime]:
    """The report's bounds as aware UTC: a start is required, the end defaults to now."""
    start = as_datetime(start_date)
    if start is None:
        raise InvalidInputError("the report needs a start date")
    end = as_datetime(end_date, end=True) or dt.datetime.now(dt.UTC)
    if start > end:
        raise InvalidInputError("start date is after end date")
    return start, end


def _integrity(query: LogQuery, sessions: list[dict[str, Any]], fsck: bool) -> dict[str, Any]:
    """The integrity section: fsck's verdict and the tip commit of each session reported."""
    snap = take_snapshot(query.ledger_dir, query.store.repo)  # the refs, read once
    tips = snap.sessions()
    archived = query.archives().sessions
    live = len(tips)
    tips.update((s.session, s.tip) for s in archived.values() if s.session not in tips)
    return {
        "fsck": fsck_summary(query.ledger_dir, snap) if fsck else None,
        "sessions_in_ledger": live,
        "archived_sessions": len(archived),
        "session_tips": [
            {
                "session_id": s["session_id"],
                "branch": SESSION_REF_PREFIX + s["session_id"],
                "tip": tips[s["session_id"]].hex() if s["session_id"] in tips else None,
            }
            for s in sessions
        ],
    }


def fsck_summary(ledger_dir: Path, snap: RefSnapshot | None = None) -> dict[str, Any]:
    """``git fsck`` of the ledger as the report shows it: ok, exit code, command, output.

    The same check as verify's: what the refs read once reach (``snap``, taken now when not
    given), so writers running beside the report raise no alarm.
    """
    # A repack deleting old packs while fsck lists them makes fsck report damage that
    # is not there: hold maintenance off (a read-only ledger cannot be locked: run anyway).
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(StorageError):
            stack.enter_context(maintenance_paused(ledger_dir))
        result = snapshot_fsck(ledger_dir, snap, strict=False, full=False)
    return {
        "ok": None if result.exit_code is None else result.ok,
        "exit_code": result.exit_code,
        "command": result.command,
        "output": "\n".join(result.findings[:FSCK_OUTPUT_LINES]),
    }


# -- the report's data -----------------------------------------------------------------------
def _brief(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "timestamp": _stamp(entry),
        "session_id": entry.session_id,
        "agent_id": entry.agent_id,
    }


_ERROR_RANK = LogLevel.ERROR.rank


def _stamp(entry: Entry) -> str:
    return entry.timestamp.isoformat()


def _is_error(entry: Entry) -> bool:
    return entry.level.rank >= _ERROR_RANK


def _agent_rows(rows: Sequence[Entry]) -> list[dict[str, Any]]:
    agents: dict[str, dict[str, Any]] = {}
    for e in rows:
        stamp = _stamp(e)
        a = agents.setdefault(
            e.agent_id,
            {
                "agent_id": e.agent_id,
                "entries": 0,
                "sessions": set(),
                "errors": 0,
                "first_timestamp": stamp,
            },
        )
        a["entries"] += 1
        a["sessions"].add(e.session_id)
        a["errors"] += _is_error(e)
        a["last_timestamp"] = stamp
    for a in agents.values():
        a["sessions"] = len(a["sessions"])
    return sorted(agents.values(), key=lambda a: (-a["entries"], a["agent_id"]))


def _session_rows(rows: Sequence[Entry]) -> list[dict[str, Any]]:
    sessions: dict[str, dict[str, Any]] = {}
    for e in rows:
        stamp = _stamp(e)
        s = sessions.setdefault(
            e.session_id,
            {
                "session_id": e.session_id,
                "agent_id": e.agent_id,
                "entries": 0,
                "errors": 0,
                "first_timestamp": stamp,
            },
        )
        s["entries"] += 1
        s["errors"] += _is_error(e)
        s["last_timestamp"] = stamp
    return sorted(sessions.values(), key=lambda s: s["first_timestamp"])


def _repository(entry: Entry) -> str | None:
    return repo_label(*entry_repo(entry.metadata))


def _file_rows(rows: Sequence[Entry]) -> list[dict[str, Any]]:
    """One row per file of each repository (``repository`` when the entries name one)."""
    files: dict[tuple[str, str], dict[str, Any]] = {}
    for e in rows:
        if e.file_path is None or e.change_type not in FILE_CHANGE_TYPES:
            continue
        stamp = _stamp(e)
        name = entry_file(e) or e.file_path
        repo = _repository(e)
        f = files.get((repo or "", name))
        if f is None:
            f = files[(repo or "", name)] = {"file_path": name}
            if repo is not None:
                f["repository"] = repo
            f.update(changes=0, by_type=Counter(), sessions=set(), first_change=stamp)
        f["changes"] += 1
        f["by_type"][e.change_type.value] += 1
        f["sessions"].add(e.session_id)
        f["last_change"] = stamp
    file_rows = []
    for f in files.values():
        f["sessions"] = len(f["sessions"])
        f["by_type"] = dict(f["by_type"])
        file_rows.append(f)
    file_rows.sort(key=lambda f: (f.get("repository") or "", -f["changes"], f["file_path"]))
    return file_rows


def repository_rows(files: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per repository: how many files changed and how many changes (None: not named)."""
    out: dict[str | None, dict[str, Any]] = {}
    for f in files:
        repo = f.get("repository")
        row = out.setdefault(repo, {"repository": repo, "files": 0, "changes": 0})
        row["files"] += 1
        row["changes"] += f["changes"]
    return list(out.values())


def _events(rows: Sequence[Entry]) -> dict[str, list[dict[str, Any]]]:
    """The entries the report lists one by one, by section, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {
        "errors": [], "commands": [], "api_calls": [], "deployments": [],
        "config_changes": [], "drift": [], "undos": [],
    }
    for e in rows:
        if _is_error(e):
            out["errors"].append(e.to_dict())
        meta = e.metadata
        if e.change_type is ChangeType.SYSTEM_COMMAND:
            out["commands"].append(
                {
                    **_brief(e),
                    "command": meta.get("command", e.description),
                    "exit_code": meta.get("exit_code"),
                    "duration_seconds": meta.get("duration_seconds"),
                }
            )
        elif e.change_type is ChangeType.API_CALL:
            out["api_calls"].append(
                {
                    **_brief(e),
                    "method": meta.get("method"),
                    "endpoint": meta.get("endpoint"),
                    "status_code": meta.get("status_code"),
                    "duration_seconds": meta.get("duration_seconds"),
                }
            )
        elif e.change_type is ChangeType.DEPLOYMENT:
            out["deployments"].append(e.to_dict())
        elif e.change_type is ChangeType.CONFIG_CHANGE:
            out["config_changes"].append(e.to_dict())
        if e.drift:
            out["drift"].append({**_brief(e), "file_path": e.file_path})
        if meta.get("undo_kind"):
            out["undos"].append(
                {**_brief(e), "undo_kind": meta.get("undo_kind"), "undo_of": meta.get("undo_of"),
                 "file_path": e.file_path, "description": e.description}
            )
    return out


def _failures(events: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Commands that exited other than 0, API calls answered 400 or more."""
    commands, api_calls = events["commands"], events["api_calls"]
    return {
        "failed_commands": sum(1 for c in commands if c["exit_code"] not in (0, None)),
        "failed_api_calls": sum(
            1 for c in api_calls if isinstance(c["status_code"], int) and c["status_code"] >= 400
        ),
    }


def _summary(
    total: int, sessions: int, agents: int, files: int,
    by_level: Mapping[str, int], events: dict[str, Any],
) -> dict[str, int]:
    commands, api_calls = events["commands"], events["api_calls"]
    return {
        "total_entries": total,
        "sessions": sessions,
        "agents": agents,
        "errors": by_level.get("error", 0),
        "critical": by_level.get("critical", 0),
        "warnings": by_level.get("warning", 0),
        "files_changed": files,
        "commands": len(commands),
        "failed_commands": events["failed_commands"],
        "api_calls": len(api_calls),
        "failed_api_calls": events["failed_api_calls"],
        "deployments": len(events["deployments"]),
        "config_changes": len(events["config_changes"]),
        "drift_detected": len(events["drift"]),
    }


def audit_data(
    entries: Iterable[Entry], start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """The report's figures and lists for the entries of the period ``start``..``end``."""
    rows = sorted(entries, key=lambda e: e.timestamp)
    by_level = Counter(e.level.value for e in rows)
    events = _events(rows)
    return _assemble({
        "total": len(rows),
        "changes_by_type": dict(Counter(e.change_type.value for e in rows).most_common()),
        "changes_by_level": {lv.value: by_level[lv.value] for lv in LogLevel if by_level[lv.value]},
        "agents": _agent_rows(rows),
        "sessions": _session_rows(rows),
        "files_changed": _file_rows(rows),
        **_failures(events),
        **events,
    }, start, end)


def _assemble(sections: dict[str, Any], start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The report from its sections (computed in Python or by SQL over the index)."""
    events = sections
    agents, sessions, files = sections["agents"], sections["sessions"], sections["files_changed"]
    return {
        "report_type": "audit",
        "report_version": 1,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "summary": _summary(sections["total"], len(sessions), len(agents), len(files),
                            sections["changes_by_level"], events),
        "changes_by_type": sections["changes_by_type"],
        "changes_by_level": sections["changes_by_level"],
        "agents": agents,
        "sessions": sessions,
        "errors": events["errors"],
        "files_changed": files,
        "repositories": repository_rows(files),
        "commands": events["commands"],
        "api_calls": events["api_calls"],
        "deployments": events["deployments"],
        "config_changes": events["config_changes"],
        "drift": events["drift"],
        "undos": events["undos"],
    }
