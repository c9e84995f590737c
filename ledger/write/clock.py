"""How far ahead of this machine's clock an entry may be dated: ``ledger.maxClockSkew``.

An entry's timestamp may be given by the caller (the API's ``timestamp=``, ``import``).
Entries of a session never go back in time, so one entry dated in the future would stamp
every later automatic entry of its session with that future time. A given timestamp more
than the allowed skew ahead of the clock is therefore refused (InvalidInputError); within
it, later automatic entries wait for the clock at most that long.

The skew is git config ``ledger.maxClockSkew`` (the ledger's own, else the user's): seconds,
or a number with ``s``, ``m``, ``h`` or ``d``; default 5 minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pygit2

from ledger.errors import InvalidInputError

SKEW_KEY = "ledger.maxClockSkew"
DEFAULT_SKEW = 300.0
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", re.IGNORECASE)


def parse_skew(text: str) -> float:
    """Seconds of a ``ledger.maxClockSkew`` value; InvalidInputError when it is not one."""
    match = _DURATION.fullmatch(text)
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()] if match else math.nan
    if not math.isfinite(seconds) or seconds > 366 * 86400:
        raise InvalidInputError(
            f"{SKEW_KEY} must be a duration such as 300, 90s, 5m or 1h (at most 366d), "
            f"not {text[:40]!r}"
        )
    return seconds


def max_clock_skew(repo: pygit2.Repository | None) -> float:
    """The allowed clock skew in seconds: ``ledger.maxClockSkew`` of the ledger's config
    (which reads the user's too), or of the user's alone when there is no ledger yet."""
    try:
        config = repo.config if repo is not None else pygit2.Config.get_global_config()
        value = config[SKEW_KEY]
    except (KeyError, OSError, pygit2.GitError):
        return DEFAULT_SKEW
    return parse_skew(str(value))


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def check_not_ahead(stamp: dt.datetime, skew: float, now: dt.datetime | None = None) -> None:
    """Refuse a timestamp more than ``skew`` seconds ahead of ``now`` (default: the clock)."""
    now = now or dt.datetime.now(dt.UTC)
    ahead = (stamp - now).total_seconds()
    if ahead > skew:
        raise InvalidInputError(
            f"timestamp {stamp.isoformat()} is {_span(ahead)} ahead of this machine's clock "
            f"(more than {SKEW_KEY} = {_span(skew)} allows)"
        )
