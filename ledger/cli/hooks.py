"""CLI commands: ``hooks install|uninstall|status|drain`` (see docs/cli.md and docs/hooks.md)."""

from __future__ import annotations

import json
from typing import Any

import click

from ledger._words import plural
from ledger.capture import githooks as hooks_lib
from ledger.cli.common import ledger_dir, print_json_lines, print_table, style
from ledger.cli.numbers import count

repo_option = click.option(
    "--repo",
    metavar="PATH",
    default=None,
    help="The git repository (default: the one around the current folder).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")


@click.group("hooks")
def hooks_group() -> None:
    """Git hooks that record every commit, push and rewrite of a repository.

    \b
    Example:
      git ledger hooks install
      git commit -m "Fix the parser"
      git ledger hooks status
    """


@hooks_group.command("install")
@repo_option
@click.option("--python", metavar="PATH", help="Python the hooks run (default: this one).")
@json_option
@click.pass_context
def install_cmd(ctx: click.Context, repo: str | None, python: str | None, as_json: bool) -> None:
    """Install the post-commit, post-merge, post-applypatch, pre-push and post-rewrite hooks.

    Hooks already there keep running (moved aside and chained); running install again is
    harmless and upgrades hooks whose script changed. For a repository whose hooks a
    manager owns (pre-commit, husky), nothing is overwritten: the line to add is printed.

    \b
    Example:
      git ledger hooks install --repo ~/src/project
    """
    _print_actions(hooks_lib.install(repo, ledger_dir(ctx), python), as_json)


def _print_actions(actions: list[hooks_lib.HookAction], as_json: bool) -> None:
    """What install or uninstall did to each hook: a table, or JSON lines."""
    if as_json:
        print_json_lines(a.to_dict() for a in actions)
        return
    print_table(["HOOK", "ACTION", "PATH"], [(a.hook, a.action, a.path) for a in actions])
    for a in actions:
        if a.detail:
            click.echo(f"{a.hook}: {a.detail}")


@hooks_group.command("uninstall")
@repo_option
@json_option
def uninstall_cmd(repo: str | None, as_json: bool) -> None:
    """Remove git-ledger's hooks and put back the hooks they had moved aside.

    \b
    Example:
      git ledger hooks uninstall --repo ~/src/project
    """
    _print_actions(hooks_lib.uninstall(repo), as_json)


@hooks_group.command("status")
@repo_option
@click.option("--failures", type=count(0), default=5, show_default=True,
              help="How many failures to show.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def status_cmd(ctx: click.Context, repo: str | None, failures: int, as_json: bool) -> None:
    """Show the hooks' state, events waiting to be recorded, and recent failures.

    \b
    Example:
      git ledger hooks status
    """
    info = hooks_lib.status(repo, ledger_dir(ctx), failures)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False))
        return
    _print_status(info)


def _print_status(info: dict[str, Any]) -> None:
    click.echo(f"repository: {info['repository']}")
    click.echo(f"hooks:      {info['hooks_dir']}")
    click.echo(f"ledger:     {info['ledger_dir']}")
    print_table(
        ["HOOK", "STATE", "CHAINED"],
        [(h["hook"], h["state"], "yes" if h["chained"] else "") for h in info["hooks"]],
    )
    click.echo(f"pending events: {info['pending']}   set aside: {info['failed']}")
    if info["failure_count"]:
        click.echo(style(f"failures: {info['failure_count']} (latest last)", fg="red"))
        for line in info["failures"]:
            click.echo(f"  {line}")
    else:
        click.echo("failures: none")


@hooks_group.command("drain")
@repo_option
@click.option("--git-dir", metavar="PATH", help="Also drain this git dir's fallback spool.")
@click.option("--wait", is_flag=True, help="Wait for a running drainer instead of leaving.")
@click.option("--detach", is_flag=True, hidden=True)
@click.pass_context
def drain_cmd(
    ctx: click.Context, repo: str | None, git_dir: str | None, wait: bool, detach: bool
) -> None:
    """Record the events the hooks queued (the hooks start this in the background).

    \b
    Example:
      git ledger hooks drain --wait
    """
    from ledger.capture import drain as drain_lib
    from ledger.capture.repo import find_repo
    from ledger.location import resolve_ledger_dir

    if detach:
        drain_lib.detach()
    if repo is not None and git_dir is None:
        git_dir = str(find_repo(repo).common_dir)
    report = drain_lib.drain(
        resolve_ledger_dir(ledger_dir(ctx)),
        git_dir,
        wait=wait,
        linger=drain_lib.linger_seconds() if detach else 0.0,
    )
    if not detach:
        click.echo(_drain_sentence(report))


def _drain_sentence(report: Any) -> str:
    return (
        f"recorded {plural(report.events, 'event')} as {plural(report.entries, 'entry')}; "
        f"kept {report.kept}, set aside {report.failed}"
        + ("; another drainer is running" if report.busy else "")
    )


def register(group: click.Group) -> None:
    """Add ``hooks`` (install, uninstall, status, drain)."""
    group.add_command(hooks_group)
