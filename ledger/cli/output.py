"""Where command output goes on a terminal: through a pager, fitted to the window.

Like git and gh, long output on a terminal goes through ``$GIT_LEDGER_PAGER``, else
``$PAGER``, else ``less -FRX`` (which quits at once when the text fits one screen);
``--no-pager``, an empty pager or ``cat`` turn it off, and piped output is never paged.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator

import click

_state = {"terminal": False, "width": 0}


def on_terminal() -> bool:
    """True when what the command prints ends up on a terminal (directly or via a pager)."""
    return bool(_state["terminal"]) or sys.stdout.isatty()


def terminal_width() -> int | None:
    """The terminal's width in columns, or None when output is not going to a terminal."""
    if _state["terminal"]:
        return int(_state["width"])
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((80, 24)).columns


def pager_command() -> str | None:
    """The pager to run, or None for no pager."""
    for key in ("GIT_LEDGER_PAGER", "PAGER"):
        value = os.environ.get(key)
        if value is not None:
            return None if value.strip() in ("", "cat") else value
    return "less" if shutil.which("less") else None


@contextlib.contextmanager
def paged(ctx: click.Context) -> Iterator[None]:
    """Send stdout through the pager for the rest of the command (when on a terminal)."""
    root = ctx.find_root().obj or {}
    command = pager_command()
    if root.get("no_pager") or command is None or not sys.stdout.isatty():
        yield
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # quit if one screen, keep colours, leave the screen as is
    width = shutil.get_terminal_size((80, 24)).columns
    try:
        proc = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, env=env)
    except OSError:
        yield  # a missing pager is no reason to lose the output
        return
    assert proc.stdin is not None
    saved = sys.stdout
    sys.stdout = io.TextIOWrapper(proc.stdin, encoding="utf-8", errors="replace",
                                  line_buffering=False)
    _state.update(terminal=True, width=width)
    try:
        yield
    except BrokenPipeError:
        pass  # the reader quit the pager early
    finally:
        _state.update(terminal=False, width=0)
        with contextlib.suppress(BrokenPipeError, ValueError):
            sys.stdout.flush()
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            sys.stdout.close()
        sys.stdout = saved
        proc.wait()


def use_pager(ctx: click.Context) -> None:
    """Page the rest of this command's output (a no-op off a terminal)."""
    ctx.with_resource(paged(ctx))
