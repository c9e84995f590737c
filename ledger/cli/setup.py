"""``git ledger enable`` (git hooks and agent hooks in one step) and ``git ledger status``."""

from __future__ import annotations

import json
from typing import Any

import click

from ledger.capture.agents.registry import ADAPTERS
from ledger.capture.setup import enable, status
from ledger.cli.common import ledger_dir

_REPO = click.option("--repo", metavar="PATH",
                     help="The git repository (default: the one around the current folder).")


@click.command("enable")
@_REPO
@click.option("--agent", "agents", type=click.Choice(sorted(ADAPTERS)), multiple=True,
              help="Also install this agent's hooks, configured here or not (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def enable_cmd(ctx: click.Context, repo: str | None, agents: tuple[str, ...],
               as_json: bool) -> None:
    """Record a repository: install its git hooks and the hooks of every agent set up for it.

    An agent counts as set up when its folder is in the repository's top folder (.claude/,
    .codex/, .cursor/, .github/hooks/, .opencode/, .gemini/). Each agent's own settings are
    merged, not replaced; the hook command is the git-ledger on PATH. Running it again is
    harmless.

    \b
    Example:
      git ledger enable
      git ledger enable --agent claude-code --agent codex
    """
    result = enable(repo, ledger_dir(ctx), agents)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"repository: {result['repository']}")
    click.echo(f"ledger: {result['ledger_dir']}")
    for hook in result["git_hooks"]:
        detail = f" ({hook['detail']})" if hook["detail"] else ""
        click.echo(f"  git hook {hook['hook']}: {hook['action']}{detail}")
    for row in result["agents"]:
        click.echo(f"  {row['agent']}: installed in {row['settings']}")
    if not result["agents"]:
        click.echo("  no agent configured here (use --agent NAME to install one anyway)")


@click.command("status")
@_REPO
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status_cmd(ctx: click.Context, repo: str | None, as_json: bool) -> None:
    """Show what records this repository: hooks, where events go, what waits, what is wrong.

    Exits 1 when there is a problem (each one is a line under "problems").

    \b
    Example:
      git ledger status
      git ledger status --json | jq .problems
    """
    result = status(repo, ledger_dir(ctx))
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print(result)
    if result["problems"]:
        ctx.exit(1)


def _print(result: dict[str, Any]) -> None:
    hooks = result["git_hooks"]
    click.echo(f"repository: {result['repository']}")
    click.echo(f"events go to: {result['ledger_dir']}"
               + ("" if result["ledger_exists"] else " (not created yet)"))
    states = ", ".join(f"{h['hook']} {h['state']}" for h in hooks["hooks"])
    click.echo(f"git hooks: {states}")
    spool = result["agent_spool"]
    click.echo(f"pending: {spool['pending'] + hooks['pending']} events "
               f"({spool['failed'] + hooks['failed']} failed)")
    for row in result["agents"]:
        where = ", ".join(f"{i['scope']} {i['settings']}" for i in row["installed"])
        last = row["last_event"]
        seen = f"; last event {last['event'] or '?'} {last['status']} at {last['time']}" \
            if last else ""
        state = f"installed ({where})" if where else (
            "configured, not installed" if row["configured"] else "not installed")
        click.echo(f"  {row['agent']}: {state}{seen}")
    if result["problems"]:
        click.echo("problems:")
        for line in result["problems"]:
            click.echo(f"  - {line}")
    else:
        click.echo("no problems")


def register(group: click.Group) -> None:
    """Add ``enable`` and ``status``."""
    group.add_command(enable_cmd)
    group.add_command(status_cmd)
