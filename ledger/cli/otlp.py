"""The OTLP side of ``export``: ``--format otlp`` to ``-``, ``--otlp-endpoint`` and ``--follow``."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from ledger.lifecycle.storage import LogStorage


def wants_otlp(
    output_file: str | None, endpoint: str | None, follow: bool, fmt: str = "otlp"
) -> bool:
    """True when ``export`` should stream or send OTLP rather than write a file.

    ``-`` in any other format is plain standard output (``git ledger export - | jq``).
    """
    if endpoint is not None or follow or output_file is None:
        return True
    return output_file == "-" and fmt == "otlp"


def run_otlp(
    storage: LogStorage,
    output_file: str | None,
    fmt: str,
    endpoint: str | None,
    follow: bool,
    interval: float,
    query: dict[str, Any],
) -> None:
    """Stream OTLP/JSON lines to stdout or send spans to a receiver, then maybe follow."""
    if output_file not in (None, "-"):
        if endpoint is not None:
            raise click.UsageError("give OUTPUT_FILE or --otlp-endpoint, not both")
        raise click.UsageError("--follow needs --otlp-endpoint URL or OUTPUT_FILE '-'")
    if output_file == "-" and fmt != "otlp":
        raise click.UsageError("only --format otlp streams to '-' here")
    if interval <= 0:
        raise click.UsageError("--interval must be a positive number of seconds")
    to_stdout = output_file == "-"

    def report(sent: dict[str, int]) -> None:
        if not to_stdout:
            click.echo(f"Sent {sent['entries']} entries ({sent['spans']} spans) "
                       f"to {sent.get('endpoint', 'the receiver')}", err=True)

    with contextlib.suppress(KeyboardInterrupt):  # --follow ends with Ctrl-C; sent stays sent
        storage.export_otlp(
            endpoint=endpoint,
            stream=sys.stdout if to_stdout else None,
            follow_interval=interval if follow else None,
            on_sent=report,
            **query,
        )
