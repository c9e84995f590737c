"""Helpers shared by the CLI commands: the ledger option, tables, JSON, colour, progress
bars."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import click

from ledger.cli.output import on_terminal, terminal_width


def ledger_dir(ctx: click.Context) -> str | None:
    """The ``--ledger`` path given to the main group, if any."""
    obj = ctx.find_root().obj or {}
    value = obj.get("ledger_dir")
    return str(value) if value else None


def use_colour(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (to anything but "")."""
    if os.environ.get("NO_COLOR"):
        return False
    if stream is None:
        return on_terminal()
    return hasattr(stream, "isatty") and bool(stream.isatty())


def style(text: str, *, err: bool = False, **kwargs: Any) -> str:
    """click.style, but only when colour is on for stdout (``err=True``: for stderr)."""
    return click.style(text, **kwargs) if use_colour(sys.stderr if err else None) else text


def print_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    fit: int | None = -1,
    row_style: Callable[[Sequence[str]], dict[str, Any]] | None = None,
) -> int:
    """Print an aligned table; return the number of rows.

    On a terminal the column ``fit`` (default: the last) is cut with "…" so each line fits
    the window; piped output stays whole. ``row_style`` gives click.style arguments for a
    row (colours a whole error row).
    """
    data = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in data:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    last = len(headers) - 1
    room = _room(widths, fit, terminal_width())
    if room is not None and fit is not None:
        index = fit % len(headers)
        widths[index] = room
        data = [[_cut(c, room) if i == index else c for i, c in enumerate(r)] for r in data]

    def line(cells: Sequence[str]) -> str:
        text = "  ".join(c if i == last else c.ljust(widths[i]) for i, c in enumerate(cells))
        return text.rstrip()  # an empty last column leaves no trailing blanks

    click.echo(style(line(list(headers)), bold=True))
    for row in data:
        extra = row_style(row) if row_style is not None else None
        click.echo(style(line(row), **extra) if extra else line(row))
    return len(data)


def _room(widths: list[int], fit: int | None, columns: int | None) -> int | None:
    """How wide the fitted column may be, or None when the table fits as it is."""
    if fit is None or columns is None:
        return None
    total = sum(widths) + 2 * (len(widths) - 1)
    if total <= columns:
        return None
    index = fit % len(widths)
    return max(10, widths[index] - (total - columns))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_json_lines(items: Iterable[dict[str, Any]]) -> int:
    """Print one JSON object per line; return how many."""
    n = 0
    for item in items:
        click.echo(json.dumps(item, ensure_ascii=False, default=str))
        n += 1
    return n


def print_json_array(items: Iterable[dict[str, Any]]) -> int:
    """Print a JSON array, one element a line (streamed); an empty one is ``[]``."""
    n = 0
    for item in items:
        click.echo(("[\n" if n == 0 else ",\n") + json.dumps(item, ensure_ascii=False,
                                                           default=str), nl=False)
        n += 1
    click.echo("\n]" if n else "[]")
    return n


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on stderr, or None when stderr is not a terminal.

    The bar is drawn on one line and wiped when done, so whatever is printed next starts
    on a clean line.
    """
    if not sys.stderr.isatty():
        yield None
        return
    drawn = [False]

    def update(done: int, total: int) -> None:
        total = max(total, 1)
        filled = min(30, 30 * done // total)
        text = f"{label} [{'#' * filled}{' ' * (30 - filled)}] {100 * done // total:3d}%"
        sys.stderr.write(f"\r\033[K{text}" if done < total else "\r\033[K")
        sys.stderr.flush()
        drawn[0] = done < total  # the last step wipes the bar before any table is printed

    try:
        yield update
    finally:
        if drawn[0]:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
