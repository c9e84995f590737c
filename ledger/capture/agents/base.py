"""What every coding-agent adapter shares: reading events, before-state snapshots, settings.

An adapter turns one hook event of a coding agent (JSON on stdin) into ledger entries. It
never blocks the agent: whatever goes wrong is noted in the ledger's agent log and the
hook exits 0. Adding an agent is one small module with a subclass of :class:`Adapter`.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ledger._fs import atomic_write
from ledger._layout import AGENTS_DIR
from ledger._store import LedgerStore
from ledger.capture.agents.filestate import content, given_state
from ledger.capture.githooks import python_path_for_hooks, session_id_from
from ledger.errors import AgentEventError, AgentSettingsError, LedgerError
from ledger.location import ensure_ledger, resolve_ledger_dir
from ledger.write.logger import ChangeLogger

PENDING_DIR = "pending"
MAX_EVENT_BYTES = 64 * 1024 * 1024
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024
MAX_FIELD_CHARS = 200_000  # tool outputs kept in metadata; longer ones are cut and marked

JSONDict = dict[str, Any]


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


# -- before-state snapshots -------------------------------------------------------------------
def _key(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", text):
        return text
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Snapshots:
    """Before-states taken at "pre" events, keyed by session and tool call.

    The content is kept (base64) in a private JSON record under
    ``ledger-agents/pending/<agent>/<session>/<call>.json`` until the "post" event of the
    same call takes it; it reaches git only through ``log_file_change``, redacted, never
    as a raw blob.
    """

    def __init__(self, store: LedgerStore, agent: str) -> None:
        self.store = store
        self.agent = agent

    def _path(self, session: str, call: str) -> Path:
        return (
            self.store.path
            / AGENTS_DIR
            / PENDING_DIR
            / _key(self.agent)
            / session
            / (_key(call) + ".json")
        )

    def take(
        self, session: str, call: str, file_path: str, state: Mapping[str, Any] | None = None
    ) -> JSONDict:
        """Store the file's current state (or ``state``, read by the hook) for ``call``."""
        record: JSONDict = {"file_path": file_path, "time": _now()}
        if state is not None:
            record.update(state)
            self._keep(session, call, record)
            return record
        try:
            st = os.lstat(file_path)
        except FileNotFoundError:
            record["exists"] = False
        else:
            record["exists"] = True
            if stat.S_ISLNK(st.st_mode):
                data = os.fsencode(os.readlink(file_path))
                record["symlink"] = True
            elif not stat.S_ISREG(st.st_mode):
                raise AgentEventError(f"{file_path} is not a regular file")
            elif st.st_size > MAX_SNAPSHOT_BYTES:
                data = b""
                record["too_large"] = st.st_size
            else:
                with open(file_path, "rb") as fh:
                    data = fh.read()
            if "too_large" not in record:
                record["data"] = base64.b64encode(data).decode("ascii")
                record["size"] = len(data)
        self._keep(session, call, record)
        return record

    def _keep(self, session: str, call: str, record: JSONDict) -> None:
        path = self._path(session, call)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, json.dumps(record).encode(), mode=0o600)

    def pop(self, session: str, call: str) -> JSONDict | None:
        """The record taken for ``call`` (removed), or None when there is none."""
        path = self._path(session, call)
        try:
            record: JSONDict = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        with contextlib.suppress(OSError):
            path.unlink()
            path.parent.rmdir()  # only when it was the session's last pending call
        return record

    def clear(self, session: str) -> int:
        """Drop the session's snapshots that no post event took (a denied tool call)."""
        folder = self._path(session, "x").parent
        count = 0
        with contextlib.suppress(OSError):
            for item in folder.iterdir():
                with contextlib.suppress(OSError):
                    item.unlink()
                    count += 1
            folder.rmdir()
        return count

    def content(self, record: Mapping[str, Any]) -> bytes | None:
        """The snapshot's bytes (None when the file did not exist or was not kept)."""
        data = record.get("data")
        if isinstance(data, str):
            return base64.b64decode(data)
        blob = record.get("blob")  # a record taken by an earlier version
        return self.store.read_blob(blob) if isinstance(blob, str) else None


def read_current(path: str, event: Mapping[str, Any] | None = None) -> bytes | None:
    """A file's bytes now (a symlink's target for a link), None when it does not exist.

    With ``event``: the state its hook read when the agent called it, if it read one.
    """
    given = given_state(event, path) if event is not None else None
    if given is not None:
        return content(given) if given.get("exists") else None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return os.fsencode(os.readlink(path))
    with open(path, "rb") as fh:
        return fh.read()


# -- the adapter ---------------------------------------------------------------------------------
class Adapter(abc.ABC):
    """One coding agent's hook format."""

    name: str = ""  # as on the command line: git ledger agent <name>
    agent_id: str = ""  # the ledger's agent id for its entries
    display: str = ""  # the agent's name for people
    settings_name: str = "settings.json"  # in settings_folder of the project / home folder
    settings_folder: str = ""
    reply: str = ""  # what the hook prints on stdout (some agents parse it)

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
        if not path.exists():
            return path, 0
        settings = read_settings(path)
        removed = remove_hooks(settings, self.is_ours)
        if removed:
            write_settings(path, settings)
        return path, removed


def read_settings(path: Path) -> JSONDict:
    """A settings file as a dict ({} when missing); AgentSettingsError if it is not JSON."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AgentSettingsError(f"cannot read {path}: {exc.strerror}") from exc
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AgentSettingsError(f"{path} is not valid JSON ({exc}); left as it is") from None
    if not isinstance(data, dict):
        raise AgentSettingsError(f"{path} does not hold a JSON object; left as it is")
    return data


def write_settings(path: Path, settings: JSONDict) -> None:
    """Write a settings file atomically, two-space indented like the agents write them."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode())
    except OSError as exc:
        raise AgentSettingsError(f"cannot write {path}: {exc.strerror}") from exc


def remove_hooks(settings: JSONDict, ours: Callable[[object], bool]) -> int:
    """Drop hook commands ``ours`` recognises; drop groups and events left empty."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return 0
    removed = 0
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list):
                kept_groups.append(group)
                continue
            kept = [h for h in inner if not (isinstance(h, dict) and ours(h.get("command")))]
            removed += len(inner) - len(kept)
            if kept or not inner:
                kept_groups.append({**group, "hooks": kept})
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not hooks:
        del settings["hooks"]
    return removed


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


# -- running an adapter as a hook --------------------------------------------------------------
def note(ledger_dir: str | os.PathLike[str] | None, agent: str, message: str) -> None:
    """Append a line to ``ledger-agents/<agent>.log`` in the ledger (never raises)."""
    with contextlib.suppress(Exception):
        ledger = resolve_ledger_dir(ledger_dir)
        # A folder of ours in a place with no ledger yet would make it "not a ledger".
        ensure_ledger(ledger)
        path = ledger / AGENTS_DIR / f"{_key(agent)}.log"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {' '.join(message.split())}\n")


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
