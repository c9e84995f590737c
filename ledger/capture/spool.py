"""The hooks' spool format: event files the git hooks queue, read, listed and set aside.

A hook writes one ``ev-*`` file (temp file + rename) and leaves; the drainer lists them oldest
first, reads each into a :class:`HookEvent`, and moves those it cannot record to ``failed/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import time
from pathlib import Path

from ledger._background import start_worker
from ledger._layout import SPOOL_DIR, SPOOL_FAILED_DIR
from ledger.errors import HookEventError
from ledger.location import resolve_ledger_dir

EVENT_MAGIC = "git-ledger-event 1"
EVENT_PREFIX = "ev-"
TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600
FAILURE_LOG = "ledger-hooks.log"  # in the ledger and in each repository's git dir


@dataclasses.dataclass(frozen=True)
class HookEvent:
    """One spooled hook event."""

    name: str
    hook: str
    time: dt.datetime
    fields: dict[str, str]
    args: list[str]
    stdin: str

    @property
    def git_dir(self) -> Path:
        return Path(self.fields["git_dir"])

    @property
    def common_dir(self) -> Path:
        return Path(self.fields.get("common_dir") or self.fields["git_dir"])

    @property
    def work_tree(self) -> Path | None:
        """The work tree the hook ran in (None for a bare repository)."""
        cwd = self.fields.get("cwd", "")
        if not cwd or Path(cwd) == self.git_dir or Path(cwd) == self.common_dir:
            return None
        return Path(cwd)

    @property
    def rebasing(self) -> str | None:
        """The branch a rebase in progress will update (HEAD is detached meanwhile)."""
        ref = self.fields.get("rebasing", "").strip()
        return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref or None

    @property
    def branch(self) -> str | None:
        """The branch HEAD named when the hook ran; None when HEAD was detached."""
        ref = self.fields.get("head_ref", "")
        if ref.startswith("ref: "):
            target = ref[5:].strip()
            return target[len("refs/heads/") :] if target.startswith("refs/heads/") else target
        return None

    def repo_name(self) -> str:
        if self.work_tree is not None:
            return self.work_tree.name
        base = self.common_dir.name
        return base[:-4] if base.endswith(".git") and len(base) > 4 else base


def parse_event(path: Path) -> HookEvent:
    """Read a spooled event file."""
    try:
        st = path.stat()
        raw = path.read_bytes()
    except OSError as exc:
        raise HookEventError(f"cannot read event {path.name}: {exc.strerror}") from exc
    text = raw.decode("utf-8", "surrogateescape")
    head, sep, stdin = text.partition("\nstdin\n")
    lines = head.split("\n")
    if not sep or not lines or lines[0] != EVENT_MAGIC:
        raise HookEventError(f"event {path.name} is not a git-ledger hook event")
    fields: dict[str, str] = {}
    args: list[str] = []
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        if key == "arg":
            args.append(value)
        elif key:
            fields[key] = value
    if "hook" not in fields or "git_dir" not in fields:
        raise HookEventError(f"event {path.name} lacks its hook name or repository")
    when = dt.datetime.fromtimestamp(st.st_mtime_ns / 1e9, dt.UTC)
    return HookEvent(path.name, fields["hook"], when, fields, args, stdin.rstrip("\n"))


def list_events(spool: Path) -> list[Path]:
    """The spool's event files, oldest first; stale temporary files are removed on the way."""
    found = []
    try:
        with os.scandir(spool) as it:
            for item in it:
                if item.name.startswith(EVENT_PREFIX) and item.is_file(follow_symlinks=False):
                    found.append((item.stat().st_mtime_ns, item.name, Path(item.path)))
                elif item.name.startswith(TMP_PREFIX):
                    # A hook killed between writing and renaming: nothing to recover.
                    with contextlib.suppress(OSError):
                        if time.time() - item.stat().st_mtime > STALE_TMP_SECONDS:
                            os.unlink(item.path)
    except OSError:  # no spool (yet), or not a folder: nothing to drain there
        return []
    found.sort()
    return [p for _, _, p in found]


def has_pending(spool: Path) -> bool:
    """True when the spool holds events (a cheap check: one directory listing)."""
    try:
        with os.scandir(spool) as it:
            return any(e.name.startswith(EVENT_PREFIX) for e in it)
    except OSError:
        return False


def count_events(spool: Path) -> tuple[int, int]:
    """How many events wait in the spool, and how many were set aside as failed."""
    try:
        names = os.listdir(spool)
    except OSError:
        return 0, 0
    failed = 0
    with contextlib.suppress(OSError):
        failed = sum(1 for n in os.listdir(spool / SPOOL_FAILED_DIR) if n.startswith(EVENT_PREFIX))
    return sum(1 for n in names if n.startswith(EVENT_PREFIX)), failed


def set_aside(path: Path, spool: Path) -> None:
    """Move an event the drainer cannot record to the spool's ``failed/`` folder."""
    with contextlib.suppress(OSError):
        (spool / SPOOL_FAILED_DIR).mkdir(exist_ok=True)
        os.replace(path, spool / SPOOL_FAILED_DIR / path.name)


def note_failure(log_dir: Path, hook: str, message: str) -> None:
    """Append a line to a failure log (``hooks status`` shows the last ones)."""
    # Imported here: every CLI command imports this module, and the redaction rules take a
    # while to compile; only a failure needs them.
    from ledger.trust.redact.logline import append_line

    append_line(log_dir / FAILURE_LOG, f"{hook} {message}")


def read_failures(log: Path, limit: int) -> tuple[int, list[str]]:
    """How many lines a failure log holds, and its last ``limit`` lines."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 0, []
    lines = [line for line in lines if line.strip()]
    return len(lines), lines[-limit:]


def start_if_pending(explicit: str | os.PathLike[str] | None = None) -> None:
    """Start a background drainer when the ledger's spool holds leftover events.

    Called by every ``git ledger`` command, so events a hook queued are recorded even if
    their own drainer was killed. Never raises.
    """
    with contextlib.suppress(Exception):
        ledger = resolve_ledger_dir(explicit)
        if has_pending(ledger / SPOOL_DIR):
            start_drainer(ledger)


def start_drainer(ledger_dir: Path) -> None:
    """Start a detached drainer for the ledger's spool (leftovers of earlier hooks)."""
    start_worker("drain", str(ledger_dir))
