"""CLI commands: ``remote`` (add, list, remove, init-central, install-guard), ``push``, ``pull``.

See docs/sync.md for setting up a central ledger.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ledger import sync
from ledger.cli.common import ledger_dir, print_json_lines, print_table, style
from ledger.cli.numbers import count


@click.group("remote")
def remote_group() -> None:
    """Manage the ledger's remotes (other ledgers, usually one central one).

    \b
    Example:
      git ledger remote add origin ssh://git@git.example.com/team/ledger.git
      git ledger push
    """


@remote_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--auto-push", is_flag=True, help="Push here in the background after writes.")
@click.pass_context
def remote_add(ctx: click.Context, name: str, url: str, auto_push: bool) -> None:
    """Add a remote that exchanges only session branches and refs/ledger/*.

    URLs are anything git understands (ssh://, git@host:path, https://, git://, file://).
    Credentials come from the SSH agent or a git credential helper, never the URL.

    \b
    Example:
      git ledger remote add origin git@git.example.com:team/ledger.git --auto-push
    """
    info = sync.add_remote(ledger_dir(ctx), name, url, auto_push=auto_push)
    click.echo(f"added remote {info.name} {info.url}" + (" (auto-push)" if info.auto_push else ""))


@remote_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def remote_list(ctx: click.Context, as_json: bool) -> None:
    """List the ledger's remotes (URLs shown without credentials).

    \b
    Example:
      git ledger remote list --json
    """
    remotes = sync.list_remotes(ledger_dir(ctx))
    if as_json:
        print_json_lines(r.to_dict() for r in remotes)
        return
    print_table(
        ["NAME", "AUTO-PUSH", "URL"],
        [(r.name, "yes" if r.auto_push else "", r.url) for r in remotes],
    )


@remote_group.command("remove")
@click.argument("name")
@click.pass_context
def remote_remove(ctx: click.Context, name: str) -> None:
    """Remove a remote; sessions already pulled from it stay in the ledger.

    \b
    Example:
      git ledger remote remove origin
    """
    sync.remove_remote(ledger_dir(ctx), name)
    click.echo(f"removed remote {name}")


@remote_group.command("init-central")
@click.argument("path", type=click.Path(file_okay=False))
def remote_init_central(path: str) -> None:
    """Create a central ledger: a bare repository that only ever grows.

    It refuses non-fast-forwards and deletions, checks every object received, and has the
    pre-receive guard installed. An existing bare repository is converted in place.

    \b
    Example:
      git ledger remote init-central /srv/git/ledger.git
    """
    where = sync.init_central(path)
    click.echo(f"central ledger ready at {where}")


@remote_group.command("install-guard")
@click.argument("path", type=click.Path(file_okay=False, exists=True))
def remote_install_guard(path: str) -> None:
    """Install the pre-receive guard in a repository (the central ledger).

    The guard refuses deletions, non-fast-forward updates and refs outside
    refs/heads/sessions/* and refs/ledger/*. It needs only sh and git on the server.

    \b
    Example:
      git ledger remote install-guard /srv/git/ledger.git
    """
    hook = sync.install_guard(path)
    click.echo(f"installed {hook}")


def _rows(result: Any, kind: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    if kind == "push":
        rows += [(ref, "sent", "") for ref in result.pushed]
        rows += [(ref, "remote ahead", "pull to get it") for ref in result.remote_ahead]
        rows += [(ref, "diverged", f"sent as {copy}") for ref, copy in result.diverged.items()]
        rows += [(ref, "REJECTED", why) for ref, why in result.rejected.items()]
        rows += [(ref, "not sent", why) for ref, why in result.skipped.items()]
    else:
        rows += [(ref, "new", "") for ref in result.created]
        rows += [(ref, "fast-forward", "") for ref in result.fast_forwarded]
        rows += [(ref, "local ahead", "push to send it") for ref in result.local_ahead]
        rows += [(ref, "diverged", f"kept as {copy}") for ref, copy in result.diverged.items()]
        rows += [(ref, "SKIPPED", why) for ref, why in result.skipped.items()]
        rows += [(ref, "REFUSED", why) for ref, why in result.refused.items()]
    return rows


@click.command("push")
@click.argument("name", required=False)
@click.option(
    "--batch-size",
    type=count(),
    default=sync.DEFAULT_BATCH,
    show_default=True,
    help="Refs per pack sent (an interruption loses at most one batch).",
)
@click.option("--progress/--no-progress", default=None, help="Batch progress on stderr.")
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
@click.pass_context
def push_cmd(
    ctx: click.Context, name: str | None, batch_size: int, progress: bool | None, as_json: bool
) -> None:
    """Send sessions the remote lacks; never forces, resumes where a failed push stopped.

    Exit code 0 when every update was accepted, 1 when the remote rejected some.

    \b
    Example:
      git ledger push origin
    """
    show = sys.stderr.isatty() if progress is None else progress

    def report(done: int, total: int) -> None:
        click.echo(f"sent {done}/{total} refs", err=True)

    result = sync.push(
        ledger_dir(ctx), name, batch_size=batch_size, progress=report if show else None
    )
    _print(result, "push", as_json)
    if not result.ok:
        sys.exit(1)


@click.command("pull")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
@click.pass_context
def pull_cmd(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Fetch the remote's sessions and fast-forward local ones; never moves a ref back.

    A session with a different history on each side keeps both: the remote's copy is
    stored as <id>--from-<remote>-<tip>. What the remote serves is checked first: a
    session ref that is not a line of well-formed entries of that session, or a checkpoint
    chain that is malformed, inconsistent with this ledger or unsigned where signing is
    configured, is REFUSED (named, with why) and the rest is taken in. Exit code 1 if some
    refs were skipped (a local writer held them; pull again to finish) or refused.

    \b
    Example:
      git ledger pull origin
    """
    result = sync.pull(ledger_dir(ctx), name)
    _print(result, "pull", as_json)
    if not result.ok:
        sys.exit(1)


def _print(result: Any, kind: str, as_json: bool) -> None:
    if as_json:
        print_json_lines([result.to_dict()])
        return
    rows = _rows(result, kind)
    if rows:
        print_table(["REF", "ACTION", "NOTE"], rows)
    moved = (
        len(result.pushed) if kind == "push" else len(result.created) + len(result.fast_forwarded)
    )
    verb = "sent to" if kind == "push" else "taken from"
    summary = f"{moved} refs {verb} {result.remote} ({result.url}), {result.up_to_date} up to date"
    if result.diverged:
        summary += f", {len(result.diverged)} diverged (kept under their own names)"
    click.echo(style(summary, bold=True) if result.ok else summary)


def register(group: click.Group) -> None:
    """Add ``remote``, ``push`` and ``pull``."""
    group.add_command(remote_group)
    group.add_command(push_cmd)
    group.add_command(pull_cmd)
