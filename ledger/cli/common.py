"""Helpers shared by the CLI commands: the ledger option, tables, JSON lines, colour,
progress bars."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import click


def ledger_dir(ctx: click.Context) -> str | None:
    """The ``--ledger`` path given to the main group, if any."""
    obj = ctx.find_root().obj or {}
    value = obj.get("ledger_dir")
    return str(value) if value else None


def use_colour(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (to anything but "")."""
    stream = stream or sys.stdout
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


def style(text: str, *, err: bool = False, **kwargs: Any) -> str:
    """click.style, but only when colour is on for stdout (``err=True``: for stderr)."""
    return click.style(text, **kwargs) if use_colour(sys.stderr if err else None) else text


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Print an aligned table; return the number of rows."""
    data = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in data:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    last = len(headers) - 1

    def line(cells: Sequence[str]) -> str:
        text = "  ".join(c if i == last else c.ljust(widths[i]) for i, c in enumerate(cells))
        return text.rstrip()  # an empty last column leaves no trailing blanks

    click.echo(style(line(list(headers)), bold=True))
    for row in data:
        click.echo(line(row))
    return len(data)


def print_json_lines(items: Iterable[dict[str, Any]]) -> int:
    """Print one JSON object per line; return how many."""
    n = 0
    for item in items:
        click.echo(json.dumps(item, ensure_ascii=False, default=str))
        n += 1
    return n


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on stderr, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            bar.__enter__()
            bars.append(bar)
        bar = bars[0]
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bars:
            bars[0].__exit__(None, None, None)
