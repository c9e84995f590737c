"""Number options that are numbers: finite, in a range, a one-line usage error otherwise.

``nan``, ``inf``, ``-inf`` and ``1e400`` (which Python reads as inf) pass click's plain
``float``; NaN even passes every range comparison. These types refuse them, and bound
integers so that ``--limit 10**30`` is a usage error rather than a traceback deep inside.
"""

from __future__ import annotations

import math
from typing import Any

import click

MAX_COUNT = 1_000_000_000
"""The largest ``--limit`` or batch size: more than any ledger holds."""


class Finite(click.FloatRange):
    """A finite float within [min, max] (``min_open``: above min)."""

    def __init__(self, min: float, max: float, *, min_open: bool = False, unit: str = "number"):
        super().__init__(min=min, max=max, min_open=min_open)
        self.unit = unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not math.isfinite(_loose_float(value)):
            self.fail(f"{shown(value)} is not a finite {self.unit}", param, ctx)
        return super().convert(value, param, ctx)


class Count(click.IntRange):
    """A whole number from ``min`` to ``max``; an overlong value is not echoed back."""

    def __init__(self, min: int = 1, max: int = MAX_COUNT) -> None:
        super().__init__(min, max)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and len(value.strip()) > 20:
            self.fail(f"{shown(value)} is not a whole number from {self.min} to {self.max}",
                      param, ctx)
        return super().convert(value, param, ctx)


def shown(value: str) -> str:
    """``value`` quoted for an error line, cut to 40 characters."""
    return repr(value) if len(value) <= 40 else repr(value[:37]) + "..."


def _loose_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0  # not a number at all: click's own message says so


def count(min: int = 1) -> Count:
    """A whole number from ``min`` to :data:`MAX_COUNT`."""
    return Count(min)


HOURS_MAX = 100 * 366 * 24.0
# Below 0 is left to the library, which says "must be positive" in its own words.
WINDOW_HOURS = Finite(-HOURS_MAX, HOURS_MAX, unit="number of hours")
DAYS = Finite(-100 * 366.0, 100 * 366.0, unit="number of days")
MEGABYTES = Finite(-1e9, 1e9, unit="number of megabytes")
SECONDS = Finite(0.05, 86400.0, unit="number of seconds")
