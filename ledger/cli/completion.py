"""CLI command ``completion``: the shell script that tab-completes git-ledger."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
_INSTALL = {
    "bash": 'eval "$(git-ledger completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(git-ledger completion zsh)"    # in ~/.zshrc',
    "fish": "git-ledger completion fish > ~/.config/fish/completions/git-ledger.fish",
}


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion_cmd(ctx: click.Context, shell: str) -> None:
    """Print the script that tab-completes git-ledger's commands and options in SHELL.

    \b
    Example:
      eval "$(git-ledger completion bash)"     # add to ~/.bashrc
      eval "$(git-ledger completion zsh)"      # add to ~/.zshrc
      git-ledger completion fish > ~/.config/fish/completions/git-ledger.fish
    """
    click.echo(completion_script(ctx.find_root().command, shell), nl=False)


def completion_script(command: click.Command, shell: str) -> str:
    """click's completion script for ``git-ledger`` in ``shell``.

    The script asks ``git-ledger`` itself for completions (``_GIT_LEDGER_COMPLETE``), so
    it stays right as commands change.
    """
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - every name in SHELLS is one click knows
        raise click.BadParameter(f"no completion for {shell}")
    script = cls(command, {}, "git-ledger", "_GIT_LEDGER_COMPLETE").source()
    return f"# git-ledger {shell} completion; install: {_INSTALL[shell]}\n{script.rstrip()}\n"


def register(group: click.Group) -> None:
    """Add ``completion``."""
    group.add_command(completion_cmd)
