"""CLI commands that read the ledger: recent, search, file-history, session, show, sessions,
audit, stats, patterns, and import (see docs/cli.md, "Reading the ledger")."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from ledger.cli.common import ledger_dir, print_json_lines, print_table, style
from ledger.dates import parse_date
from ledger.entry import Entry
from ledger.errors import AmbiguousEntryError, EntryNotFoundError, InvalidDateError
from ledger.lifecycle.storage import LogStorage
from ledger.read.query import LogQuery
from ledger.reports.html import render_audit_html
from ledger.reports.markdown import audit_markdown
from ledger.types import ChangeType, LogLevel
from ledger.write.importer import import_files

TYPES = [t.value for t in ChangeType]
LEVELS = [v.value for v in LogLevel]
NOTHING_FOUND = 1


def _query(ctx: click.Context) -> LogQuery:
    bar = ctx.with_resource(_progress("Indexing sessions"))
    return LogQuery(ledger_dir(ctx), progress=bar)


def _date(end: bool = False) -> Callable[[click.Context, click.Parameter, str | None], Any]:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse_date(value, end=end)
        except InvalidDateError as exc:
            raise click.BadParameter(str(exc)) from None

    return convert


def _when(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _level(level: LogLevel) -> str:
    colour = {"warning": "yellow", "error": "red", "critical": "magenta"}.get(level.value)
    return style(level.value, fg=colour) if colour else level.value


def _summary(entry: Entry) -> str:
    text = " ".join(entry.description.split())
    return text if len(text) <= 80 else text[:79] + "…"


def _entry_rows(entries: Sequence[Entry], with_session: bool = True) -> list[list[Any]]:
    rows = []
    for e in entries:
        row = [_when(e.timestamp), e.short_id]
        if with_session:
            row += [e.session_id, e.agent_id]
        row += [e.change_type.value, e.level.value, _summary(e)]
        rows.append(row)
    return rows


def _print_verbose(q: LogQuery, entry: Entry, *, diff: bool = False) -> None:
    click.echo(
        style(entry.id, fg="yellow")
        + f"  {_when(entry.timestamp)}  {entry.change_type.value}  {_level(entry.level)}"
    )
    click.echo(f"  session: {entry.session_id}  agent: {entry.agent_id}")
    click.echo(f"  {entry.description}")
    if entry.file_path is not None:
        drift = "  (changed outside the session before this)" if entry.drift else ""
        click.echo(f"  file: {entry.file_path}{drift}")
        click.echo(
            f"  hashes: {entry.file_hash_before or '-'} -> {entry.file_hash_after or '-'}"
        )
    if entry.metadata:
        click.echo("  metadata: " + json.dumps(entry.metadata, ensure_ascii=False, sort_keys=True))
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


def _listing(
    ctx: click.Context,
    q: LogQuery,
    entries: Sequence[Entry],
    as_json: bool,
    verbose: bool,
    *,
    with_session: bool = True,
    diff: bool = False,
) -> None:
    if as_json:
        print_json_lines(e.to_dict() for e in entries)
    elif verbose:
        for e in entries:
            _print_verbose(q, e, diff=diff)
    elif entries:
        headers = ["TIME", "ID"]
        if with_session:
            headers += ["SESSION", "AGENT"]
        headers += ["TYPE", "LEVEL", "DESCRIPTION"]
        print_table(headers, _entry_rows(entries, with_session))
    if not entries:
        if not as_json:
            click.echo("No entries found.", err=True)
        ctx.exit(NOTHING_FOUND)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
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


json_option = click.option("--json", "as_json", is_flag=True, help="JSON lines for programs.")
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="Every field of each entry, not a table row."
)


@click.command("recent")
@click.option("--hours", type=click.FloatRange(min=0), default=24, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@verbose_option
@json_option
@click.pass_context
def recent_cmd(ctx: click.Context, hours: float, limit: int, verbose: bool, as_json: bool) -> None:
    """Show the newest entries of the last HOURS hours, newest first.

    Exits 1 when there is none.

    \b
    Example:
      git ledger recent --hours 24 --limit 50
    """
    q = _query(ctx)
    _listing(ctx, q, q.get_recent_changes(hours=hours, limit=limit), as_json, verbose)


@click.command("search")
@click.option("--type", "types", type=click.Choice(TYPES), multiple=True, help="Change type "
              "(repeatable; any of them matches).")
@click.option("--file", "file_path", metavar="PATH", help="A file, or a folder prefix like api/.")
@click.option("--text", metavar="TEXT", help="Case-insensitive text in the description, "
              "command, output, decision, reasoning, endpoint or any metadata value.")
@click.option("--start-date", callback=_date(), metavar="DATE",
              help="From this time: YYYY-MM-DD, an ISO time, or an age (2h, 7d, 30m).")
@click.option("--end-date", callback=_date(end=True), metavar="DATE",
              help="Up to this time (a bare day includes the whole day).")
@click.option("--session", metavar="ID", help="Only this session.")
@click.option("--agent", metavar="NAME", help="Only this agent.")
@click.option("--level", "levels", type=click.Choice(LEVELS), multiple=True,
              help="Level (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@verbose_option
@json_option
@click.pass_context
def search_cmd(
    ctx: click.Context,
    types: tuple[str, ...],
    file_path: str | None,
    text: str | None,
    start_date: dt.datetime | None,
    end_date: dt.datetime | None,
    session: str | None,
    agent: str | None,
    levels: tuple[str, ...],
    limit: int,
    verbose: bool,
    as_json: bool,
) -> None:
    """Find entries matching every filter given, newest first.

    Exits 1 when nothing matches.

    \b
    Example:
      git ledger search --type file_update --type file_create --file api/ \\
          --text database --start-date 2025-11-01 --end-date 2025-11-05 --limit 20
    """
    q = _query(ctx)
    found = q.query(
        change_types=list(types) or None,
        file_path=file_path,
        start_date=start_date,
        end_date=end_date,
        search_text=text,
        session_id=session,
        agent_id=agent,
        levels=list(levels) or None,
        limit=limit,
    )
    _listing(ctx, q, found, as_json, verbose)


@click.command("file-history")
@click.argument("path")
@click.option("--verbose", "-v", is_flag=True, help="Each step in full, with its diff.")
@json_option
@click.pass_context
def file_history_cmd(ctx: click.Context, path: str, verbose: bool, as_json: bool) -> None:
    """Show every change to one file across all sessions, oldest first.

    Exits 1 when the ledger holds no entry about PATH.

    \b
    Example:
      git ledger file-history api/main.py --verbose
    """
    q = _query(ctx)
    _listing(ctx, q, q.get_file_history(path), as_json, verbose, diff=True)


@click.command("session")
@click.argument("session_id", metavar="ID")
@verbose_option
@json_option
@click.pass_context
def session_cmd(ctx: click.Context, session_id: str, verbose: bool, as_json: bool) -> None:
    """Show one session's entries in the order they were recorded.

    Exits 1 when the session does not exist or holds no entry.

    \b
    Example:
      git ledger session 20251105T173045Z-1a2b3c4d --verbose
    """
    q = _query(ctx)
    entries = q.get_session_logs(session_id)
    if entries and not as_json and not verbose:
        click.echo(f"Session {session_id} ({len(entries)} entries, agent "
                   f"{', '.join(sorted({e.agent_id for e in entries}))})")
    _listing(ctx, q, entries, as_json, verbose, with_session=False)


@click.command("show")
@click.argument("entry_id", metavar="ID")
@json_option
@click.pass_context
def show_cmd(ctx: click.Context, entry_id: str, as_json: bool) -> None:
    """Show one entry in full, and the diff of a file change.

    ID is a full entry id or a unique prefix of 7 or more hex digits (entry ids are commit
    ids: git show ID works too). Exits 1 when no entry has that id, 2 when the prefix is
    ambiguous.

    \b
    Example:
      git ledger show 3f2a9c1
    """
    q = _query(ctx)
    try:
        entry = q.get_entry(entry_id)
    except AmbiguousEntryError as exc:
        click.echo(f"git-ledger: error: {exc}", err=True)
        ctx.exit(2)
    except EntryNotFoundError as exc:
        click.echo(f"git-ledger: error: {exc}", err=True)
        ctx.exit(NOTHING_FOUND)
    if as_json:
        data = entry.to_dict(include_states=True)
        data["diff"] = q.get_diff(entry)
        print_json_lines([data])
        return
    _print_verbose(q, entry, diff=True)


@click.command("sessions")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (newest first).")
@json_option
@click.pass_context
def sessions_cmd(ctx: click.Context, limit: int | None, as_json: bool) -> None:
    """List sessions, most recently active first, with entry and error counts.

    Exits 1 when the ledger has no session.

    \b
    Example:
      git ledger sessions --limit 20
    """
    rows = _query(ctx).list_sessions()[:limit]
    if as_json:
        print_json_lines(rows)
    elif rows:
        print_table(
            ["SESSION", "AGENT", "FIRST", "LAST", "ENTRIES", "ERRORS"],
            [
                (
                    r["session_id"],
                    r["agent_id"],
                    _when(dt.datetime.fromisoformat(r["first_timestamp"])),
                    _when(dt.datetime.fromisoformat(r["last_timestamp"])),
                    r["entries"],
                    r["errors"],
                )
                for r in rows
            ],
        )
    if not rows:
        if not as_json:
            click.echo("No sessions found.", err=True)
        ctx.exit(NOTHING_FOUND)


@click.command("audit")
@click.argument("start", metavar="START")
@click.option("--end-date", metavar="DATE", help="End of the period (default: now).")
@click.option("--output", "-o", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the report here (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown", "html"]),
              default="json", show_default=True)
@click.option("--no-fsck", is_flag=True, help="Skip git fsck in the integrity section.")
@click.pass_context
def audit_cmd(
    ctx: click.Context,
    start: str,
    end_date: str | None,
    output: str | None,
    fmt: str,
    no_fsck: bool,
) -> None:
    """Write an audit report of everything recorded from START to --end-date.

    The report lists agents and sessions, counts by type and level, every error and
    critical entry, files changed, commands with exit codes, API calls with status codes,
    deployments and configuration changes in full, and an integrity section (git fsck
    and each session's tip commit). Exits 0 even when the period is empty.

    \b
    Example:
      git ledger audit 2025-11-01 --end-date 2025-11-05 --output audit_report.json
    """
    try:
        start_at = parse_date(start)
        end_at = parse_date(end_date, end=True) if end_date else None
    except InvalidDateError as exc:
        raise click.BadParameter(str(exc)) from None
    q = _query(ctx)
    with _progress("Reading sessions") as progress:
        report = q.generate_audit_report(start_at, end_at, fsck=not no_fsck, progress=progress)
    if fmt == "html":
        text = render_audit_html(report)
    elif fmt == "markdown":
        text = audit_markdown(report)
    else:
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    with open(output, "w", encoding="utf-8") as fh:
        fh.write(text)
    s = report["summary"]
    click.echo(
        f"Wrote {output}: {s['total_entries']} entries, {s['sessions']} sessions, "
        f"{s['errors'] + s['critical']} errors"
    )


@click.command("stats")
@json_option
@click.pass_context
def stats_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show counts of entries, sessions and agents, by type and level, and storage use.

    \b
    Example:
      git ledger stats
    """
    data = _query(ctx).stats()
    data["storage"] = LogStorage(data["ledger_dir"], quiet=True).get_storage_size()
    if as_json:
        print_json_lines([data])
        return
    size = data["storage"]
    click.echo(f"Ledger:   {data['ledger_dir']}")
    click.echo(f"Entries:  {data['total_entries']}")
    click.echo(f"Sessions: {data['sessions']}")
    click.echo(f"Agents:   {data['agents']}")
    if data["first_timestamp"]:
        click.echo(f"Period:   {data['first_timestamp']} to {data['last_timestamp']}")
    click.echo(
        f"Storage:  {size['total_size_mb']:.2f} MB of {size['max_storage_mb']:.0f} MB "
        f"({size['usage_percentage']:.1f}%), {size['loose_objects']} loose objects, "
        f"{size['packs']} packs, archive {size['archive_size_mb']:.2f} MB, "
        f"query index {size['query_index_mb']:.2f} MB"
    )
    click.echo()
    print_table(["TYPE", "ENTRIES"], data["by_type"].items())
    click.echo()
    print_table(["LEVEL", "ENTRIES"], data["by_level"].items())


@click.command("patterns")
@click.option("--start-date", callback=_date(), metavar="DATE", help="From (default: the start).")
@click.option("--end-date", callback=_date(end=True), metavar="DATE", help="To (default: now).")
@json_option
@click.pass_context
def patterns_cmd(
    ctx: click.Context,
    start_date: dt.datetime | None,
    end_date: dt.datetime | None,
    as_json: bool,
) -> None:
    """Analyse activity: by hour and day, busiest files, error rates, failing commands,
    API endpoints, agents.

    Exits 1 when the period holds no entry.

    \b
    Example:
      git ledger patterns --start-date 2025-11-01 --end-date 2025-11-05
    """
    q = _query(ctx)
    with _progress("Reading sessions") as progress:
        data = q.analyze_patterns(start_date, end_date, progress=progress)
    if as_json:
        print_json_lines([data])
    else:
        click.echo(f"Entries: {data['total_entries']}")
        if data["total_entries"]:
            click.echo(f"Period:  {data['first_timestamp']} to {data['last_timestamp']}\n")
            peak = max(data["activity_by_hour"].values()) or 1
            print_table(
                ["HOUR (UTC)", "ENTRIES", ""],
                [(h, n, "#" * round(30 * n / peak)) for h, n in data["activity_by_hour"].items()],
            )
            click.echo()
            print_table(["TYPE", "ENTRIES"], data["type_distribution"].items())
            click.echo()
            print_table(
                ["FILE", "CHANGES"],
                [(f["file_path"], f["changes"]) for f in data["most_changed_files"][:10]],
            )
            click.echo()
            print_table(
                ["COMMAND", "RUNS", "FAILURES"],
                [(c["command"], c["runs"], c["failures"]) for c in data["failing_commands"][:10]],
            )
            click.echo()
            print_table(
                ["ENDPOINT", "CALLS", "ERRORS", "AVG SECONDS"],
                [
                    (p["endpoint"], p["calls"], p["errors"], p["avg_duration_seconds"])
                    for p in data["api_endpoints"][:10]
                ],
            )
            click.echo()
            print_table(
                ["AGENT", "ENTRIES", "SESSIONS", "ERROR RATE"],
                [(a["agent_id"], a["entries"], a["sessions"], a["error_rate"])
                 for a in data["agents"]],
            )
    if not data["total_entries"]:
        ctx.exit(NOTHING_FOUND)


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@json_option
@click.pass_context
def import_cmd(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Import entries in the seed's JSON format (arrays or JSON lines).

    Entries keep their original times, sessions and agents; the original id is kept in
    metadata as imported_id, so importing the same file again adds nothing. Files are
    checked before anything is written. Exits 0 also when everything was already there.

    \b
    Example:
      git ledger import logs/changes_2025-11-05.jsonl
    """
    with _progress("Importing") as progress:
        result = import_files(files, ledger_dir(ctx), progress=progress)
    if as_json:
        print_json_lines([result.to_dict()])
        return
    click.echo(
        f"Imported {result.imported} entries into {len(result.sessions)} sessions; "
        f"{result.skipped} were already in the ledger."
    )


def register(group: click.Group) -> None:
    """Add the reading commands and ``import``."""
    for command in (
        recent_cmd,
        search_cmd,
        file_history_cmd,
        session_cmd,
        show_cmd,
        sessions_cmd,
        audit_cmd,
        stats_cmd,
        patterns_cmd,
        import_cmd,
    ):
        group.add_command(command)
