"""The agent hook's fast path: read the event, snapshot, spool it durably, nudge the drainer.

Agents run their hook for every tool call and wait for it, so this path does the least
work it can and imports only the standard library: no pygit2, no click. It reads the files
the event touches at this very moment (the before-state at a "pre" event, the after-state
at a "post" event), writes one private spool file (0600, fsync'd, renamed into place, so an
event the hook acknowledged survives a crash), and starts the drainer unless one is running.
The drainer (:mod:`ledger.capture.agents.spool`) turns spooled events into entries.

When the ledger does not exist yet, or the spool cannot be written, the caller falls back
to recording the event at once (the slow path, which also creates the ledger).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ledger._repoid import config_value, git_dirs, repo_facts
from ledger.capture.agents.filestate import SPOOLED, read_state, touched

AGENTS = ("claude-code", "gemini-cli", "codex", "cursor", "copilot-cli", "opencode")
REPLIES = {"gemini-cli": "{}", "cursor": '{"continue": true}'}
ENV_EVENT = "GIT_LEDGER_EVENT"  # set by hook configs whose events do not name themselves
ENV_DIR = "GIT_LEDGER_DIR"
SPOOL_PARTS = ("ledger-agents", "spool")  # == _layout.AGENTS_DIR / AGENT_SPOOL_DIR
LOCK_NAME = ".drain.lock"
EVENT_SUFFIX = ".json"
MAX_EVENT_BYTES = 64 * 1024 * 1024


# -- where the ledger is, without pygit2 ---------------------------------------------------------
def ledger_dir(explicit: str | None, cwd: str) -> Path | None:
    """The ledger path as :func:`ledger.location.resolve_ledger_dir` finds it; None: ask it."""
    if explicit:
        return Path(os.path.expanduser(explicit)).absolute()
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(os.path.expanduser(env)).absolute()
    dirs = git_dirs(cwd)
    if dirs is not None:
        work, _gitdir, common = dirs
        value = config_value(os.path.join(common, "config"), "ledger", "dir")
        if value is True:
            return None
        if isinstance(value, str) and value:
            path = Path(os.path.expanduser(value))
            return (path if path.is_absolute() else Path(work) / path).absolute()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "git-ledger" / "ledger.git"


# -- the spool ------------------------------------------------------------------------------------
def spool_dir(ledger: Path) -> Path:
    return ledger.joinpath(*SPOOL_PARTS)


def write_event(spool: Path, record: dict[str, Any]) -> Path:
    """Write one event durably: private temp file, fsync, rename, fsync of the folder."""
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"ev-{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}"
    tmp = spool / f".tmp-{stem}"
    data = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    final = spool / (stem + EVENT_SUFFIX)
    os.rename(tmp, final)
    dfd = os.open(spool, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return final


def drainer_running(spool: Path) -> bool:
    """True while a drainer holds the spool's lock (it then sees every event written before)."""
    try:
        fd = os.open(spool / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the lock if we took it
    return False


def nudge(ledger: Path) -> bool:
    """Start the drainer unless one is running; False if it could not be started."""
    if drainer_running(spool_dir(ledger)):
        return True
    from ledger._background import start_worker  # only when no drainer runs

    return start_worker("agents", str(ledger))


def build_record(agent: str, raw: bytes, cwd: str) -> dict[str, Any]:
    """The spooled form of one event: the event, the files it touches, the repository."""
    record: dict[str, Any] = {"v": 1, "agent": agent, "time_ns": time.time_ns(), "cwd": cwd}
    try:
        event = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        event = None
    if not isinstance(event, dict):
        record["raw"] = raw.decode("utf-8", "replace")  # the drainer notes it as malformed
        return record
    if not event.get("hook_event_name") and os.environ.get(ENV_EVENT):
        event["hook_event_name"] = os.environ[ENV_EVENT]
    phase, paths = touched(agent, event)
    extra: dict[str, Any] = {"phase": phase, "files": {p: read_state(p) for p in paths}}
    where = event.get("cwd") if isinstance(event.get("cwd"), str) else None
    roots = event.get("workspace_roots")
    if where is None and isinstance(roots, list) and roots and isinstance(roots[0], str):
        where = roots[0]
    extra["repo"] = repo_facts(where if where and os.path.isdir(where) else cwd)
    event[SPOOLED] = extra
    record["event"] = event
    return record


def serve(agent: str, explicit: str | None, raw: bytes) -> bool:
    """Spool ``raw`` for ``agent``; False when the caller must record it the slow way."""
    if len(raw) > MAX_EVENT_BYTES:
        return False
    cwd = os.getcwd()
    ledger = ledger_dir(explicit, cwd)
    if ledger is None or not (ledger / "HEAD").is_file():
        return False  # no ledger yet: the slow path creates it
    try:
        write_event(spool_dir(ledger), build_record(agent, raw, cwd))
    except OSError:
        return False
    nudge(ledger)
    return True


def read_stdin() -> bytes:
    try:
        return sys.stdin.buffer.read()
    except (AttributeError, OSError, ValueError):
        return b""


def reply(agent: str) -> None:
    text = REPLIES.get(agent)
    if text:
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except (AttributeError, OSError, ValueError):
            pass
