"""How the reading commands show entries: table rows, the verbose form with diffs, and
the "nothing found" exit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import click

from ledger.cli.common import ledger_dir, print_json_array, print_table, progress_bar, style
from ledger.cli.options import live_only
from ledger.cli.output import use_pager
from ledger.entry import Entry
from ledger.read.query import LogQuery
from ledger.types import LogLevel

NOTHING_FOUND = 1
ROW_COLOURS: dict[str, dict[str, Any]] = {
    "error": {"fg": "red"},
    "critical": {"fg": "magenta", "bold": True},
}


def open_query(ctx: click.Context) -> LogQuery:
    """A LogQuery on the ``--ledger`` ledger, drawing an indexing bar on a terminal."""
    bar = ctx.with_resource(progress_bar("Indexing sessions"))
    query = LogQuery(ledger_dir(ctx), progress=bar, live_only=live_only(ctx))

    def warn() -> None:
        if query.archives_opened:  # only answers that read the archive speak of it
            for line in query.warnings():
                click.echo(style(line, err=True, fg="yellow"), err=True)

    ctx.call_on_close(warn)
    return query


def when(ts: dt.datetime) -> str:
    """A time as the tables show it: UTC, to the second."""
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _level(level: LogLevel) -> str:
    colour = {"warning": "yellow", "error": "red", "critical": "magenta"}.get(level.value)
    return style(level.value, fg=colour) if colour else level.value


def _summary(entry: Entry) -> str:
    return " ".join(entry.description.split())  # the table cuts it to the terminal


def entry_id(entry: Entry, full: bool) -> str:
    """The id as listings print it: 12 characters, all 40 with ``--full``."""
    return entry.id if full else entry.short_id


def _entry_rows(
    entries: Sequence[Entry], with_session: bool = True, full: bool = False
) -> list[list[Any]]:
    rows = []
    for e in entries:
        row = [when(e.timestamp), entry_id(e, full)]
        if with_session:
            row += [e.session_id, e.agent_id]
        row += [e.change_type.value, e.level.value, _summary(e)]
        rows.append(row)
    return rows


def print_verbose(q: LogQuery, entry: Entry, *, diff: bool = False, full: bool = True) -> None:
    """Every field of one entry, and with ``diff`` the diff of its file change."""
    click.echo(
        style(entry_id(entry, full), fg="yellow")
        + f"  {when(entry.timestamp)}  {entry.change_type.value}  {_level(entry.level)}"
    )
    click.echo(f"  session: {entry.session_id}  agent: {entry.agent_id}")
    click.echo(f"  {entry.description}")
    if entry.file_path is not None:
        drift = "  (changed outside the session before this)" if entry.drift else ""
        click.echo(f"  file: {entry.file_path}{drift}")
        click.echo(f"  hashes: {entry.file_hash_before or '-'} -> {entry.file_hash_after or '-'}")
    if entry.metadata:
        text = json.dumps(entry.metadata, ensure_ascii=False, sort_keys=True, indent=2)
        click.echo("  metadata: " + text.replace("\n", "\n  "))
    if diff:
        text = q.get_diff(entry)
        if text:
            click.echo(_colour_diff(text), nl=False)
    click.echo()


def _colour_diff(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(style(line, bold=True))
        elif line.startswith("+"):
            out.append(style(line, fg="green"))
        elif line.startswith("-"):
            out.append(style(line, fg="red"))
        elif line.startswith("@@"):
            out.append(style(line, fg="cyan"))
        else:
            out.append(line)
    return "".join(out)


def _row_style(row: Sequence[str]) -> dict[str, Any]:
    return ROW_COLOURS.get(row[-2], {})  # LEVEL is the column before DESCRIPTION


def listing(
    ctx: click.Context,
    q: LogQuery,
    entries: Sequence[Entry],
    as_json: bool,
    verbose: bool,
    *,
    with_session: bool = True,
    diff: bool = False,
    full: bool = False,
    nothing: str = "No entries found.",
) -> None:
    """Show entries as a JSON array, verbose blocks or a table; exit 1 when there is none.

    Long output on a terminal goes through the pager.
    """
    if as_json:
        print_json_array(e.to_dict() for e in entries)
    elif verbose:
        use_pager(ctx)
        for e in entries:
            print_verbose(q, e, diff=diff, full=full)
    elif entries:
        use_pager(ctx)
        headers = ["TIME", "ID"]
        if with_session:
            headers += ["SESSION", "AGENT"]
        headers += ["TYPE", "LEVEL", "DESCRIPTION"]
        print_table(headers, _entry_rows(entries, with_session, full), row_style=_row_style)
    if not entries:
        if not as_json:
            click.echo(nothing, err=True)
        ctx.exit(NOTHING_FOUND)
