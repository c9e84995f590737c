"""The audit's figures computed by SQLite over the query index.

Counts, per-agent, per-session and per-file rows are ``GROUP BY`` queries; the commands and
API calls the report lists are built by SQLite as JSON objects (their fields copied from the
index's JSON as they are, times formatted as ``isoformat`` would) and parsed with one
``json.loads``; Python builds only the few rows it lists one by one (errors, deployments,
configuration changes, drift, undos), from entries the index keeps whole, reading from git
only an entry the index could not keep. The result equals ``audit.audit_data`` over the same
entries. A caller that only writes the report as JSON can take the commands and API calls,
and the entries shown in full, as the text SQLite returns (``RawJson``): SQLite copies the
index's compact JSON tokens as they are, so that text is what the report's JSON writer
would write for the parsed item.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

import pygit2

from ledger.dates import from_micros
from ledger.errors import EntryNotFoundError
from ledger.read.filters import Criteria
from ledger.reports.jsontext import RawJson
from ledger.types import FILE_CHANGE_TYPES, ChangeType, LogLevel

if TYPE_CHECKING:
    from ledger.read.query import LogQuery

_TABLE = "temp.audit_period"
_ERR = "level IN ('error', 'critical')"
_FILES = "type IN (" + ",".join(f"'{t.value}'" for t in sorted(FILE_CHANGE_TYPES)) + ")"
_IN_FULL = (ChangeType.DEPLOYMENT.value, ChangeType.CONFIG_CHANGE.value)
_ONE_BY_ONE = (
    f"{_ERR} OR drift OR type IN ('{_IN_FULL[0]}', '{_IN_FULL[1]}') "
    "OR instr(extra, '\"undo_kind\":') > 0"
)


def _stamp(ts: int) -> str:
    return from_micros(ts).isoformat()


def _stamp_sql(column: str) -> str:
    """SQL for ``from_micros(column).isoformat()``, exactly (before 1970 too)."""
    us = f"(({column}) % 1000000 + 1000000) % 1000000"
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', (({column}) - ({us})) / 1000000, 'unixepoch') || "
        f"CASE WHEN {us} THEN printf('.%06d', {us}) ELSE '' END || '+00:00'"
    )


_BRIEF = f"'id', id, 'timestamp', {_stamp_sql('ts')}, 'session_id', s, 'agent_id', agent"


# The rows of the commands and API-call sections, built by SQLite as JSON objects (the
# fields copied from the index's JSON as they are) and parsed by one json.loads.
_LISTS = {
    "commands": (ChangeType.SYSTEM_COMMAND.value,
                 "'command', json(COALESCE(extra -> '$.command', '\"\"')), "
                 "'exit_code', extra -> '$.exit_code', "
                 "'duration_seconds', extra -> '$.duration_seconds'"),
    "api_calls": (ChangeType.API_CALL.value,
                  "'method', extra -> '$.method', 'endpoint', extra -> '$.endpoint', "
                  "'status_code', extra -> '$.status_code', "
                  "'duration_seconds', extra -> '$.duration_seconds'"),
}

# The summary's failures, as Python counts them: an exit code that is neither 0 nor null
# (0.0, -0.0 and false equal 0); a status code that is an integer (true is not) of 400 or more.
_FAILED = (
    f"SUM(type = '{ChangeType.SYSTEM_COMMAND.value}' AND "
    "json_extract(extra, '$.exit_code') IS NOT NULL AND json_extract(extra, '$.exit_code') <> 0), "
    f"SUM(type = '{ChangeType.API_CALL.value}' AND "
    "json_type(extra, '$.status_code') = 'integer' AND json_extract(extra, '$.status_code') >= 400)"
)


def list_sql(section: str) -> str:
    """The SQL expression of one listed command (``commands``) or API call (``api_calls``),
    as JSON text, over a row of the period table."""
    return f"json_object({_BRIEF}, {_LISTS[section][1]})"


def indexed_audit(
    query: LogQuery, crit: Criteria, json_items: bool = False
) -> dict[str, Any] | None:
    """The report's data sections for ``crit``'s period, or None when the index cannot
    answer (then the caller reads the entries from git). ``json_items``: the commands and
    API calls, and the entries shown in full, as ``RawJson`` text, for a caller that
    writes the report only as JSON."""
    if query.index is None:
        return None
    where, args = crit.sql_where()
    with query.index.session(query.progress) as conn:
        if conn is None:
            return None
        conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
        # Rows in (time, index row) order, so a row's rowid here orders it as the report does.
        conn.execute(
            f"CREATE TABLE {_TABLE} AS SELECT rowid AS r, id, session_id AS s, ts, type, "
            "level, agent, COALESCE(NULLIF(file, ''), file_path) AS f, drift, extra, "
            "CASE WHEN repo_remote <> '' THEN repo_remote ELSE repo_root END AS repo "
            "FROM entries" + query.scope_sql(where) + " ORDER BY ts, rowid",
            args,
        )
        try:
            _drop_copies(conn)
            return _sections(query, conn, json_items)
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")


def _drop_copies(conn: sqlite3.Connection) -> None:
    """Each commit once (two copies of a session share commits): its first row. Copies
    have the same time, so only rows sharing a time are compared; rows are in time order,
    so those are neighbours."""
    shared = [ts for (ts,) in conn.execute(
        f"SELECT DISTINCT a.ts FROM {_TABLE} AS a JOIN {_TABLE} AS b "
        "ON b.rowid = a.rowid + 1 WHERE a.ts = b.ts"
    )]
    if not shared:  # the usual case: no two rows share a time, nothing to compare
        return
    times = "SELECT value FROM json_each(?)"
    conn.execute(
        f"DELETE FROM {_TABLE} WHERE ts IN ({times}) AND rowid NOT IN "
        f"(SELECT MIN(rowid) FROM {_TABLE} WHERE ts IN ({times}) GROUP BY id)",
        (json.dumps(shared), json.dumps(shared)),
    )


def _sections(query: LogQuery, conn: sqlite3.Connection, json_items: bool) -> dict[str, Any]:
    # One pass for every count: entries by type and level, and the failures among them.
    types: dict[str, list[int]] = {}  # type: [entries, first row]
    levels: dict[str, int] = {}
    failed_commands = failed_api_calls = 0
    for ctype, level, n, first, commands, api_calls in conn.execute(
        f"SELECT type, level, COUNT(*), MIN(rowid), {_FAILED} FROM {_TABLE} GROUP BY type, level"
    ):
        row = types.setdefault(ctype, [0, first])
        row[0] += n
        row[1] = min(row[1], first)
        levels[level] = levels.get(level, 0) + n
        failed_commands += commands or 0
        failed_api_calls += api_calls or 0
    by_type = {t: row[0] for t, row in sorted(types.items(), key=lambda i: (-i[1][0], i[1][1]))}
    return {
        "total": sum(levels.values()),
        "changes_by_type": by_type,
        "changes_by_level": {lv.value: levels[lv.value] for lv in LogLevel if levels.get(lv.value)},
        "agents": _agents(conn),
        "sessions": _sessions(conn),
        "files_changed": _files(conn),
        "failed_commands": failed_commands,
        "failed_api_calls": failed_api_calls,
        **_events(query, conn, json_items),
    }


def _agents(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT agent, COUNT(*) AS n, COUNT(DISTINCT s), SUM({_ERR}), "
        f"{_stamp_sql('MIN(ts)')}, {_stamp_sql('MAX(ts)')} "
        f"FROM {_TABLE} GROUP BY agent ORDER BY n DESC, agent"
    )
    return [
        {"agent_id": agent, "entries": n, "sessions": sessions, "errors": errors,
         "first_timestamp": first, "last_timestamp": last}
        for agent, n, sessions, errors, first, last in rows
    ]


def _sessions(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    # The session's agent is that of its first entry; sessions in the order they began.
    rows = conn.execute(
        f"SELECT g.s, t.agent, g.n, g.e, {_stamp_sql('t.ts')}, {_stamp_sql('g.last')} "
        f"FROM (SELECT s, MIN(rowid) AS first, COUNT(*) AS n, SUM({_ERR}) AS e, "
        f"MAX(ts) AS last FROM {_TABLE} GROUP BY s) AS g "
        f"JOIN {_TABLE} AS t ON t.rowid = g.first ORDER BY g.first"
    )
    return [
        {"session_id": s, "agent_id": agent, "entries": n, "errors": errors,
         "first_timestamp": first, "last_timestamp": last}
        for s, agent, n, errors, first, last in rows
    ]


def _files(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """One row per file of each repository (``repository`` when the entries name one)."""
    files: dict[tuple[str, str], dict[str, Any]] = {}
    for repo, name, ctype, n, first, last in conn.execute(
        f"SELECT repo, f, type, COUNT(*), MIN(ts), MAX(ts) FROM {_TABLE} "
        f"WHERE f IS NOT NULL AND {_FILES} GROUP BY repo, f, type ORDER BY repo, f, MIN(rowid)"
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


def _events(query: LogQuery, conn: sqlite3.Connection, json_items: bool) -> dict[str, list[Any]]:
    """The entries the report lists one by one, by section, oldest first."""
    out: dict[str, list[Any]] = {
        "errors": [], "commands": [], "api_calls": [], "deployments": [],
        "config_changes": [], "drift": [], "undos": [],
    }
    for section, (ctype, _fields) in _LISTS.items():
        rows = conn.execute(
            f"SELECT {list_sql(section)} FROM {_TABLE} WHERE type = ? ORDER BY rowid", (ctype,)
        )
        if json_items:
            out[section] = [RawJson(text) for (text,) in rows]
        else:
            out[section] = json.loads("[" + ",".join(row[0] for row in rows) + "]")
    # The entry kept whole apart from the rest of the row's fields, which are small.
    rows = conn.execute(
        f"SELECT id, {_stamp_sql('ts')}, s, agent, type, {_ERR}, f, drift, "
        f"json_remove(extra, '$.entry'), extra -> '$.entry' "
        f"FROM {_TABLE} WHERE {_ONE_BY_ONE} ORDER BY rowid"
    )
    for entry_id, stamp, session, agent, ctype, error, file, drift, extra, kept in rows:
        brief = {"id": entry_id, "timestamp": stamp, "session_id": session, "agent_id": agent}
        meta: dict[str, Any] = json.loads(extra) if extra else {}
        full: dict[str, Any] | RawJson = {}
        if error or ctype in _IN_FULL:
            full = _whole(query, entry_id, kept, json_items)
        if error:
            out["errors"].append(full)
        if ctype in _IN_FULL:
            key = "deployments" if ctype == _IN_FULL[0] else "config_changes"
            out[key].append(dict(full) if error and isinstance(full, dict) else full)
        if drift:
            out["drift"].append({**brief, "file_path": file})
        if meta.get("undo_kind"):
            out["undos"].append(
                {**brief, "undo_kind": meta.get("undo_kind"), "undo_of": meta.get("undo_of"),
                 "file_path": file,
                 "description": meta.get("command", meta.get("description", ""))}
            )
    return out


def _whole(
    query: LogQuery, entry_id: str, kept: str | None, json_items: bool
) -> dict[str, Any] | RawJson:
    """An entry the report shows in full: as the index kept it (its JSON text as it is, for
    ``json_items``), or read from git when the index could not keep it."""
    if kept is None or kept == "{}":
        return _in_full(query, entry_id)
    return RawJson(kept) if json_items else dict(json.loads(kept))


def _in_full(query: LogQuery, entry_id: str) -> dict[str, Any]:
    """An entry the report shows in full, read from git."""
    commit = query.store.repo.get(entry_id)
    entry = (
        query.store.entry_from_commit(commit) if isinstance(commit, pygit2.Commit) else None
    )
    if entry is None:
        raise EntryNotFoundError(f"the index lists {entry_id}, which git does not hold")
    return entry.to_dict()
