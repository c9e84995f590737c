"""Dates for queries: absolute (``2025-11-05``, ISO times) and relative (``2h``, ``7d``,
and git's ``2 weeks ago``, ``2.weeks.ago``, ``yesterday``).

Naive values are local time; everything returned is timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
import re

from ledger.errors import InvalidDateError

_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_AGO = re.compile(
    r"(\d+|an?|one)[\s.]+(second|minute|hour|day|week|month|year)s?[\s.]+ago"
)
_AGO_UNITS = {
    "second": dt.timedelta(seconds=1),
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(weeks=1),
    "month": dt.timedelta(days=30),  # as git counts a month back
    "year": dt.timedelta(days=365),
}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one is read as local time."""
    if value.tzinfo is None:
        value = value.astimezone()  # attaches the local zone, honouring DST at that date
    return value.astimezone(dt.UTC)


def as_datetime(
    value: dt.datetime | dt.date | str | None, *, end: bool = False
) -> dt.datetime | None:
    """Coerce a query bound to aware UTC.

    Args:
        value: a datetime (naive = local), a date (local midnight; with ``end``, the last
            microsecond of that day), a string for :func:`parse_date`, or None.
        end: the value is an upper bound, so a bare day means the whole day.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return parse_date(value, end=end)
    if isinstance(value, dt.datetime):
        return to_utc(value)
    if isinstance(value, dt.date):
        return _day(value, end)
    raise InvalidDateError(f"not a date: {value!r}")


def _day(day: dt.date, end: bool) -> dt.datetime:
    start = to_utc(dt.datetime(day.year, day.month, day.day))
    if not end:
        return start
    following = day + dt.timedelta(days=1)
    return to_utc(dt.datetime(following.year, following.month, following.day)) - dt.timedelta(
        microseconds=1
    )


def parse_date(text: str, *, end: bool = False, now: dt.datetime | None = None) -> dt.datetime:
    """Parse ``YYYY-MM-DD``, an ISO 8601 time, ``@<seconds since the epoch>``, ``now``, or
    an age.

    Ages are short (``30m``, ``2h``, ``7d``, ``2w``) or git's (``2 weeks ago``,
    ``3.days.ago``, ``yesterday``, ``today``). A bare day is local midnight, or with ``end``
    the end of that day; ``yesterday`` and ``today`` are days too. An age counts back from
    ``now``. Raises InvalidDateError for anything else.
    """
    raw = text.strip()
    current = to_utc(now) if now is not None else dt.datetime.now(dt.UTC)
    lowered = raw.lower()
    if lowered == "now":
        return current
    if re.fullmatch(r"@\d{1,12}", raw):  # git's raw form: seconds since the epoch
        return EPOCH + dt.timedelta(seconds=int(raw[1:]))
    if lowered in ("today", "yesterday"):
        local = current.astimezone().date()
        return _day(local - dt.timedelta(days=1 if lowered == "yesterday" else 0), end)
    ago = _AGO.fullmatch(lowered)
    if ago:
        count = 1 if ago.group(1) in ("a", "an", "one") else int(ago.group(1))
        try:
            return current - count * _AGO_UNITS[ago.group(2)]
        except OverflowError:
            raise InvalidDateError(f"date {text!r} is too far back") from None
    match = _RELATIVE.fullmatch(lowered)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        try:
            return current - dt.timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            raise InvalidDateError(f"date {text!r} is too far back") from None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return _day(dt.date.fromisoformat(raw), end)
        except ValueError:
            raise InvalidDateError(f"invalid date {text!r}") from None
    try:
        value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise InvalidDateError(
            f"invalid date {text!r}: use YYYY-MM-DD, an ISO time (2025-11-05T17:30:00Z), "
            "an age such as 30m, 2h, 7d, '2 weeks ago', or yesterday"
        ) from None
    return to_utc(value)


def floor_seconds(value: dt.datetime) -> int:
    """Whole seconds since the epoch, rounded down (a commit's time for this instant)."""
    return (value - EPOCH) // dt.timedelta(seconds=1)


def micros(ts: dt.datetime) -> int:
    """Microseconds since the epoch, exactly (how the query index stores times)."""
    return (ts - EPOCH) // dt.timedelta(microseconds=1)


def from_micros(value: int) -> dt.datetime:
    """The aware UTC datetime ``value`` microseconds after the epoch."""
    return EPOCH + dt.timedelta(microseconds=value)


def iso_or_none(value: dt.datetime | None) -> str | None:
    """``value.isoformat()``, or None for None (report fields that may be empty)."""
    return value.isoformat() if value is not None else None
