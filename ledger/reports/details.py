"""What the HTML audit report reads back from the ledger: activity per time bucket and diffs.

The report dict holds counts; the page's activity chart and file diffs come from here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ledger.lifecycle.storage import LogStorage
from ledger.read.diff import unified_lines
from ledger.read.repos import entry_repo, repo_label
from ledger.types import FILE_CHANGE_TYPES

MAX_DIFFS = 300
MAX_DIFF_LINES = 400


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


FileKey = tuple[str | None, str]  # (repository or None, file path)


@dataclasses.dataclass
class Details:
    """What the report dict does not hold, read from the ledger: activity and diffs."""

    activity: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)
    bucket: str = "day"
    # (repository, path) -> its changes; the repository as the report's files rows name it
    file_changes: dict[FileKey, list[FileChange]] = dataclasses.field(default_factory=dict)
    diffs_omitted: int = 0


def parse_time(text: str | None) -> dt.datetime | None:
    """An ISO time from the report as aware UTC (naive = UTC); None when absent or invalid."""
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
    step = {
        "hour": dt.timedelta(hours=1),
        "day": dt.timedelta(days=1),
        "week": dt.timedelta(weeks=1),
    }[bucket]
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
        old = (before or b"").decode("utf-8")
        new = (after or b"").decode("utf-8")
    except UnicodeDecodeError:
        return (f"binary content: {len(before or b'')} -> {len(after or b'')} bytes"), False
    lines = unified_lines(
        old,
        new,
        f"a/{path}" if before is not None else "/dev/null",
        f"b/{path}" if after is not None else "/dev/null",
        3,
    )
    truncated = len(lines) > MAX_DIFF_LINES
    text = "".join(x if x.endswith("\n") else x + "\n" for x in lines[:MAX_DIFF_LINES])
    return text or "(no textual change)\n", truncated


def gather_details(
    report: Mapping[str, Any], ledger_dir: str | os.PathLike[str] | None = None
) -> Details:
    """Read the report's period back from the ledger: activity buckets and file diffs.

    Args:
        report: the dict from ``LogQuery.generate_audit_report`` (``period``, ``ledger``).
        ledger_dir: the ledger (default: the one the report names).
    """
    period = report.get("period") or {}
    start, end = parse_time(period.get("start")), parse_time(period.get("end"))
    where = ledger_dir if ledger_dir is not None else report.get("ledger")
    details = Details(bucket=_bucket_for(start, end))
    if where is None or start is None or end is None:
        return details
    totals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    changes: list[FileChange] = []
    paths: list[FileKey] = []
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
            changes.append(
                FileChange(
                    entry.id,
                    entry.timestamp.isoformat(),
                    entry.change_type.value,
                    entry.session_id,
                    entry.agent_id,
                    entry.description,
                    text,
                    cut,
                )
            )
            paths.append((repo_label(*entry_repo(entry.metadata)), entry.file_path))
    for path, change in zip(reversed(paths), reversed(changes), strict=True):
        details.file_changes.setdefault(path, []).append(change)  # oldest first
    details.activity = [(k, totals[k], errors[k]) for k in _buckets(start, end, details.bucket)]
    return details


def fallback_activity(report: Mapping[str, Any]) -> Details:
    """Activity from the timestamps the report itself holds (no ledger to read)."""
    period = report.get("period") or {}
    start, end = parse_time(period.get("start")), parse_time(period.get("end"))
    details = Details(bucket=_bucket_for(start, end))
    if start is None or end is None:
        return details
    totals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for key in ("commands", "api_calls", "deployments", "config_changes", "errors"):
        for item in report.get(key) or []:
            stamp = parse_time(item.get("timestamp"))
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
