"""CLI commands: trust — ``checkpoint`` and ``verify`` (see docs/cli.md, docs/trust.md)."""

from __future__ import annotations

import json
import sys

import click

from ledger._words import plural
from ledger.cli.common import ledger_dir, print_table, style
from ledger.sync.verify_remote import verify_remote
from ledger.trust.checkpoint import write_checkpoint
from ledger.trust.findings import VerifyReport
from ledger.trust.summary import verify_summary, verify_verdict
from ledger.trust.verify import verify_ledger


@click.command("checkpoint")
@click.option(
    "--sign/--no-sign",
    default=None,
    help="Sign with ledger.signingKey (default: sign when a key is configured).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checkpoint as JSON.")
@click.pass_context
def checkpoint_cmd(ctx: click.Context, sign: bool | None, as_json: bool) -> None:
    """Record every session's tip and entry count as a new checkpoint.

    A later `git ledger verify` then catches any session rewound, deleted, rewritten or
    pointed elsewhere since. Refused when the ledger no longer matches the last checkpoint.

    \b
    Example:
      git ledger checkpoint
      git config --file LEDGER/config ledger.signingKey ~/.ssh/ledger_ed25519
      git ledger checkpoint --sign
    """
    cp = write_checkpoint(ledger_dir(ctx), sign=sign)
    if as_json:
        click.echo(json.dumps(cp.to_dict(), ensure_ascii=False))
        return
    signed = "signed" if cp.signed else "unsigned"
    click.echo(
        f"checkpoint #{cp.sequence} {cp.id[:12]} ({signed}): "
        f"{plural(len(cp.sessions), 'session')}, {plural(cp.total_entries, 'entry')}"
    )


@click.command("verify")
@click.option(
    "--since-checkpoint",
    "since",
    metavar="ID",
    help="Check only what was added after this checkpoint (id, prefix, or #N).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "--no-accept",
    is_flag=True,
    help="Do not remember the newest checkpoint as accepted when the ledger is clean.",
)
@click.option(
    "--remote",
    metavar="NAME",
    help="Also check every session against the newest checkpoint of this central "
    "(fetched read-only): catches entries erased after they were pushed.",
)
@click.pass_context
def verify_cmd(
    ctx: click.Context, since: str | None, as_json: bool, no_accept: bool, remote: str | None
) -> None:
    """Check that the ledger holds exactly what was written; exit 0 only when clean.

    Re-hashes every object, checks each entry against its commit, each session against
    every checkpoint, and each checkpoint's signature; lists what it cannot vouch for.
    Exit status: 0 clean, 1 problems found (or no ledger there), 2 usage errors.

    \b
    Example:
      git ledger verify
      git ledger verify --since-checkpoint '#12' --json
      git ledger verify --remote origin
    """
    if remote is not None:
        if since is not None:
            raise click.UsageError("--remote checks the whole ledger: drop --since-checkpoint")
        report = verify_remote(ledger_dir(ctx), remote, accept=not no_accept)
    else:
        report = verify_ledger(ledger_dir(ctx), since_checkpoint=since, accept=not no_accept)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print_report(report)
    sys.exit(0 if report.ok else 1)


def _print_report(report: VerifyReport) -> None:
    colour = "green" if report.ok else "red"
    click.echo(style(verify_verdict(report), fg=colour, bold=True) + f" — {verify_summary(report)}")
    if not report.ok:
        print_table(
            ["PROBLEM", "CONCERNS", "DETAIL"],
            [(f.code, f.subject, f.message) for f in report.problems],
        )
    if report.unvouched:
        click.echo("")
        click.echo("Cannot vouch for:")
        print_table(
            ["NOTE", "CONCERNS", "DETAIL"],
            [(f.code, f.subject, f.message) for f in report.unvouched],
        )


def register(group: click.Group) -> None:
    """Add ``checkpoint`` and ``verify``."""
    group.add_command(checkpoint_cmd)
    group.add_command(verify_cmd)
