"""CLI commands for operating a ledger: ``maintenance``, ``export``, ``archive list|restore``."""

from __future__ import annotations

import sys
from typing import Any

import click

from ledger._words import plural
from ledger.cli.common import ledger_dir, print_json_array, print_json_lines, print_table, style
from ledger.cli.numbers import DAYS, MEGABYTES, SECONDS
from ledger.cli.options import entry_filters, filters, json_option, live_only, live_only_option
from ledger.cli.otlp import run_otlp, wants_otlp
from ledger.lifecycle.storage import LogStorage
from ledger.location import check_existing
from ledger.read.export import EXPORT_FORMATS, export_to_stream, format_for


class _Progress:
    """A one-line progress counter on stderr, shown only on a terminal."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.on:
            return
        text = f"{stage}: {done}/{total}" if total else f"{stage}: {done}"
        click.echo(f"\r\033[K{text}", nl=False, err=True)
        self.shown = True

    def done(self) -> None:
        if self.shown:
            click.echo("\r\033[K", nl=False, err=True)
            self.shown = False

    def echo(self, text: str) -> None:
        """Print a message on its own line, clearing the progress line first."""
        self.done()
        click.echo(text)


def _storage(ctx: click.Context, progress: _Progress | None = None, **kwargs: Any) -> LogStorage:
    echo = progress.echo if progress is not None else click.echo
    return LogStorage(ledger_dir(ctx), progress=progress, echo=echo, **kwargs)


@click.command("maintenance")
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@click.option("--max-age-days", type=DAYS, default=30, show_default=True,
              help="Archive sessions whose last entry is older than this.")
@click.option("--max-storage-mb", type=MEGABYTES, default=500, show_default=True,
              help="The repository's size budget (for --enforce-quota).")
@click.option("--enforce-quota", is_flag=True,
              help="Instead: retire the oldest sessions (archived first) until under budget.")
@click.option("--no-archive", is_flag=True,
              help="With --enforce-quota: delete retired sessions without archiving them.")
@click.option("--full", is_flag=True,
              help="Repack everything into one pack, every delta found anew (routine runs "
                   "pack only what is new).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON line.")
@click.pass_context
def maintenance_cmd(
    ctx: click.Context,
    dry_run: bool,
    max_age_days: float,
    max_storage_mb: float,
    enforce_quota: bool,
    no_archive: bool,
    full: bool,
    as_json: bool,
) -> None:
    """Pack what is new and archive idle sessions into a verified git bundle.

    Sessions whose last entry is older than --max-age-days are written to a bundle under
    the ledger's archive/ folder, the bundle is checked with git bundle verify, and only
    then are their refs removed. Entries written while this runs are never lost. Routine
    runs pack only new objects and roll small packs up geometrically; --full repacks
    everything with every delta found anew (a full repack also runs by itself, reusing
    deltas, once archived sessions reach half the packs). Runs of plain fast-forward
    reflog lines are compacted into a record that checkpoints seal and verify checks.

    \b
    Example:
      git ledger maintenance --dry-run
      git ledger maintenance --max-age-days 60
      git ledger maintenance --full
    """
    progress = _Progress()
    storage = _storage(ctx, progress, max_log_age_days=max_age_days,
                       max_storage_mb=max_storage_mb, quiet=as_json)
    try:
        if enforce_quota:
            if dry_run:
                raise click.UsageError("--dry-run does not combine with --enforce-quota")
            result = storage.enforce_storage_quota(archive=not no_archive)
        else:
            result = storage.maintenance(dry_run=dry_run, full=full)
    finally:
        progress.done()
    if as_json:
        print_json_lines([result])


@click.command("export")
@click.argument("output_file", required=False,
                type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS),
              help="json (an array), jsonl (one entry a line), csv, or otlp (OpenTelemetry "
              "GenAI spans as OTLP/JSON lines); default: from the file's extension, else json.")
@entry_filters
@click.option("--include-states", is_flag=True, help="Add before_state and after_state.")
@live_only_option
@click.option("--otlp-endpoint", metavar="URL", help="Send the entries as spans to this OTLP/HTTP "
              "receiver instead (default: the OTEL_EXPORTER_OTLP_* variables).")
@click.option("--follow", is_flag=True, help="With OTLP: keep sending entries as they are "
              "recorded, until Ctrl-C.")
@click.option("--interval", type=SECONDS, default=2.0, show_default=True,
              help="With --follow: seconds between looks for new entries.")
@click.pass_context
def export_cmd(
    ctx: click.Context,
    /,
    output_file: str | None,
    fmt: str | None,
    include_states: bool,
    otlp_endpoint: str | None,
    follow: bool,
    interval: float,
    **filter_options: Any,
) -> None:
    """Write entries (newest first) to a file, or standard output with -, as JSON, JSON
    lines, CSV or OTLP.

    The format follows the file's extension (.json, .jsonl, .csv) unless --format says
    otherwise. The export streams: memory stays flat however many entries match, and the
    file appears only when it is complete. With --otlp-endpoint (or no OUTPUT_FILE and the
    OTEL_EXPORTER_OTLP_* variables set) the entries go to an OpenTelemetry receiver
    as one trace per session; --follow then sends new entries as they are recorded.

    \b
    Example:
      git ledger export week.csv --since 2025-11-01 --until 2025-11-07
      git ledger export errors.jsonl --level error --level critical
      git ledger export - --since "2 weeks ago" | jq '.[] | .description'
      git ledger export - --format otlp --session fix-login
      git ledger export --otlp-endpoint http://127.0.0.1:4318 --start-date 2025-11-05 --follow
    """
    fmt = format_for(output_file, fmt)
    if wants_otlp(output_file, otlp_endpoint, follow, fmt):
        run_otlp(_storage(ctx, quiet=True), output_file, fmt, otlp_endpoint, follow, interval,
                 filters(**filter_options))
        return
    progress = _Progress()
    storage = _storage(ctx, progress, quiet=True)
    options = {"live_only": live_only(ctx), **filters(**filter_options)}
    try:
        if output_file == "-":
            result = export_to_stream(storage.ledger_dir, sys.stdout, format=fmt,
                                      include_states=include_states, progress=progress,
                                      **options)
        else:
            result = storage.export_logs(
                output_file or "", format=fmt, include_states=include_states, **options
            )
    finally:
        progress.done()
    for line in result.get("warnings", []):
        click.echo(line, err=True)
    if output_file != "-":
        click.echo(f"Exported {plural(result['entries'], 'entry')} to {result['output_file']} "
                   f"({fmt})")


@click.group("archive")
def archive_group() -> None:
    """List and restore the bundles that maintenance archived sessions into.

    \b
    Example:
      git ledger archive list
      git ledger archive restore sessions-20251105T173045000000Z.bundle
    """


@archive_group.command("list")
@json_option
@click.pass_context
def archive_list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List archive bundles with their sessions, entries and time span.

    \b
    Example:
      git ledger archive list --json
    """
    storage = _storage(ctx, quiet=True)
    check_existing(storage.ledger_dir)  # a missing ledger is "nothing there", not "none"
    archives = storage.list_archives()
    if as_json:
        print_json_array(archives)
    elif not archives:
        click.echo("No archives.", err=True)
    if not archives:
        ctx.exit(1)
    if as_json:
        return
    _print_archives(archives)


def _print_archives(archives: list[dict[str, Any]]) -> None:
    print_table(
        ["BUNDLE", "SESSIONS", "ENTRIES", "FIRST ENTRY", "LAST ENTRY", "SIZE"],
        [
            (a["name"], a["sessions"], a["entries"], a["first_entry"] or "",
             a["last_entry"] or "", a["size_bytes"])
            for a in archives
        ],
    )


@archive_group.command("restore")
@click.argument("bundle")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON line.")
@click.pass_context
def archive_restore_cmd(ctx: click.Context, bundle: str, as_json: bool) -> None:
    """Bring an archived bundle's sessions back into the ledger.

    BUNDLE is a path or a name in the ledger's archive/ folder. Refs never move
    backwards: a session id reused since is restored as ID.restored-N.

    \b
    Example:
      git ledger archive restore sessions-20251105T173045000000Z.bundle
    """
    result = _storage(ctx, quiet=as_json).restore_archive(bundle)
    if as_json:
        print_json_lines([result])
    elif result["restored"]:
        click.echo(style("Sessions are back: ", bold=True) + ", ".join(result["restored"]))


def register(group: click.Group) -> None:
    """Add ``maintenance``, ``export`` and ``archive``."""
    group.add_command(maintenance_cmd)
    group.add_command(export_cmd)
    group.add_command(archive_group)
