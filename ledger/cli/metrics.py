"""CLI commands ``metrics serve``, ``metrics export`` and ``metrics health``."""

from __future__ import annotations

import sys
from typing import Any

import click

from ledger.cli.common import ledger_dir, print_json_lines, print_table, style
from ledger.cli.numbers import MEGABYTES, WINDOW_HOURS, Count
from ledger.errors import InvalidInputError
from ledger.metrics import (
    DEFAULT_PATH,
    DEFAULT_PORT,
    HEALTH_CODES,
    HEALTH_PATH,
    STANDARD_PATH,
    TOP_FILES_PATH,
    LogMetrics,
)
from ledger.metrics import make_server as _make_server

_COLOURS = {"healthy": "green", "warning": "yellow", "critical": "red"}


@click.group("metrics")
def metrics_group() -> None:
    """Prometheus metrics and health of the ledger.

    \b
    Example:
      git ledger metrics serve
      git ledger metrics export /var/lib/node_exporter/textfile/git_ledger.prom
      git ledger metrics health
    """


@metrics_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=Count(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--path", default=DEFAULT_PATH, show_default=True,
              help="The scrape path (/metrics is always served too).")
@click.option("--max-storage-mb", type=MEGABYTES, default=500, show_default=True,
              help="Storage budget that usage is measured against.")
@click.option("--window-hours", type=WINDOW_HOURS, default=24, show_default=True,
              help="Window of the rate and error-ratio gauges.")
@click.pass_context
def serve_cmd(
    ctx: click.Context, host: str, port: int, path: str, max_storage_mb: float, window_hours: float
) -> None:
    """Serve metrics over HTTP for Prometheus to scrape (until Ctrl-C).

    Also serves the most-changed files as JSON at /api/top-files?hours=24&limit=10 (the
    Grafana dashboard's table) and the health status at /api/health.

    \b
    Example:
      git ledger metrics serve              # http://127.0.0.1:10058/metrics
    """
    metrics = LogMetrics(ledger_dir(ctx), max_storage_mb=max_storage_mb, window_hours=window_hours)
    metrics.store.repo  # noqa: B018  (a missing ledger fails now, not at the first scrape)
    try:
        server = _make_server(metrics, host, port, path)
    except OSError as exc:
        raise InvalidInputError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    bound = server.server_address[1]
    click.echo(f"Serving http://{host}:{bound}{path} (also {STANDARD_PATH}, {TOP_FILES_PATH}, "
               f"{HEALTH_PATH}); Ctrl-C stops", err=True)
    _serve_until_interrupted(server)


def _serve_until_interrupted(server: Any) -> None:
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@metrics_group.command("export")
@click.argument("output_file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--max-storage-mb", type=MEGABYTES, default=500, show_default=True)
@click.pass_context
def export_cmd(ctx: click.Context, output_file: str, max_storage_mb: float) -> None:
    """Write the metrics to a .prom file atomically (node_exporter's textfile collector).

    OUTPUT_FILE - is standard output; a device or named pipe is written through, a
    symbolic link or other non-regular file is refused.

    \b
    Example:
      git ledger metrics export /var/lib/node_exporter/textfile/git_ledger.prom
      git ledger metrics export - | grep sessions
    """
    metrics = LogMetrics(ledger_dir(ctx), max_storage_mb=max_storage_mb)
    metrics.store.repo  # noqa: B018
    text = metrics.export_prometheus_metrics(output_file)
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    if output_file != "-":
        click.echo(f"Wrote {series} series to {output_file}")


@metrics_group.command("health")
@click.option("--window-hours", type=WINDOW_HOURS, default=24, show_default=True)
@click.option("--max-storage-mb", type=MEGABYTES, default=500, show_default=True)
@click.option("--deep", is_flag=True, help="Also run git fsck (slower).")
@click.option("--json", "as_json", is_flag=True, help="One JSON line for programs.")
@click.pass_context
def health_cmd(
    ctx: click.Context, window_hours: float, max_storage_mb: float, deep: bool, as_json: bool
) -> None:
    """Say whether the ledger is healthy; exit 0 healthy, 1 warning, 2 critical.

    Checks the error rate over the window, storage against the budget, time since the
    last entry, and that every session tip is readable (--deep: git fsck).

    \b
    Example:
      git ledger metrics health --deep || alert "ledger needs attention"
    """
    metrics = LogMetrics(ledger_dir(ctx), max_storage_mb=max_storage_mb)
    metrics.store.repo  # noqa: B018
    health = metrics.get_health_status(window_hours, deep=deep)
    if as_json:
        print_json_lines([{k: v for k, v in health.items() if k != "metrics"}])
    else:
        status = health["status"]
        click.echo(style(status.upper(), fg=_COLOURS[status], bold=True) + "  " + health["message"])
        print_table(
            ["CHECK", "STATUS", "DETAIL"],
            [(name, c["status"], c["message"]) for name, c in health["checks"].items()],
        )
    sys.exit(HEALTH_CODES[health["status"]])


def register(group: click.Group) -> None:
    """Add the ``metrics`` group."""
    group.add_command(metrics_group)
