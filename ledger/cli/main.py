"""The ``git-ledger`` command (also ``git ledger`` and ``python -m ledger``).

Each command is a thin shell over one library call: parse options, call the API, format
the result. Commands live in ``ledger/cli/<area>.py``, each with a ``register(group)``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import MutableMapping
from typing import Any, NoReturn

import click

from ledger import __version__
from ledger.capture.spool import start_if_pending
from ledger.errors import InputError, LedgerError, NotFoundError

COMMANDS: dict[str, str] = {
    "log": "write", "run": "write", "demo": "demo",
    "file-history": "read", "recent": "read", "search": "read", "session": "read",
    "sessions": "read", "show": "read",
    "audit": "reports", "patterns": "reports", "stats": "reports",
    "import": "importing", "archive": "storage", "export": "storage", "maintenance": "storage",
    "metrics": "metrics", "hooks": "hooks", "agent": "agents",
    "checkpoint": "trust", "verify": "trust", "pull": "sync", "push": "sync", "remote": "sync",
    "restore": "undo", "revert": "undo", "completion": "completion", "why": "why",
    "enable": "setup", "status": "setup",
}
"""Each command and the module of ``ledger/cli`` that registers it: a command's module is
imported when the command runs, so one command does not pay for importing all the others."""

EPILOG = """\b
Examples:
  git ledger demo                      record a scripted agent session
  git ledger recent --hours 24         what agents did today
  git ledger --ledger ./l.git sessions list the sessions of another ledger
  git ledger export - | jq '.[0]'      entries as JSON on standard output
  eval "$(git ledger completion bash)" tab completion in this shell
"""


class LedgerGroup(click.Group):
    """A group that turns a LedgerError into one line on stderr and an exit code.

    Exit codes: 2 for bad input (click's usage errors too, also told in one line), 1 for
    nothing there (no ledger yet, unknown entry id or session), 3 for any other failure
    (storage, locks).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            _register(self, COMMANDS[cmd_name])
        return self.commands.get(cmd_name)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # a bad global option
            usage_error(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as exc:
            click.echo(f"git-ledger: error: {exc}", err=True)
            sys.exit(exit_code(exc))
        except BrokenPipeError:  # the reader (head, a pager) stopped early: not an error
            _quiet_stdout()
            sys.exit(0)
        except click.UsageError as exc:  # an unknown command, a bad option or argument
            usage_error(exc)


def _register(group: click.Group, module: str) -> None:
    """Register ``module``'s commands on ``group`` unless they are there already."""
    if any(m == module and n not in group.commands for n, m in COMMANDS.items()):
        importlib.import_module(f"ledger.cli.{module}").register(group)


def load_commands() -> MutableMapping[str, click.Command]:
    """Every command, registered (for help pages, docs checks and completion walks)."""
    for module in sorted(set(COMMANDS.values())):
        _register(main, module)
    return main.commands


def usage_error(exc: click.UsageError) -> NoReturn:
    """Say what was wrong with the command line in one line, like every other error."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # no command given: click shows the help
        raise exc
    where = exc.ctx.command_path if exc.ctx is not None else "git-ledger"
    message = exc.format_message().rstrip(".")
    click.echo(f"git-ledger: error: {message} (see '{where} -h')", err=True)
    sys.exit(exc.exit_code)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's exit does not fail flushing a closed pipe."""
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def exit_code(exc: LedgerError) -> int:
    """The exit code the CLI uses for a library error: 2 input, 1 not found, 3 the rest."""
    if isinstance(exc, InputError):
        return 2
    if isinstance(exc, NotFoundError):
        return 1
    return 3


@click.group(
    cls=LedgerGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--ledger",
    "ledger_dir",
    metavar="PATH",
    envvar="GIT_LEDGER_DIR",
    help="Ledger repository (default: $GIT_LEDGER_DIR, git config ledger.dir, "
    "~/.local/share/git-ledger/ledger.git).",
)
@click.option(
    "--no-pager",
    is_flag=True,
    envvar="GIT_LEDGER_NO_PAGER",
    help="Never page output (default: long output on a terminal goes through "
    "$GIT_LEDGER_PAGER, $PAGER or less -FRX).",
)
@click.version_option(__version__, prog_name="git-ledger")
@click.pass_context
def main(ctx: click.Context, ledger_dir: str | None, no_pager: bool) -> None:
    """git-ledger: a git-native change ledger for AI agents.

    Every action an agent records is a commit on refs/heads/sessions/<session> of a bare
    repository, so plain git log and git show read the ledger too.
    """
    ctx.obj = {"ledger_dir": ledger_dir, "no_pager": no_pager}
    if ctx.invoked_subcommand != "hooks":
        start_if_pending(ledger_dir)  # events a git hook queued and nobody recorded
