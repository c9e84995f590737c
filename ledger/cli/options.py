"""Options that several commands share: the entry filters, --json, --verbose, dates.

Declared once here so ``search`` and ``export`` filter with the same words and choices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ledger.dates import parse_date
from ledger.errors import InvalidDateError
from ledger.types import ChangeType, LogLevel

TYPES = [t.value for t in ChangeType]
LEVELS = [v.value for v in LogLevel]

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option(
    "--json", "as_json", is_flag=True, help="A JSON array for programs ([] when empty)."
)
full_option = click.option("--full", is_flag=True, help="Full 40-character entry ids.")
DATE_FORMS = "YYYY-MM-DD, an ISO time, an age (2h, 7d) or git's forms ('2 weeks ago')"


def since_option(help_text: str = "From this time") -> Callable[[F], F]:
    """``--since`` (alias ``--start-date``), read like git log's."""
    return click.option("--since", "--start-date", "start_date", callback=date_callback(),
                        metavar="DATE", help=f"{help_text}: {DATE_FORMS}.")


def until_option(help_text: str = "Up to this time") -> Callable[[F], F]:
    """``--until`` (alias ``--end-date``); a bare day includes the whole day."""
    return click.option("--until", "--end-date", "end_date", callback=date_callback(end=True),
                        metavar="DATE", help=f"{help_text} (a bare day includes all of it).")
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Every field of each entry, not a table row."
)

LIVE_ONLY = "ledger.live_only"
"""``ctx.meta`` key: the command was asked to leave archived sessions out."""


def _remember_live_only(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[LIVE_ONLY] = True


live_only_option = click.option(
    "--live-only", is_flag=True, expose_value=False, callback=_remember_live_only,
    help="Leave out sessions maintenance archived into bundles (included by default).",
)


def live_only(ctx: click.Context) -> bool:
    """True when ``--live-only`` was given."""
    return bool(ctx.meta.get(LIVE_ONLY))


def date_callback(end: bool = False) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback reading a date option (``end``: a bare day means its end)."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse_date(value, end=end)
        except InvalidDateError as exc:
            raise click.BadParameter(str(exc)) from None

    return convert


def parse_period(start: str, end: str | None) -> tuple[dt.datetime, dt.datetime | None]:
    """Read a START argument and an optional end date; a bad one is a usage error."""
    try:
        return parse_date(start), parse_date(end, end=True) if end else None
    except InvalidDateError as exc:
        raise click.BadParameter(str(exc)) from None


_FILTERS = [
    click.option("--type", "types", type=click.Choice(TYPES), multiple=True,
                 help="Change type (repeatable; any of them matches)."),
    click.option("--file", "file_path", metavar="PATH",
                 help="A file, or a folder prefix like api/."),
    click.option("--text", "search_text", metavar="TEXT",
                 help="Case-insensitive text in the description, command, output, decision, "
                 "reasoning, endpoint or any metadata value."),
    since_option(),
    until_option(),
    click.option("--session", "session_id", metavar="ID", help="Only this session."),
    click.option("--agent", "agent_id", metavar="NAME", help="Only this agent."),
    click.option(
        "--level",
        "levels",
        type=click.Choice(LEVELS),
        multiple=True,
        help="Level (repeatable; any of them matches).",
    ),
    click.option("--repo", "repo", metavar="REPO",
                 help="Only this repository: a folder inside it, its workspace root or its "
                 "remote URL (any spelling: git@host:a/b.git = https://host/a/b)."),
]


def entry_filters(func: F) -> F:
    """Add the nine entry filters; the command receives them as ``**filters``.

    ``filters(**kwargs)`` turns them into the keyword arguments of LogQuery.query and
    LogStorage.export_logs.
    """
    for option in reversed(_FILTERS):
        func = option(func)
    return func


def filters(
    types: tuple[str, ...],
    levels: tuple[str, ...],
    **rest: Any,
) -> dict[str, Any]:
    """The filter options as query keywords (an empty --type or --level means any)."""
    return {"change_types": list(types) or None, "levels": list(levels) or None, **rest}


class Hours(click.FloatRange):
    """A finite number of hours, at least 0 and at most a century: NaN, inf and 1e400 are
    usage errors with one line, not tracebacks."""

    name = "hours"
    MAX = 100 * 366 * 24.0

    def __init__(self) -> None:
        super().__init__(min=0, max=self.MAX)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:  # NaN passes every range comparison
            self.fail(f"{value!r} is not a number of hours", param, ctx)
        return number


repo_option = click.option(
    "--repo", metavar="REPO",
    help="Only this repository: a folder inside it, its workspace root or its remote URL.",
)
all_repos_option = click.option(
    "--all-repos", is_flag=True,
    help="Every repository (by default, inside a git repository, only that one's entries).",
)
