"""Import the JSON log files of the original agent change logging system into the ledger.

The files hold JSON arrays, single objects or JSON lines.

Each imported entry keeps its original time, session and agent; its original id goes into
``metadata["imported_id"]``, which is how importing the same file again adds nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pygit2

from ledger._names import validate_agent_id, validate_session_id
from ledger._store import LedgerStore
from ledger.dates import to_utc
from ledger.entry import normalize_metadata
from ledger.errors import ImportFormatError, InvalidInputError, LedgerError
from ledger.location import is_ledger, resolve_ledger_dir
from ledger.trust.redact import Redactor
from ledger.types import FILE_CHANGE_TYPES, ChangeType, change_type, log_level
from ledger.write.clock import check_not_ahead, max_clock_skew
from ledger.write.logger import ChangeLogger

IMPORTED_ID = "imported_id"
Progress = Callable[[int, int], None]


@dataclasses.dataclass
class ImportResult:
    """What an import did: entries written, entries already there, sessions touched."""

    imported: int = 0
    skipped: int = 0
    sessions: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class _Item:
    source: str
    original_id: str
    timestamp: dt.datetime
    session_id: str
    agent_id: str
    change_type: ChangeType
    description: str
    level: str
    file_path: str | None
    before: str | None
    after: str | None
    metadata: dict[str, Any]


def read_entries(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entry objects of one file (``-``: standard input): a JSON array, one JSON
    object, or JSON lines."""
    name = os.fspath(path)
    try:
        if name == "-":
            name = "standard input"
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            text = Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportFormatError(f"cannot read {name}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"{name} is not UTF-8 text") from exc
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except ValueError as exc:  # a decode error, or an integer too long to read
            raise ImportFormatError(f"{name}: invalid JSON: {exc}") from exc
        if not all(isinstance(item, dict) for item in data):
            raise ImportFormatError(f"{name}: the array must hold entry objects")
        return list(data)
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:  # a decode error, or an integer too long to read
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise ImportFormatError(f"{name}:{number}: invalid JSON line: {why}") from exc
        if not isinstance(item, dict):
            raise ImportFormatError(f"{name}:{number}: expected an entry object")
        out.append(item)
    return out


def _parse(raw: dict[str, Any], where: str) -> _Item:
    try:
        original = raw["id"]
        stamp = raw["timestamp"]
        if not isinstance(original, str) or not original or not isinstance(stamp, str):
            raise ImportFormatError(f"{where}: 'id' and 'timestamp' must be strings")
        try:
            timestamp = to_utc(dt.datetime.fromisoformat(stamp))
        except ValueError:
            raise ImportFormatError(f"{where}: invalid timestamp {stamp!r}") from None
        ctype = change_type(raw["change_type"])
        level = log_level(raw.get("level") or "info").value
        session = validate_session_id(raw["session_id"])
        agent = validate_agent_id(raw.get("agent_id") or "agent")
        description = raw.get("description") or ""
        if not isinstance(description, str):
            raise ImportFormatError(f"{where}: 'description' must be a string")
        meta = raw.get("metadata") or {}
        if not isinstance(meta, dict):
            raise ImportFormatError(f"{where}: 'metadata' must be an object")
        meta = normalize_metadata(dict(meta))
    except KeyError as exc:
        raise ImportFormatError(f"{where}: missing field {exc.args[0]!r}") from None
    except ImportFormatError:
        raise
    except LedgerError as exc:
        raise ImportFormatError(f"{where}: {exc}") from None
    meta[IMPORTED_ID] = original
    for key in ("file_hash_before", "file_hash_after"):
        if raw.get(key):
            meta[f"imported_{key}"] = raw[key]
    before = raw.get("before_state")
    after = raw.get("after_state")
    file_path = raw.get("file_path") or None
    if file_path is not None and not isinstance(file_path, str):
        raise ImportFormatError(f"{where}: 'file_path' must be a string")
    return _Item(
        source=where,
        original_id=original,
        timestamp=timestamp,
        session_id=session,
        agent_id=agent,
        change_type=ctype,
        description=description,
        level=level,
        file_path=file_path,
        before=before if isinstance(before, str) else None,
        after=after if isinstance(after, str) else None,
        metadata=meta,
    )


def import_files(
    paths: Iterable[str | os.PathLike[str]],
    ledger_dir: str | os.PathLike[str] | None = None,
    *,
    durable: bool = True,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the JSON log files of the original agent change logging system.

    Entries already imported are skipped. Every file is read and checked before anything
    is written. Entries of a session are written in time order, one batch (one pack, one
    ref update) per run of one agent.

    Raises:
        ImportFormatError: a file is not in that format (nothing is written).
        TimestampOrderError: new entries are older than what their session already holds.
        InvalidInputError: an entry is dated further ahead of the clock than
            ``ledger.maxClockSkew`` allows (nothing is written).
    """
    items = [
        _parse(raw, f"{os.fspath(path)} entry {number}")
        for path in paths
        for number, raw in enumerate(read_entries(path), 1)
    ]
    target = resolve_ledger_dir(ledger_dir)
    skew = max_clock_skew(pygit2.Repository(str(target)) if is_ledger(target) else None)
    for item in items:
        try:
            check_not_ahead(item.timestamp, skew)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{item.source}: {exc}; nothing was imported") from None
    result = ImportResult()
    by_session: dict[str, list[_Item]] = defaultdict(list)
    seen: set[str] = set()
    for item in items:
        key = f"{item.session_id}\0{item.original_id}"
        if key in seen:
            result.skipped += 1
            continue
        seen.add(key)
        by_session[item.session_id].append(item)
    plans = _plan(LedgerStore(target, create=True), by_session, result)
    result.imported = _write_plans(target, plans, durable, progress, result)
    return result


def _plan(
    store: LedgerStore, by_session: dict[str, list[_Item]], result: ImportResult
) -> list[tuple[str, list[_Item]]]:
    """Each session's entries not imported before, in time order (counting the skipped).

    Raises InvalidInputError when new entries are older than what their session holds, or
    dated further ahead of the clock than ``ledger.maxClockSkew`` allows.
    """
    existing = store.sessions() if store.exists else {}
    plans: list[tuple[str, list[_Item]]] = []
    for session, group in by_session.items():
        group.sort(key=lambda i: i.timestamp)
        done: set[str] = set()
        last: dt.datetime | None = None
        if session in existing:
            for entry in store.walk_session(session):
                last = entry.timestamp if last is None else max(last, entry.timestamp)
                value = entry.metadata.get(IMPORTED_ID)
                if isinstance(value, str):
                    done.add(value)
        new = [i for i in group if i.original_id not in done]
        result.skipped += len(group) - len(new)
        if new and last is not None and new[0].timestamp < last:
            raise InvalidInputError(
                f"{new[0].source}: session {session} already holds entries up to "
                f"{last.isoformat()}, later than this entry ({new[0].timestamp.isoformat()}); "
                "nothing was imported"
            )
        if new:
            plans.append((session, new))
    return plans


def _write_plans(
    target: Path,
    plans: list[tuple[str, list[_Item]]],
    durable: bool,
    progress: Progress | None,
    result: ImportResult,
) -> int:
    """Write the planned entries, one batch per run of one agent; return how many."""
    total = sum(len(g) for _, g in plans)
    written = 0
    workdir = target  # keeps recorded paths as they were: none lies inside the ledger
    for session, group in plans:
        start = 0
        while start < len(group):
            agent = group[start].agent_id
            stop = start
            while stop < len(group) and group[stop].agent_id == agent:
                stop += 1
            logger = ChangeLogger(
                target, agent_id=agent, session_id=session, workdir=workdir, durable=durable
            )
            with logger.batch():
                for item in group[start:stop]:
                    _write(logger, item)
                    written += 1
            if progress is not None:
                progress(written, total)
            start = stop
        result.sessions.append(session)
    return written


def _keyed_hashes(redactor: Redactor, item: _Item) -> None:
    """Replace the original plain hash of a sensitive state by the keyed fingerprint.

    A plain SHA-256 of a secret file is a guessing oracle (hash a candidate, compare). A
    state is sensitive when its path is (``.env``, keys, ...) or its content was redacted;
    it keeps ``imported_file_fingerprint_<side>``: the content's keyed fingerprint, or the
    original hash's when the content was not given.
    """
    if not redactor.enabled:
        return
    path = item.file_path or ""
    for side, content in (("before", item.before), ("after", item.after)):
        key = f"imported_file_hash_{side}"
        value = item.metadata.get(key)
        if value is None:
            continue
        data = content.encode("utf-8", "surrogateescape") if content is not None else None
        sensitive = bool(path) and redactor.is_sensitive_path(path)
        if not sensitive and data is not None:
            sensitive = bool(redactor.redact_file(path, data).spans)
        if sensitive:
            del item.metadata[key]
            item.metadata[f"imported_file_fingerprint_{side}"] = "hmac=" + (
                redactor.fingerprint(data if data is not None else str(value))
            )


def _write(logger: ChangeLogger, item: _Item) -> None:
    _keyed_hashes(logger.redactor, item)
    if (
        item.file_path is not None
        and item.change_type in FILE_CHANGE_TYPES
        and (item.before is not None or item.after is not None)
    ):
        logger.log_file_change(
            item.file_path,
            item.change_type,
            item.before,
            item.after,
            description=item.description,
            metadata=item.metadata,
            level=item.level,
            timestamp=item.timestamp,
        )
        return
    logger.log(
        item.change_type,
        item.description,
        item.metadata,
        item.level,
        item.file_path,
        timestamp=item.timestamp,
    )
