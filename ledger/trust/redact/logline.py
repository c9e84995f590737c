"""Log files the ledger writes: every line goes through the same secret redaction first.

The agent hook logs, ``ledger-hooks.log``, ``ledger-sync.log``, ``ledger-recovery.log`` and
the background workers' logs (``ledger-maintenance.log``) receive error messages, and an
error can quote what it failed on: a token in a payload, a URL, a command line. Each writer
appends through :func:`append_line` (or a worker's output through :class:`LogStream`), so
secrets become markers there as they do in entries. Writing a log line never raises.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import secrets
import threading
from pathlib import Path

import pygit2

from ledger._layout import KEY_FILE
from ledger.trust.redact.config import ledger_settings
from ledger.trust.redact.engine import Redactor
from ledger.trust.redact.keyfile import load_key

_CACHE: dict[str, Redactor] = {}
_LOCK = threading.Lock()


def log_redactor(ledger: Path | None) -> Redactor:
    """The redactor for a ledger's logs: its key and rules (default ones, and a random key,
    when there is no ledger to read them from)."""
    name = str(ledger) if ledger is not None else ""
    with _LOCK:
        found = _CACHE.get(name)
        if found is not None:
            return found
    redactor: Redactor | None = None
    if ledger is not None and (ledger / "config").is_file():
        with contextlib.suppress(Exception):
            _on, rules, paths, keys = ledger_settings(pygit2.Config(str(ledger / "config")))
            key = load_key(ledger) if (ledger / KEY_FILE).exists() else secrets.token_bytes(32)
            redactor = Redactor(key, rules, paths, keys)
    if redactor is None:
        redactor = Redactor(secrets.token_bytes(32))
    with _LOCK:
        _CACHE[name] = redactor
    return redactor


def clean(text: str, ledger: Path | None = None, *, one_line: bool = True) -> str:
    """``text`` with its secrets replaced by markers (and made one line unless told not to)."""
    with contextlib.suppress(Exception):
        text = log_redactor(ledger).text(text)[0]
    return " ".join(text.split()) if one_line else text


def append_line(
    log: Path,
    text: str,
    *,
    ledger: Path | None = None,
    stamp: bool = True,
    max_bytes: int | None = None,
) -> None:
    """Append ``text`` as one redacted line to ``log``; rotate it to ``<log>.1`` first when
    it is over ``max_bytes``. Never raises."""
    line = clean(text, ledger if ledger is not None else _ledger_of(log))
    if stamp:
        line = f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} {line}"
    with contextlib.suppress(OSError):
        if max_bytes is not None and log.exists() and log.stat().st_size > max_bytes:
            os.replace(log, log.with_name(log.name + ".1"))
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(line + "\n")


def _ledger_of(log: Path) -> Path | None:
    """The ledger a log file lives in (its folder, or the one above a log folder)."""
    for folder in (log.parent, log.parent.parent):
        if (folder / "config").is_file() and (folder / "objects").is_dir():
            return folder
    return None


class LogStream(io.TextIOBase):
    """A text stream (a worker's stdout and stderr) whose output reaches ``log`` redacted:
    what is written is kept until a line ends, then appended whole (tracebacks included)."""

    def __init__(self, log: Path, ledger: Path | None = None) -> None:
        super().__init__()
        self._log = log
        self._ledger = ledger
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, _, self._pending = self._pending.rpartition("\n")
            self._emit(done)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self._emit(text)

    def _emit(self, text: str) -> None:
        body = clean(text, self._ledger, one_line=False)
        with contextlib.suppress(OSError):
            fd = os.open(self._log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(body + "\n")
