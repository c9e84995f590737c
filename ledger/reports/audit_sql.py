"""The audit's figures computed by SQLite over the query index.

Counts, per-agent, per-session and per-file rows are ``GROUP BY`` queries; Python only
builds the rows the report lists one by one (commands, API calls, drift, undos) from the
index, and reads in full from git only the entries the report shows in full (errors,
deployments, configuration changes). The result equals ``audit.audit_data`` over the same
entries.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

import pygit2

from ledger.dates import from_micros
from ledger.errors import EntryNotFoundError
from ledger.read.filters import Criteria
from ledger.types import FILE_CHANGE_TYPES, ChangeType, LogLevel

if TYPE_CHECKING:
    from ledger.read.query import LogQuery

_TABLE = "temp.audit_period"
_ERR = "level IN ('error', 'critical')"
_FILES = "type IN (" + ",".join(f"'{t.value}'" for t in sorted(FILE_CHANGE_TYPES)) + ")"
_IN_FULL = (ChangeType.DEPLOYMENT.value, ChangeType.CONFIG_CHANGE.value)
_LISTED = (
    f"{_ERR} OR drift OR extra IS NOT NULL OR type IN "
    f"('{_IN_FULL[0]}', '{_IN_FULL[1]}', '{ChangeType.SYSTEM_COMMAND.value}', "
    f"'{ChangeType.API_CALL.value}')"
)


def _stamp(ts: int) -> str:
    return from_micros(ts).isoformat()


def indexed_audit(query: LogQuery, crit: Criteria) -> dict[str, Any] | None:
    """The report's data sections for ``crit``'s period, or None when the index cannot
    answer (then the caller reads the entries from git)."""
    if query.index is None:
        return None
    where, args = crit.sql_where()
    with query.index.session(query.progress) as conn:
        if conn is None:
            return None
        # Each commit once (two copies of a session share commits): its first row.
        conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
        conn.execute(
            f"CREATE TABLE {_TABLE} AS SELECT MIN(rowid) AS r, id, session_id AS s, ts, type, "
            "level, agent, COALESCE(NULLIF(file, ''), file_path) AS f, drift, extra, "
            "CASE WHEN repo_remote <> '' THEN repo_remote ELSE repo_root END AS repo "
            "FROM entries"
            + query.scope_sql(where) + " GROUP BY id",
            args,
        )
        try:
            return _sections(query, conn)
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")


def _sections(query: LogQuery, conn: sqlite3.Connection) -> dict[str, Any]:
    total = conn.execute(f"SELECT COUNT(*) FROM {_TABLE}").fetchone()[0]
    by_type = dict(conn.execute(
        f"SELECT type, COUNT(*) AS n FROM {_TABLE} GROUP BY type ORDER BY n DESC, MIN(ts)"
    ).fetchall())
    levels = dict(conn.execute(f"SELECT level, COUNT(*) FROM {_TABLE} GROUP BY level"))
    by_level = {lv.value: levels[lv.value] for lv in LogLevel if levels.get(lv.value)}
    return {
        "total": total,
        "changes_by_type": by_type,
        "changes_by_level": by_level,
        "agents": _agents(conn),
        "sessions": _sessions(conn),
        "files_changed": _files(conn),
        **_events(query, conn),
    }


def _agents(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT agent, COUNT(*) AS n, COUNT(DISTINCT s), SUM({_ERR}), MIN(ts), MAX(ts) "
        f"FROM {_TABLE} GROUP BY agent ORDER BY n DESC, agent"
    )
    return [
        {"agent_id": agent, "entries": n, "sessions": sessions, "errors": errors,
         "first_timestamp": _stamp(first), "last_timestamp": _stamp(last)}
        for agent, n, sessions, errors, first, last in rows
    ]


def _sessions(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    # The session's agent is that of its first entry.
    firsts = {
        s: (agent, ts, r) for s, agent, ts, r in conn.execute(
            "SELECT s, agent, ts, r FROM (SELECT s, agent, ts, r, ROW_NUMBER() OVER "
            f"(PARTITION BY s ORDER BY ts, r) AS k FROM {_TABLE}) WHERE k = 1"
        )
    }
    rows = conn.execute(
        f"SELECT s, COUNT(*), SUM({_ERR}), MAX(ts) FROM {_TABLE} GROUP BY s"
    ).fetchall()
    rows.sort(key=lambda row: firsts[row[0]][1:])
    return [
        {"session_id": s, "agent_id": firsts[s][0], "entries": n, "errors": errors,
         "first_timestamp": _stamp(firsts[s][1]), "last_timestamp": _stamp(last)}
        for s, n, errors, last in rows
    ]


def _files(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """One row per file of each repository (``repository`` when the entries name one)."""
    files: dict[tuple[str, str], dict[str, Any]] = {}
    for repo, name, ctype, n, first, last in conn.execute(
        f"SELECT repo, f, type, COUNT(*), MIN(ts), MAX(ts) FROM {_TABLE} "
        f"WHERE f IS NOT NULL AND {_FILES} GROUP BY repo, f, type ORDER BY repo, f, MIN(ts)"
    ):
        row = files.get((repo or "", name))
        if row is None:
            row = files[(repo or "", name)] = {"file_path": name}
            if repo is not None:
                row["repository"] = repo
            row.update(changes=0, by_type={}, sessions=0, first_change=first, last_change=last)
        row["changes"] += n
        row["by_type"][ctype] = row["by_type"].get(ctype, 0) + n
        row["first_change"] = min(row["first_change"], first)
        row["last_change"] = max(row["last_change"], last)
    for repo, name, sessions in conn.execute(
        f"SELECT COALESCE(repo, ''), f, COUNT(DISTINCT s) FROM {_TABLE} "
        f"WHERE f IS NOT NULL AND {_FILES} GROUP BY COALESCE(repo, ''), f"
    ):
        files[(repo, name)]["sessions"] = sessions
    out = sorted(
        files.values(), key=lambda f: (f.get("repository") or "", -f["changes"], f["file_path"])
    )
    for row in out:
        row["first_change"] = _stamp(row["first_change"])
        row["last_change"] = _stamp(row["last_change"])
    return out


def _events(query: LogQuery, conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    """The entries the report lists one by one, by section, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {
        "errors": [], "commands": [], "api_calls": [], "deployments": [],
        "config_changes": [], "drift": [], "undos": [],
    }
    command, api = ChangeType.SYSTEM_COMMAND.value, ChangeType.API_CALL.value
    rows = conn.execute(
        f"SELECT id, ts, s, agent, type, level IN ('error', 'critical'), f, drift, extra "
        f"FROM {_TABLE} WHERE {_LISTED} ORDER BY ts, r"
    )
    for entry_id, ts, session, agent, ctype, error, file, drift, extra in rows:
        brief = {"id": entry_id, "timestamp": _stamp(ts), "session_id": session,
                 "agent_id": agent}
        meta: dict[str, Any] = json.loads(extra) if extra else {}
        full: dict[str, Any] = {}
        if error or ctype in _IN_FULL:
            full = meta.get("entry") or _in_full(query, entry_id)
        if error:
            out["errors"].append(full)
        if ctype == command:
            out["commands"].append({**brief, "command": meta.get("command", ""),
                                    "exit_code": meta.get("exit_code"),
                                    "duration_seconds": meta.get("duration_seconds")})
        elif ctype == api:
            out["api_calls"].append({**brief, "method": meta.get("method"),
                                     "endpoint": meta.get("endpoint"),
                                     "status_code": meta.get("status_code"),
                                     "duration_seconds": meta.get("duration_seconds")})
        elif ctype in _IN_FULL:
            key = "deployments" if ctype == _IN_FULL[0] else "config_changes"
            out[key].append(dict(full) if error else full)
        if drift:
            out["drift"].append({**brief, "file_path": file})
        if meta.get("undo_kind"):
            out["undos"].append(
                {**brief, "undo_kind": meta.get("undo_kind"), "undo_of": meta.get("undo_of"),
                 "file_path": file,
                 "description": meta.get("command", meta.get("description", ""))}
            )
    return out


def _in_full(query: LogQuery, entry_id: str) -> dict[str, Any]:
    """An entry the report shows in full, read from git."""
    commit = query.store.repo.get(entry_id)
    entry = (
        query.store.entry_from_commit(commit) if isinstance(commit, pygit2.Commit) else None
    )
    if entry is None:
        raise EntryNotFoundError(f"the index lists {entry_id}, which git does not hold")
    return entry.to_dict()
