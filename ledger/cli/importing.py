"""CLI command ``import``: entries from the JSON log files of the original agent change
logging system (see docs/cli.md)."""

from __future__ import annotations

import click

from ledger._words import plural
from ledger.cli.common import ledger_dir, print_json_lines, progress_bar
from ledger.cli.options import json_option
from ledger.write.importer import import_files


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@json_option
@click.pass_context
def import_cmd(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Import entries from the original agent change logger's JSON log files (- reads
    standard input).

    Entries keep their original times, sessions and agents; the original id is kept in
    metadata as imported_id, so importing the same file again adds nothing. Files are
    checked before anything is written. Exits 0 also when everything was already there.

    \b
    Example:
      git ledger import logs/changes_2025-11-05.jsonl
      git ledger --ledger other.git export - | git ledger import -
    """
    with progress_bar("Importing") as progress:
        result = import_files(files, ledger_dir(ctx), progress=progress)
    if as_json:
        print_json_lines([result.to_dict()])
        return
    already = "was" if result.skipped == 1 else "were"
    click.echo(
        f"Imported {plural(result.imported, 'entry')} into "
        f"{plural(len(result.sessions), 'session')}; {result.skipped} {already} already "
        "in the ledger."
    )


def register(group: click.Group) -> None:
    """Add ``import``."""
    group.add_command(import_cmd)
