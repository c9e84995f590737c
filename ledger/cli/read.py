"""CLI commands that read entries: recent, search, file-history, session, show, sessions
(see docs/cli.md, "Reading the ledger")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from ledger._words import plural
from ledger.cli.common import print_json_array, print_json_lines, print_table
from ledger.cli.listing import NOTHING_FOUND, listing, open_query, print_verbose, when
from ledger.cli.numbers import count
from ledger.cli.options import (
    Hours,
    all_repos_option,
    entry_filters,
    filters,
    full_option,
    json_option,
    live_only_option,
    repo_option,
    since_option,
    until_option,
    verbose_option,
)
from ledger.cli.output import use_pager
from ledger.errors import SessionNotFoundError
from ledger.read.repos import path_in_scope


@click.command("recent")
@click.option("--hours", type=Hours(), default=24, show_default=True,
              help="How far back (the same as --since Nh).")
@since_option("From this time instead of --hours")
@until_option()
@click.option("--limit", type=count(), default=100, show_default=True)
@repo_option
@verbose_option
@full_option
@json_option
@live_only_option
@click.pass_context
def recent_cmd(
    ctx: click.Context,
    hours: float,
    start_date: dt.datetime | None,
    end_date: dt.datetime | None,
    limit: int,
    repo: str | None,
    verbose: bool,
    full: bool,
    as_json: bool,
) -> None:
    """Show the newest entries of the last HOURS hours (or --since), newest first.

    Exits 1 when there is none.

    \b
    Example:
      git ledger recent --hours 24 --limit 50
      git ledger recent --since "2 days ago" --until yesterday
      git ledger recent --repo git@github.com:acme/api.git
    """
    q = open_query(ctx)
    if start_date is None and end_date is None:
        entries = q.get_recent_changes(hours=hours, limit=limit, repo=repo)
    else:
        since = start_date or dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
        entries = q.query(start_date=since, end_date=end_date, limit=limit, repo=repo)
    listing(ctx, q, entries, as_json, verbose, full=full)


@click.command("search")
@entry_filters
@click.option("--limit", type=count(), default=100, show_default=True)
@verbose_option
@full_option
@json_option
@live_only_option
@click.pass_context
def search_cmd(
    ctx: click.Context,
    /,
    limit: int,
    verbose: bool,
    full: bool,
    as_json: bool,
    **filter_options: Any,
) -> None:
    """Find entries matching every filter given, newest first.

    Exits 1 when nothing matches.

    \b
    Example:
      git ledger search --type file_update --type file_create --file api/ \\
          --text database --since 2025-11-01 --until 2025-11-05 --limit 20
      git ledger search --level error --since "2 weeks ago" --json | jq '.[].id'
      git ledger search --repo . --type file_update
    """
    q = open_query(ctx)
    entries = q.query(**filters(**filter_options), limit=limit)
    listing(ctx, q, entries, as_json, verbose, full=full)


@click.command("file-history")
@click.argument("path")
@click.option("--verbose", "-v", is_flag=True, help="Each step in full, with its diff.")
@repo_option
@all_repos_option
@full_option
@json_option
@live_only_option
@click.pass_context
def file_history_cmd(
    ctx: click.Context,
    path: str,
    verbose: bool,
    repo: str | None,
    all_repos: bool,
    full: bool,
    as_json: bool,
) -> None:
    """Show every change to one file across all sessions, oldest first.

    Run inside a git repository, PATH is read like git log -- PATH: relative to the current
    folder, and only that repository's entries are listed (--all-repos: every repository's;
    entries that name no repository are always listed). Exits 1 when the ledger holds no
    entry about PATH.

    \b
    Example:
      git ledger file-history api/main.py --verbose
      git ledger file-history README.md --all-repos
    """
    path, scope = path_in_scope(path, repo, all_repos=all_repos)
    q = open_query(ctx)
    entries = q.get_file_history(path, repo=scope)
    listing(ctx, q, entries, as_json, verbose, diff=True, full=full)


@click.command("session")
@click.argument("session_id", metavar="ID")
@click.option("--verbose", "-v", is_flag=True, help="Each entry in full, with its diff.")
@full_option
@json_option
@live_only_option
@click.pass_context
def session_cmd(
    ctx: click.Context, session_id: str, verbose: bool, full: bool, as_json: bool
) -> None:
    """Show one session's entries in the order they were recorded.

    Exits 1 when the session does not exist ("no session ID") or holds no entry.

    \b
    Example:
      git ledger session 20251105T173045Z-1a2b3c4d --verbose
    """
    q = open_query(ctx)
    entries = q.get_session_logs(session_id)
    if not entries and q.store.tip(session_id) is None:
        raise SessionNotFoundError(f"no session {session_id} in the ledger {q.ledger_dir}")
    if entries and not as_json and not verbose:
        use_pager(ctx)
        agents = sorted({e.agent_id for e in entries})
        click.echo(f"Session {session_id} ({plural(len(entries), 'entry')}, "
                   f"{'agent' if len(agents) == 1 else 'agents'} {', '.join(agents)})")
    listing(ctx, q, entries, as_json, verbose, with_session=False, diff=True, full=full)


@click.command("show")
@click.argument("entry_id", metavar="ID")
@json_option
@live_only_option
@click.pass_context
def show_cmd(ctx: click.Context, entry_id: str, as_json: bool) -> None:
    """Show one entry in full, and the diff of a file change.

    ID is a full entry id or a unique prefix of 7 or more hex digits (entry ids are commit
    ids: git show ID works too). Exits 1 when no entry has that id, 2 when ID cannot be an
    id or the prefix is ambiguous.

    \b
    Example:
      git ledger show 3f2a9c1
    """
    q = open_query(ctx)
    entry = q.get_entry(entry_id)  # unknown: exit 1, ambiguous prefix: exit 2 (cli.main)
    if as_json:
        data = entry.to_dict(include_states=True)
        data["diff"] = q.get_diff(entry)
        print_json_lines([data])
        return
    use_pager(ctx)
    print_verbose(q, entry, diff=True)


@click.command("sessions")
@click.option("--limit", type=count(), help="At most this many (newest first).")
@repo_option
@json_option
@live_only_option
@click.pass_context
def sessions_cmd(ctx: click.Context, limit: int | None, repo: str | None, as_json: bool) -> None:
    """List sessions, most recently active first, with entry and error counts.

    Exits 1 when the ledger has no session.

    \b
    Example:
      git ledger sessions --limit 20
      git ledger sessions --repo https://github.com/acme/api
    """
    rows = open_query(ctx).list_sessions(repo=repo)[:limit]
    if as_json:
        print_json_array(rows)
    elif rows:
        use_pager(ctx)
        _print_sessions(rows)
    if not rows:
        if not as_json:
            click.echo("No sessions found.", err=True)
        ctx.exit(NOTHING_FOUND)


def _print_sessions(rows: list[dict[str, Any]]) -> None:
    print_table(
        ["SESSION", "AGENT", "FIRST", "LAST", "ENTRIES", "ERRORS"],
        [
            (
                r["session_id"],
                r["agent_id"],
                when(dt.datetime.fromisoformat(r["first_timestamp"])),
                when(dt.datetime.fromisoformat(r["last_timestamp"])),
                r["entries"],
                r["errors"],
            )
            for r in rows
        ],
    )


def register(group: click.Group) -> None:
    """Add the commands that read entries."""
    for command in (recent_cmd, search_cmd, file_history_cmd, session_cmd, show_cmd, sessions_cmd):
        group.add_command(command)
