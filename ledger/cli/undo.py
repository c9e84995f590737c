"""CLI commands: ``restore`` and ``revert`` (see docs/cli.md and docs/undo.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from ledger.cli.common import ledger_dir, print_json_lines, print_table, style
from ledger.errors import UndoConflictError
from ledger.undo.plan import FileAction, UndoResult
from ledger.undo.restore import Restorer
from ledger.write.logger import ChangeLogger


def _restorer(
    ctx: click.Context,
    workdir: str | None,
    allow_outside: bool,
    session: str | None,
    agent: str | None,
) -> Restorer:
    logger = None
    if session is not None:
        logger = ChangeLogger(
            ledger_dir=ledger_dir(ctx), agent_id=agent, session_id=session, workdir=workdir
        )
    return Restorer(
        ledger_dir=ledger_dir(ctx),
        workdir=workdir,
        logger=logger,
        allow_outside=allow_outside,
        agent_id=agent,
    )


def _short(value: str | None) -> str:
    return value[:12] if value else "-"


def _note(action: FileAction, result: UndoResult) -> str:
    if action.conflict is not None:
        return ("forced: " if result.written else "conflict: ") + action.conflict
    return action.note or ""


def _print_plan(result: UndoResult) -> None:
    rows = [
        (a.action, a.path, _short(a.from_hash), _short(a.to_hash), _note(a, result))
        for a in result.plan
    ]
    if rows:
        print_table(["ACTION", "PATH", "FROM", "TO", "NOTE"], rows)


def _report(result: UndoResult, as_json: bool) -> None:
    """Print the plan (and diffs for a dry run), then exit 1 if a dry run found conflicts."""
    if as_json:
        _json(result)
    else:
        _print_plan(result)
        if result.dry_run:
            diff = result.diff()
            if diff:
                click.echo()
                click.echo(diff, nl=False)
        elif result.written:
            click.echo(
                f"restored {len(result.written)} file(s); recorded in session "
                f"{result.session_id} (undo it: git ledger revert {result.session_id})"
                if result.session_id
                else f"wrote {len(result.written)} file(s)"
            )
        else:
            click.echo("nothing to do: every file already is in that state")
    if result.dry_run and result.conflicts:
        _conflicts(result.conflicts, "--force would overwrite them")


def _json(result: UndoResult) -> None:
    written = {id(a) for a in result.written}
    print_json_lines(
        {**a.to_dict(), "written": id(a) in written, "session_id": result.session_id}
        for a in result.plan
    )


def _conflicts(conflicts: list[FileAction], tail: str) -> None:
    for action in conflicts:
        click.echo(
            style(f"git-ledger: conflict: {action.path}: {action.conflict}", err=True, fg="red"),
            err=True,
        )
    click.echo(f"git-ledger: {tail}", err=True)
    sys.exit(1)


def _guarded(call: Callable[[], UndoResult], as_json: bool) -> None:
    try:
        result = call()
    except UndoConflictError as exc:
        written = exc.result.written if isinstance(exc.result, UndoResult) else []
        if as_json and isinstance(exc.result, UndoResult):
            _json(exc.result)
        tail = (
            f"{len(written)} file(s) were restored before that; --force overrides"
            if written
            else "nothing was written; --force overrides"
        )
        _conflicts([a for a in exc.conflicts if isinstance(a, FileAction)], tail)
        return
    _report(result, as_json)


_common = [
    click.option("--dry-run", is_flag=True, help="Print the plan and the diff of every write."),
    click.option("--force", is_flag=True, help="Overwrite files changed since they were recorded."),
    click.option(
        "--workdir",
        metavar="DIR",
        type=click.Path(file_okay=False, exists=True),
        help="The workspace the entries' paths are relative to (default: current folder).",
    ),
    click.option(
        "--allow-outside", is_flag=True, help="Also restore absolute paths outside the workspace."
    ),
    click.option(
        "--session",
        metavar="ID",
        envvar="GIT_LEDGER_SESSION",
        help="Record the undo in this session (default: a new undo-… session).",
    ),
    click.option("--agent", metavar="NAME", envvar="GIT_LEDGER_AGENT", help="Agent id to record."),
    click.option("--json", "as_json", is_flag=True, help="JSON lines, one per file."),
]


def _with_common(func: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_common):
        func = option(func)
    return func


@click.command("restore")
@click.argument("entry_id", metavar="ID")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option(
    "--before/--after",
    "before",
    default=True,
    help="Restore the state before the entry (undo, default) or after it (redo).",
)
@click.option(
    "--to",
    "to",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write the states under DIR instead of the workspace (nothing recorded).",
)
@_with_common
@click.pass_context
def restore_cmd(
    ctx: click.Context,
    entry_id: str,
    paths: tuple[str, ...],
    before: bool,
    to: str | None,
    dry_run: bool,
    force: bool,
    workdir: str | None,
    allow_outside: bool,
    session: str | None,
    agent: str | None,
    as_json: bool,
) -> None:
    """Put files back as they were at an entry (its own file, or PATHs).

    Before-state by default: an entry that created a file is undone by removing it, one
    that deleted a file by bringing it back. A file changed since the ledger recorded it
    is a conflict: nothing is written, exit code 1, unless --force.

    \b
    Example:
      git ledger restore 3f2a9c1 --dry-run
      git ledger restore 3f2a9c1 src/app.py --after
    """
    restorer = _restorer(ctx, workdir, allow_outside, session, agent)
    _guarded(
        lambda: restorer.restore(
            entry_id,
            list(paths) or None,
            which="before" if before else "after",
            to=to,
            dry_run=dry_run,
            force=force,
        ),
        as_json,
    )


@click.command("revert")
@click.argument("session_id", metavar="SESSION")
@click.option("--since", metavar="ID", help="Only revert the session's entries from ID on.")
@_with_common
@click.pass_context
def revert_cmd(
    ctx: click.Context,
    session_id: str,
    since: str | None,
    dry_run: bool,
    force: bool,
    workdir: str | None,
    allow_outside: bool,
    session: str | None,
    agent: str | None,
    as_json: bool,
) -> None:
    """Roll back every file a session touched to its state before the session.

    Files the session created are removed, files it deleted come back. The undo is
    recorded in a session of its own, which can itself be reverted.

    \b
    Example:
      git ledger revert 20251105T173045Z-1a2b3c4d --dry-run
      git ledger revert 20251105T173045Z-1a2b3c4d --since 3f2a9c1
    """
    restorer = _restorer(ctx, workdir, allow_outside, session, agent)
    _guarded(
        lambda: restorer.revert_session(session_id, since=since, dry_run=dry_run, force=force),
        as_json,
    )


def register(group: click.Group) -> None:
    """Add ``restore`` and ``revert``."""
    group.add_command(restore_cmd)
    group.add_command(revert_cmd)
