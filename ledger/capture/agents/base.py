"""What every coding-agent adapter shares: reading events, installing, running as a hook.

An adapter turns one hook event of a coding agent (JSON on stdin) into ledger entries. It
never blocks the agent: whatever goes wrong is noted in the ledger's agent log and the
hook exits 0. Adding an agent is one small module with a subclass of :class:`Adapter`.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger._layout import AGENTS_DIR
from ledger.capture.agents.flatconfig import install_flat, uninstall_flat
from ledger.capture.agents.settings import JSONDict, read_settings, remove_hooks, write_settings
from ledger.capture.agents.snapshots import safe_name
from ledger.capture.scripts import python_path_for_hooks
from ledger.capture.sessions import session_id_from
from ledger.errors import AgentEventError, AgentSettingsError, LedgerError
from ledger.location import ensure_ledger, resolve_ledger_dir
from ledger.trust.redact.logline import append_line
from ledger.write.logger import ChangeLogger

MAX_EVENT_BYTES = 64 * 1024 * 1024
MAX_FIELD_CHARS = 200_000  # tool outputs kept in metadata; longer ones are cut and marked


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What handling one event did: ``recorded``, ``snapshot``, ``ignored`` or ``failed``."""

    status: str
    event: str
    detail: str = ""
    entry_id: str | None = None


def parse_event(raw: bytes | str) -> JSONDict:
    """Parse a hook event; AgentEventError unless it is a JSON object."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_EVENT_BYTES:
            raise AgentEventError(f"event is {len(raw)} bytes (at most {MAX_EVENT_BYTES})")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise AgentEventError("event is not UTF-8") from None
    if not raw.strip():
        raise AgentEventError("no event on stdin")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AgentEventError(f"event is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AgentEventError(f"event is a JSON {type(data).__name__}, not an object")
    return data


def text_field(event: Mapping[str, Any], key: str, required: bool = True) -> str:
    """A string field of an event (AgentEventError when a required one is missing)."""
    value = event.get(key)
    if isinstance(value, str) and value:
        return value
    if required:
        raise AgentEventError(f"event has no {key!r}")
    return ""


def bounded(value: Any, limit: int = MAX_FIELD_CHARS) -> Any:
    """A tool output fit for metadata: long text is cut, other JSON kept if small enough."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"… [{len(value)} chars]"
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return bounded(repr(value), limit)
    if len(text) <= limit:
        return value
    return {"truncated": True, "json_chars": len(text), "head": text[:limit]}


# -- the adapter ---------------------------------------------------------------------------------
class Adapter(abc.ABC):
    """One coding agent's hook format."""

    name: str = ""  # as on the command line: git ledger agent <name>
    agent_id: str = ""  # the ledger's agent id for its entries
    display: str = ""  # the agent's name for people
    settings_name: str = "settings.json"  # in settings_folder of the project / home folder
    settings_folder: str = ""
    reply: str = ""  # what the hook prints on stdout (some agents parse it)
    # A flat hooks file ({"version": 1, "hooks": {event: [hook]}}): the hook's command key;
    # flat_owned: the file is ours alone, deleted when uninstalling leaves nothing else in it.
    flat_key: str | None = None
    flat_owned: bool = False

    @abc.abstractmethod
    def handle(self, event: JSONDict, ledger_dir: str | os.PathLike[str] | None) -> Outcome:
        """Record one event; raise AgentEventError for an event it cannot read."""

    @abc.abstractmethod
    def hook_entries(self, command: str) -> dict[str, list[JSONDict]]:
        """The settings' ``hooks`` groups that run ``command`` for every event we record."""

    def session_for(self, agent_session: str) -> str:
        """The ledger session of an agent session id (sanitised, deterministic)."""
        return session_id_from(agent_session)

    def logger(
        self, event: JSONDict, session: str, ledger_dir: str | os.PathLike[str] | None
    ) -> ChangeLogger:
        cwd = event.get("cwd") if isinstance(event.get("cwd"), str) else None
        workdir = cwd if cwd and os.path.isdir(cwd) else os.getcwd()
        return ChangeLogger(
            ledger_dir=resolve_ledger_dir(ledger_dir, cwd=workdir),
            agent_id=self.agent_id,
            session_id=session,
            workdir=workdir,
        )

    # -- settings ------------------------------------------------------------------------
    def settings_path(self, scope: str, project: str | os.PathLike[str] | None = None) -> Path:
        """``<project>/<folder>/<file>`` for scope "project", ``~/<folder>/<file>`` for "user"."""
        if scope == "user":
            base = Path(os.path.expanduser("~"))
        elif scope == "project":
            base = Path(project) if project is not None else Path.cwd()
        else:
            raise AgentSettingsError(f"unknown settings scope {scope!r} (project or user)")
        return base / self.settings_folder / self.settings_name

    def command(self, ledger_dir: str | os.PathLike[str] | None, python: str | None) -> str:
        """The shell command the agent runs for each hook event.

        Settings files are shared (teams commit them), so the command is the ``git-ledger``
        found on PATH, never a path inside one virtualenv. Only an explicit ``python`` (or a
        machine without ``git-ledger`` on PATH) gives the ``python -P -m ledger`` form.
        """
        ledger = ["--ledger", os.path.abspath(os.fspath(ledger_dir))] if ledger_dir else []
        if python is None and shutil.which("git-ledger"):
            return shlex.join(["git-ledger", *ledger, "agent", self.name])
        # -P: the project folder the agent runs us in must not shadow the ledger package.
        text = shlex.join(
            [python or sys.executable, "-P", "-m", "ledger", *ledger, "agent", self.name]
        )
        extra = python_path_for_hooks()
        if extra and python is None:
            text = f"PYTHONPATH={shlex.quote(extra)}${{PYTHONPATH:+:$PYTHONPATH}} {text}"
        return text

    def prepare(self, ledger_dir: str | os.PathLike[str] | None) -> None:
        """Create the ledger the hooks will write to (so the fast path can spool at once)."""
        ensure_ledger(resolve_ledger_dir(ledger_dir))

    def is_ours(self, command: object) -> bool:
        """True for a hook command that this adapter's installer wrote."""
        return (
            isinstance(command, str)
            and re.search(
                r"(-m ledger|git-ledger)( .*)? agent " + re.escape(self.name) + r"$", command
            )
            is not None
        )

    def install(
        self,
        scope: str = "project",
        project: str | os.PathLike[str] | None = None,
        ledger_dir: str | os.PathLike[str] | None = None,
        python: str | None = None,
    ) -> Path:
        """Merge our hook entries into the agent's settings file; return its path.

        Other settings and other hooks are kept as they are; our old entries are replaced.
        """
        path = self.settings_path(scope, project)
        if self.flat_key is not None:
            self.prepare(ledger_dir)
            entries = self.hook_entries(self.command(ledger_dir, python))
            return install_flat(path, entries, self.is_ours, self.flat_key)
        settings = read_settings(path)
        self.prepare(ledger_dir)
        remove_hooks(settings, self.is_ours)
        hooks = settings.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise AgentSettingsError(f"{path}: 'hooks' is not an object")
        for event, groups in self.hook_entries(self.command(ledger_dir, python)).items():
            current = hooks.setdefault(event, [])
            if not isinstance(current, list):
                raise AgentSettingsError(f"{path}: hooks.{event} is not a list")
            current.extend(groups)
        write_settings(path, settings)
        return path

    def uninstall(
        self, scope: str = "project", project: str | os.PathLike[str] | None = None
    ) -> tuple[Path, int]:
        """Remove only our hook entries; return the settings path and how many went."""
        path = self.settings_path(scope, project)
        if self.flat_key is not None:
            return uninstall_flat(path, self.is_ours, self.flat_key, owned=self.flat_owned)
        if not path.exists():
            return path, 0
        settings = read_settings(path)
        removed = remove_hooks(settings, self.is_ours)
        if removed:
            write_settings(path, settings)
        return path, removed


# -- running an adapter as a hook --------------------------------------------------------------
def note(ledger_dir: str | os.PathLike[str] | None, agent: str, message: str) -> None:
    """Append a line to ``ledger-agents/<agent>.log`` in the ledger (never raises)."""
    with contextlib.suppress(Exception):
        ledger = resolve_ledger_dir(ledger_dir)
        # A folder of ours in a place with no ledger yet would make it "not a ledger".
        ensure_ledger(ledger)
        path = ledger / AGENTS_DIR / f"{safe_name(agent)}.log"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        append_line(path, message, ledger=ledger)


# Events after which a ledger with ``ledger.autoPush`` set pushes in the background.
PUSH_AFTER = frozenset({"SessionEnd", "Stop"})


def run_hook(adapter: Adapter, raw: bytes, ledger_dir: str | os.PathLike[str] | None) -> Outcome:
    """Handle one event as a hook must: never raise, note what could not be recorded."""
    try:
        event = parse_event(raw)
        outcome = adapter.handle(event, ledger_dir)
        if outcome.status == "recorded" and outcome.event in PUSH_AFTER:
            from ledger.sync.push import (
                push_in_background,  # deferred: only needed at a session's end
            )

            push_in_background(ledger_dir)  # no-op unless ledger.autoPush names a remote
        return outcome
    except AgentEventError as exc:
        note(ledger_dir, adapter.name, f"malformed event: {exc}")
        return Outcome("failed", "", f"malformed event: {exc}")
    except (LedgerError, OSError) as exc:
        note(ledger_dir, adapter.name, f"not recorded: {exc}")
        return Outcome("failed", "", f"not recorded: {exc}")
    except Exception as exc:  # a hook must never take the agent down
        note(ledger_dir, adapter.name, f"internal error: {type(exc).__name__}: {exc}")
        return Outcome("failed", "", f"internal error: {type(exc).__name__}: {exc}")


def serve_stdin(
    adapter: Adapter,
    ledger_dir: str | os.PathLike[str] | None,
    verbose: bool,
    raw: bytes | None = None,
) -> None:
    """Handle the event on stdin as the agent's hook command: reply, one line on trouble.

    Never raises and never fails: a ledger problem never blocks the agent, and neither does
    a closed or broken stdin, stdout or stderr (an empty event is noted as malformed).
    """
    if raw is None:
        try:
            raw = sys.stdin.buffer.read()
        except (AttributeError, OSError, ValueError):
            raw = b""
    outcome = run_hook(adapter, raw, ledger_dir)
    lines: list[tuple[Any, str]] = []
    if adapter.reply:
        lines.append((sys.stdout, adapter.reply + "\n"))
    if outcome.status == "failed":
        lines.append((sys.stderr, f"git-ledger: {outcome.detail} (the agent goes on)\n"))
    elif verbose:
        line = f"git-ledger: {outcome.status} {outcome.event} {outcome.detail} "
        lines.append((sys.stderr, f"{line}{outcome.entry_id or ''}".rstrip() + "\n"))
    for stream, text in lines:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.write(text)
            stream.flush()
