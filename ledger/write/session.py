"""A writing session's identity and clock: default ids, entry times, the summary of its entries.

Entry times only move forward within a session; these helpers say what time an entry gets.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ledger.entry import Entry
from ledger.errors import InvalidInputError, TimestampOrderError
from ledger.types import LogLevel
from ledger.write.clock import check_not_ahead

ENV_SESSION = "GIT_LEDGER_SESSION"
ENV_AGENT = "GIT_LEDGER_AGENT"
DEFAULT_AGENT = "agent"


def new_session_id() -> str:
    """A fresh, time-sortable session id, e.g. ``20251105T173045Z-1a2b3c4d``."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def check_timestamp(timestamp: dt.datetime | None) -> None:
    """Refuse a caller's timestamp that is naive, out of range in UTC, or before 1971."""
    if timestamp is None:
        return
    if not isinstance(timestamp, dt.datetime) or timestamp.tzinfo is None:
        raise InvalidInputError("timestamp must be a timezone-aware datetime")
    try:
        utc = timestamp.astimezone(dt.UTC)
    except OverflowError:  # e.g. 9999-12-31 23:00 at UTC-12
        raise InvalidInputError("timestamp is out of range in UTC") from None
    if utc.year < 1971:
        raise InvalidInputError("timestamp must be after 1970")


def entry_time(
    timestamp: dt.datetime | None, last: dt.datetime | None, max_skew: float | None = None
) -> dt.datetime:
    """The UTC time of a new entry after one stamped ``last``.

    Without a timestamp it is now, or ``last`` when the clock stepped back; a given
    timestamp earlier than ``last`` is refused with TimestampOrderError, and one more than
    ``max_skew`` seconds ahead of the clock with InvalidInputError (so that no entry dated
    in the future can move the session's clock further than that).
    """
    if timestamp is None:
        stamp = dt.datetime.now(dt.UTC)
        if last is not None and stamp < last:
            stamp = last  # the clock stepped back: keep the session in order
        return stamp
    stamp = timestamp.astimezone(dt.UTC)
    if max_skew is not None:
        check_not_ahead(stamp, max_skew)
    if last is not None and stamp < last:
        raise TimestampOrderError(
            f"timestamp {stamp.isoformat()} is earlier than the session's last "
            f"entry ({last.isoformat()})"
        )
    return stamp


def session_summary(entries: Sequence[Entry]) -> dict[str, Any]:
    """Counts and times of a session's entries (given oldest first)."""
    by_type = Counter(e.change_type.value for e in entries)
    by_level = Counter(e.level.value for e in entries)
    errors = [e for e in entries if e.level in (LogLevel.ERROR, LogLevel.CRITICAL)]
    files = sorted({e.file_path for e in entries if e.file_path})
    first = entries[0].timestamp if entries else None
    last = entries[-1].timestamp if entries else None
    return {
        "total_changes": len(entries),
        "changes_by_type": dict(by_type),
        "changes_by_level": dict(by_level),
        "files_touched": files,
        "errors": len(errors),
        "error_entries": [e.id for e in errors],
        "first_timestamp": first.isoformat() if first else None,
        "last_timestamp": last.isoformat() if last else None,
        "duration_seconds": (last - first).total_seconds() if first and last else 0.0,
        "drift_detected": sum(1 for e in entries if e.drift),
    }
