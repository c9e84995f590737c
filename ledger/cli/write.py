"""CLI commands that record entries from a shell: ``log`` and ``run``."""

from __future__ import annotations

import sys

import click

from ledger.capture.run import run_command
from ledger.cli.common import ledger_dir, print_json_lines
from ledger.cli.options import LEVELS, TYPES, full_option
from ledger.errors import InvalidInputError
from ledger.write.logger import ChangeLogger


def _logger(ctx: click.Context, agent: str | None, session: str | None) -> ChangeLogger:
    return ChangeLogger(ledger_dir=ledger_dir(ctx), agent_id=agent, session_id=session)


def _meta(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--meta takes KEY=VALUE, not {pair!r}")
        out[key] = value
    return out


session_option = click.option(
    "--session",
    metavar="ID",
    envvar="GIT_LEDGER_SESSION",
    help="Session id (default: $GIT_LEDGER_SESSION, else a new session).",
)
agent_option = click.option(
    "--agent",
    metavar="NAME",
    envvar="GIT_LEDGER_AGENT",
    help="Agent id (default: $GIT_LEDGER_AGENT, else 'agent').",
)


@click.command("log")
@click.option("--type", "ctype", type=click.Choice(TYPES), required=True, help="Change type.")
@click.option("--description", "-m", required=True, help="What happened.")
@click.option("--level", type=click.Choice(LEVELS), default="info", show_default=True)
@click.option("--file", "file_path", metavar="PATH", help="The file the entry concerns.")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Metadata (repeatable).")
@session_option
@agent_option
@full_option
@click.option("--json", "as_json", is_flag=True, help="Print the entry as one JSON object.")
@click.pass_context
def log_cmd(
    ctx: click.Context,
    ctype: str,
    description: str,
    level: str,
    file_path: str | None,
    meta: tuple[str, ...],
    session: str | None,
    agent: str | None,
    full: bool,
    as_json: bool,
) -> None:
    """Record one entry from a shell and print its id (12 characters; --full for 40).

    \b
    Example:
      git ledger log --type deployment -m "Deployed v1.4" --meta env=prod
      id=$(git ledger log --type agent_decision -m "Use SQLite" --full)
    """
    logger = _logger(ctx, agent, session)
    entry = logger.log(ctype, description, _meta(meta), level, file_path)
    if as_json:
        print_json_lines([entry.to_dict()])
    else:
        click.echo(entry.id if full else entry.short_id)


@click.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@session_option
@agent_option
@click.pass_context
def run_cmd(
    ctx: click.Context, command: tuple[str, ...], session: str | None, agent: str | None
) -> None:
    """Run a command, record it as a system_command, exit with its exit code.

    Output is shown as it arrives and recorded with the exit code and duration.

    \b
    Example:
      git ledger run -- pytest -q
    """
    result = run_command(_logger(ctx, agent, session), command)
    if result.start_error is not None:
        click.echo(f"git-ledger: cannot run {command[0]}: {result.start_error}", err=True)
    sys.exit(result.exit_code)


def register(group: click.Group) -> None:
    """Add ``log`` and ``run``."""
    group.add_command(log_cmd)
    group.add_command(run_cmd)
