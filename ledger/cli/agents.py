"""CLI commands: ``agent <name>``, ``agent install`` and ``agent uninstall`` (docs/agents.md)."""

from __future__ import annotations

import json

import click

from ledger.capture.agents import ADAPTERS, serve_stdin
from ledger.cli.common import ledger_dir

NAMES = sorted(ADAPTERS)


@click.group("agent")
def agent_group() -> None:
    """Record what coding agents do, from the agents' own hooks.

    \b
    Example:
      git ledger agent install claude-code      add our hooks to .claude/settings.json
      echo '{...event...}' | git ledger agent claude-code
    """


def _adapter_command(name: str) -> click.Command:
    @click.command(name)
    @click.option("--verbose", "-v", is_flag=True, help="Say on stderr what was recorded.")
    @click.pass_context
    def handle(ctx: click.Context, verbose: bool) -> None:
        # Exit 0 whatever happened: a ledger problem never blocks the agent.
        serve_stdin(ADAPTERS[name], ledger_dir(ctx), verbose)

    handle.help = (
        f"Read one {ADAPTERS[name].display} hook event (JSON on stdin) and record it; "
        f"always exits 0.\n\n\b\nExample:\n  git ledger agent {name} < event.json"
    )
    return handle


scope_options = [
    click.option(
        "--project",
        "scope",
        flag_value="project",
        default=True,
        help="The project's settings in the current folder (default).",
    ),
    click.option("--user", "scope", flag_value="user", help="The user's own settings."),
]


def _scoped(f: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(scope_options):
        f = option(f)
    return f


@agent_group.command("install")
@click.argument("agent", type=click.Choice(NAMES))
@_scoped
@click.option("--python", metavar="PATH", help="Python the hooks run (default: this one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def install_cmd(
    ctx: click.Context, agent: str, scope: str, python: str | None, as_json: bool
) -> None:
    """Merge git-ledger's hook entries into an agent's settings file.

    Claude Code: .claude/settings.json; Gemini CLI: .gemini/settings.json; Codex CLI:
    .codex/hooks.json; Cursor: .cursor/hooks.json; Copilot CLI: .github/hooks/git-ledger.json
    (project only); OpenCode: .opencode/plugins/git-ledger.js (in the current folder with
    --project, in your home folder with --user). The hook command is the git-ledger on PATH.

    Other settings and hooks stay as they are; running it again replaces only ours.

    \b
    Example:
      git ledger agent install claude-code --project
    """
    path = ADAPTERS[agent].install(scope, None, ledger_dir(ctx), python)
    if as_json:
        click.echo(json.dumps({"agent": agent, "settings": str(path), "action": "installed"}))
    else:
        click.echo(f"installed {agent} hooks in {path}")


@agent_group.command("uninstall")
@click.argument("agent", type=click.Choice(NAMES))
@_scoped
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def uninstall_cmd(agent: str, scope: str, as_json: bool) -> None:
    """Remove git-ledger's hook entries (and only those) from an agent's settings file.

    \b
    Example:
      git ledger agent uninstall claude-code --user
    """
    path, removed = ADAPTERS[agent].uninstall(scope)
    if as_json:
        click.echo(json.dumps({"agent": agent, "settings": str(path), "removed": removed}))
    else:
        click.echo(f"removed {removed} {agent} hook entries from {path}")


@agent_group.command("drain")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def drain_cmd(ctx: click.Context, as_json: bool) -> None:
    """Record every agent event the hooks spooled now, waiting for a running drainer.

    Agent hooks return at once and a background drainer records their events within
    seconds; this records what is left (after a crash, say) before you read the ledger.

    \b
    Example:
      git ledger agent drain
    """
    from ledger.capture.agents.spool import drain, failed
    from ledger.location import resolve_ledger_dir

    ledger = resolve_ledger_dir(ledger_dir(ctx))
    done = drain(ledger, wait=True) or 0
    left = len(failed(ledger))
    if as_json:
        click.echo(json.dumps({"recorded": done, "failed": left}))
    else:
        click.echo(
            f"recorded {done} spooled agent events" + (f"; {left} set aside" if left else "")
        )


for _name in NAMES:
    agent_group.add_command(_adapter_command(_name))


def register(group: click.Group) -> None:
    """Add ``agent`` (one command per agent, install, uninstall)."""
    group.add_command(agent_group)
