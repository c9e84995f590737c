"""CLI commands that sum the ledger up: audit, stats, patterns
(see docs/cli.md, "Reading the ledger")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from ledger._words import percent, plural
from ledger.cli.common import print_json_lines, print_table, progress_bar
from ledger.cli.listing import NOTHING_FOUND, open_query
from ledger.cli.options import (
    DATE_FORMS,
    json_option,
    live_only_option,
    parse_period,
    repo_option,
    since_option,
    until_option,
)
from ledger.cli.output import use_pager
from ledger.read.stats import ledger_stats
from ledger.reports.audit import generate_audit_report
from ledger.reports.render import AUDIT_FORMATS, render_audit, write_audit


@click.command("audit")
@click.argument("start", metavar="[START]", required=False)
@click.option("--since", "since", metavar="DATE",
              help=f"Start of the period, as START: {DATE_FORMS}.")
@click.option("--until", "--end-date", "end_date", metavar="DATE",
              help="End of the period (default: now).")
@click.option("--output", "-o", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report here (default or -: standard output).")
@click.option("--format", "fmt", type=click.Choice(AUDIT_FORMATS),
              help="json, markdown or html (default: from --output's extension, else json).")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option("--no-fsck", is_flag=True,
              help="Skip git fsck (html: git ledger verify) in the integrity section.")
@repo_option
@live_only_option
@click.pass_context
def audit_cmd(
    ctx: click.Context,
    start: str | None,
    since: str | None,
    end_date: str | None,
    output: str | None,
    fmt: str | None,
    as_json: bool,
    no_fsck: bool,
    repo: str | None,
) -> None:
    """Write an audit report of everything recorded from START (or --since) to --until.

    The report lists agents and sessions, counts by type and level, every error and
    critical entry, files changed, commands with exit codes, API calls with status codes,
    deployments and configuration changes in full, and an integrity section (git fsck
    and each session's tip commit). Exits 0 even when the period is empty.

    \b
    Example:
      git ledger audit 2025-11-01 --until 2025-11-05 --output audit_report.json
      git ledger audit --since "1 week ago" -o week.html
      git ledger audit --since 7d --repo . --format markdown
    """
    if (start is None) == (since is None):
        raise click.UsageError("give the start of the period once: START or --since")
    fmt = "json" if as_json else fmt or audit_format_for(output)
    start_at, end_at = parse_period(start or since or "", end_date)
    q = open_query(ctx)
    with progress_bar("Reading sessions") as progress:
        # The web page shows verify's verdict (checkpoints, signatures, problems); verify
        # re-hashes every object itself, so fsck is not run twice.
        html = fmt == "html"
        # JSON output takes the commands and API calls as the index's JSON text, as is.
        report = generate_audit_report(q, start_at, end_at, fsck=not (no_fsck or html),
                                       verify=html and not no_fsck, progress=progress,
                                       repo=repo, json_items=fmt == "json")
    if output is None or output == "-":
        text = render_audit(report, fmt)
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_audit(report, output, fmt)
    s = report["summary"]
    click.echo(
        f"Wrote {output}: {plural(s['total_entries'], 'entry')}, "
        f"{plural(s['sessions'], 'session')}, {plural(s['errors'] + s['critical'], 'error')}"
    )


def audit_format_for(output: str | None) -> str:
    """The report format an output file's extension asks for (json by default)."""
    suffix = (output or "").rsplit(".", 1)[-1].lower() if "." in (output or "") else ""
    return {"md": "markdown", "markdown": "markdown", "html": "html", "htm": "html"}.get(
        suffix, "json"
    )


@click.command("stats")
@json_option
@live_only_option
@click.pass_context
def stats_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show counts of entries, sessions and agents, by type and level, and storage use.

    \b
    Example:
      git ledger stats
    """
    from ledger.lifecycle.storage import LogStorage  # stats alone needs it: loaded here

    q = open_query(ctx)
    data = ledger_stats(q, LogStorage(q.ledger_dir, quiet=True))
    if as_json:
        print_json_lines([data])
        return
    _print_stats(data)


def _print_stats(data: dict[str, Any]) -> None:
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
@since_option("From (default: the first entry)")
@until_option("To (default: now)")
@json_option
@live_only_option
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
      git ledger patterns --since 2025-11-01 --until 2025-11-05
      git ledger patterns --since "2 weeks ago"
    """
    q = open_query(ctx)
    with progress_bar("Reading sessions") as progress:
        data = q.analyze_patterns(start_date, end_date, progress=progress)
    if as_json:
        print_json_lines([data])
    else:
        use_pager(ctx)
        _print_patterns(data)
    if not data["total_entries"]:
        ctx.exit(NOTHING_FOUND)


def _print_patterns(data: dict[str, Any]) -> None:
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
            [(a["agent_id"], a["entries"], a["sessions"], percent(a["error_rate"]))
             for a in data["agents"]],
        )


def register(group: click.Group) -> None:
    """Add ``audit``, ``stats`` and ``patterns``."""
    for command in (audit_cmd, stats_cmd, patterns_cmd):
        group.add_command(command)
