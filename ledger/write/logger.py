"""ChangeLogger: the write side. Each log call becomes one commit on the session's branch."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import secrets
import shlex
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ledger._layout import ENTRY_FILE, SESSION_REF_PREFIX
from ledger._names import (
    agent_email,
    check_path,
    from_tree_path,
    to_tree_path,
    validate_agent_id,
    validate_session_id,
)
from ledger._objects import (
    OBJ_BLOB,
    OBJ_COMMIT,
    LooseSink,
    ObjectSink,
    PackSink,
    TreeCache,
    TreeEditor,
    commit_bytes,
)
from ledger._store import LedgerStore, retry_cas
from ledger._upkeep import maybe_start_maintenance
from ledger.content import (
    DEFAULT_MAX_CONTENT_BYTES,
    State,
    placeholder,
    state_from_bytes,
    state_from_disk,
    to_bytes,
)
from ledger.entry import (
    T_AGENT,
    T_FILE,
    T_OBSERVATION,
    T_SESSION,
    Entry,
    canonical_json,
    commit_message,
    entry_message,
    normalize_metadata,
    parse_timestamp,
)
from ledger.errors import (
    InvalidAgentIdError,
    InvalidInputError,
    InvalidPathError,
    InvalidSessionIdError,
    StorageError,
    TimestampOrderError,
)
from ledger.location import resolve_ledger_dir
from ledger.trust.checkpoint import entry_signer
from ledger.trust.redact import REDACTIONS_KEY, Redactor
from ledger.types import ChangeType, LogLevel, change_type, log_level

ENV_SESSION = "GIT_LEDGER_SESSION"
ENV_AGENT = "GIT_LEDGER_AGENT"
DEFAULT_AGENT = "agent"
MAX_TEXT_CHARS = 1_000_000


class _Unknown:
    """A file state the caller did not give (the ledger keeps what it last knew)."""


class _Absent:
    """The file does not exist in this state."""


UNKNOWN: Final = _Unknown()
ABSENT: Final = _Absent()
Given = State | _Unknown | _Absent


def new_session_id() -> str:
    """A fresh, time-sortable session id, e.g. ``20251105T173045Z-1a2b3c4d``."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


@dataclasses.dataclass
class _Batch:
    sink: PackSink
    base: bytes | None
    tip: bytes | None
    count: int = 0


@dataclasses.dataclass
class TrackedFile:
    """What ``track_file`` yields; ``entry`` is set when the block changed the file."""

    path: str
    entry: Entry | None = None


class ChangeLogger:
    """Records an agent session's actions, one commit per entry, into a git ledger.

    Args:
        ledger_dir: the ledger repository (else ``$GIT_LEDGER_DIR``, ``git config
            ledger.dir``, or ``~/.local/share/git-ledger/ledger.git``).
        agent_id: who acts (else ``$GIT_LEDGER_AGENT``, else ``"agent"``).
        session_id: the session's branch name (else ``$GIT_LEDGER_SESSION``, else new).
        workdir: the agent's workspace; file paths inside it are stored relative to it.
        durable: fsync objects and refs before a log call returns (default True).
        max_content_bytes: states larger than this keep only their hash and size.
        lock_timeout: seconds to wait for another live writer of the same session.
        log_dir: the seed's name for ``ledger_dir``.
    """

    def __init__(
        self,
        ledger_dir: str | os.PathLike[str] | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
        *,
        durable: bool = True,
        max_content_bytes: int = DEFAULT_MAX_CONTENT_BYTES,
        lock_timeout: float = 60.0,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if agent_id is None:
            agent_id = os.environ.get(ENV_AGENT) or DEFAULT_AGENT
        if session_id is None:
            session_id = os.environ.get(ENV_SESSION) or new_session_id()
        self.agent_id = validate_agent_id(agent_id)
        self.session_id = validate_session_id(session_id)
        self.workdir = Path(os.path.abspath(workdir if workdir is not None else os.getcwd()))
        self.ledger_dir = resolve_ledger_dir(
            ledger_dir if ledger_dir is not None else log_dir, cwd=self.workdir
        )
        self.store = LedgerStore(self.ledger_dir, create=True, durable=durable)
        self.durable = durable
        self.max_content_bytes = max_content_bytes
        self.lock_timeout = lock_timeout
        self._email = agent_email(self.agent_id)
        self._mutex = threading.RLock()
        self._trees = TreeCache()
        self._batch: _Batch | None = None
        self._last: tuple[bytes, dt.datetime] | None = None  # (tip, its timestamp)
        self._writes = 0
        self._redactor: Redactor | None = None
        self._sign: Callable[[bytes], bytes] | None = None  # ledger.signEntries

    @property
    def redactor(self) -> Redactor:
        """The ledger's secret redactor (loaded on first use, with the entry signer)."""
        if self._redactor is None:
            self.store.ensure()
            redactor = Redactor.for_ledger(self.ledger_dir, self.store.repo)
            # Ids go into ref names, authors and trailers, where no marker can stand in.
            for error, what, name in (
                (InvalidSessionIdError, "session id", self.session_id),
                (InvalidAgentIdError, "agent id", self.agent_id),
            ):
                fired = redactor.text(name)[1]
                if fired:
                    raise error(f"the {what} holds a secret ({', '.join(fired)}); use another")
            self._redactor = redactor
            self._sign = entry_signer(self.ledger_dir, self.store.repo)
        return self._redactor

    @property
    def branch(self) -> str:
        """The session's ref: ``refs/heads/sessions/<session_id>``."""
        return SESSION_REF_PREFIX + self.session_id

    # -- the seed's API -----------------------------------------------------------------
    def log(
        self,
        change_type: ChangeType | str,
        description: str,
        metadata: Mapping[str, Any] | None = None,
        level: LogLevel | str = LogLevel.INFO,
        file_path: str | os.PathLike[str] | None = None,
        timestamp: dt.datetime | None = None,
    ) -> Entry:
        """Record one action and return the entry (its id is the commit id)."""
        return self._record(change_type, description, metadata, level, file_path, timestamp)

    def log_file_change(
        self,
        file_path: str | os.PathLike[str],
        change_type: ChangeType | str,
        before_content: str | bytes | None = None,
        after_content: str | bytes | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        level: LogLevel | str = LogLevel.INFO,
        timestamp: dt.datetime | None = None,
    ) -> Entry:
        """Record a file change with its exact before and after contents.

        ``before_content=None`` means "did not exist" for file_create and "not given"
        otherwise; ``after_content=None`` means "no longer exists" for file_delete.
        """
        ctype = _change_type(change_type)
        path_text = check_path(file_path)
        to_tree_path(path_text, self.workdir)  # refuse a bad path before storing contents
        sink = self._sink()
        before: Given
        after: Given
        notes: dict[str, list[str]] = {}
        if before_content is None:
            before = ABSENT if ctype is ChangeType.FILE_CREATE else UNKNOWN
        else:
            data = to_bytes(before_content, "before_content")
            data = self._redact_file(path_text, "before", notes)(data)
            before = state_from_bytes(sink, data, self.max_content_bytes)
        if after_content is None:
            after = ABSENT if ctype is ChangeType.FILE_DELETE else UNKNOWN
        else:
            data = to_bytes(after_content, "after_content")
            data = self._redact_file(path_text, "after", notes)(data)
            after = state_from_bytes(sink, data, self.max_content_bytes)
        if description is None:
            description = f"{_VERBS.get(ctype, ctype.value)} {path_text}"
        return self._record(
            ctype, description, metadata, level, path_text, timestamp, before, after, notes
        )

    def log_agent_decision(
        self,
        decision: str,
        reasoning: str,
        context: Mapping[str, Any] | None = None,
        level: LogLevel | str = LogLevel.INFO,
        timestamp: dt.datetime | None = None,
    ) -> Entry:
        """Record a decision with its reasoning and context."""
        if context is not None and not isinstance(context, Mapping):
            raise InvalidInputError("context must be a mapping")
        meta = {"decision": decision, "reasoning": reasoning, "context": dict(context or {})}
        return self._record(ChangeType.AGENT_DECISION, decision, meta, level, None, timestamp)

    def log_command(
        self,
        command: str | Sequence[str],
        output: str = "",
        exit_code: int = 0,
        stderr: str | None = None,
        duration: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        level: LogLevel | str | None = None,
        timestamp: dt.datetime | None = None,
    ) -> Entry:
        """Record a system command with its output and exit code (error level if non-zero)."""
        if not isinstance(command, str) and not (
            isinstance(command, Sequence) and all(isinstance(c, str) for c in command)
        ):
            raise InvalidInputError("command must be a string or a sequence of strings")
        text = command if isinstance(command, str) else shlex.join(command)
        exit_code, duration = _numbers(exit_code, duration, "exit_code")
        meta: dict[str, Any] = {"command": text, "exit_code": exit_code}
        meta.update(_bounded("output", output))
        if stderr is not None:
            meta.update(_bounded("stderr", stderr))
        if duration is not None:
            meta["duration_seconds"] = round(float(duration), 6)
        if cwd is not None:
            meta["cwd"] = os.fspath(cwd)
        if level is None:
            level = LogLevel.INFO if exit_code == 0 else LogLevel.ERROR
        return self._record(
            ChangeType.SYSTEM_COMMAND, f"Executed: {text}", meta, level, None, timestamp
        )

    def log_api_call(
        self,
        endpoint: str,
        method: str = "GET",
        request_data: Any = None,
        response_data: Any = None,
        status_code: int | None = None,
        duration: float | None = None,
        level: LogLevel | str | None = None,
        timestamp: dt.datetime | None = None,
    ) -> Entry:
        """Record an API call; 4xx is a warning and 5xx an error unless ``level`` says."""
        if not isinstance(method, str):
            raise InvalidInputError("method must be a string")
        if status_code is not None:
            status_code, duration = _numbers(status_code, duration, "status_code")
        else:
            duration = _numbers(0, duration, "status_code")[1]
        meta: dict[str, Any] = {
            "endpoint": endpoint,
            "method": method.upper(),
            "request_data": request_data,
            "response_data": response_data,
            "status_code": status_code,
        }
        if duration is not None:
            meta["duration_seconds"] = round(float(duration), 6)
        if level is None:
            code = status_code or 0
            level = (
                LogLevel.ERROR
                if code >= 500
                else LogLevel.WARNING
                if code >= 400
                else LogLevel.INFO
            )
        status = f" -> {status_code}" if status_code is not None else ""
        return self._record(
            ChangeType.API_CALL,
            f"{method.upper()} {endpoint}{status}",
            meta,
            level,
            None,
            timestamp,
        )

    @contextlib.contextmanager
    def track_file(
        self,
        path: str | os.PathLike[str],
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Iterator[TrackedFile]:
        """Read a file before and after the block; log create/update/delete, or nothing.

        The final path component is never followed if it is a symlink (the link itself is
        recorded), and a path inside the workspace that leads outside it through a
        symlinked folder is refused.
        """
        full = self._disk_path(path)
        sink = self._sink()
        notes: dict[str, list[str]] = {}
        before = state_from_disk(
            self.store.repo,
            sink,
            full,
            self.max_content_bytes,
            self._redact_file(path, "before", notes),
        )
        tracked = TrackedFile(os.fspath(path))
        try:
            yield tracked
        finally:  # a change made before the block raised is still recorded
            after = state_from_disk(
                self.store.repo,
                self._sink(),
                full,
                self.max_content_bytes,
                self._redact_file(path, "after", notes),
            )
            if before != after:  # never `return` here: it would swallow the exception
                if before is None:
                    ctype = ChangeType.FILE_CREATE
                elif after is None:
                    ctype = ChangeType.FILE_DELETE
                else:
                    ctype = ChangeType.FILE_UPDATE
                tracked.entry = self._record(
                    ctype,
                    description or f"{_VERBS[ctype]} {os.fspath(path)}",
                    metadata,
                    LogLevel.INFO,
                    path,
                    None,
                    before if before is not None else ABSENT,
                    after if after is not None else ABSENT,
                    notes,
                )

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Write every entry logged in the block as one pack with one ref update.

        Entries logged inside the block are durable once the block exits (also when it
        exits with an exception). The session stays locked for the block's duration.
        """
        with self._mutex:
            if self._batch is not None:
                yield
                return
            self.store.ensure()
            with self.store.session_lock(self.session_id, self.lock_timeout):
                tip = self.store.tip(self.session_id)
                current = _Batch(PackSink(self.store.repo), tip, tip)
                self._batch = current
                try:
                    yield
                finally:
                    self._batch = None
                    self._flush(current)
            self._wrote()

    def get_session_summary(self) -> dict[str, Any]:
        """Counts and times for this session, read back from its branch."""
        entries = list(self.store.walk_session(self.session_id)) if self.store.exists else []
        entries.reverse()
        by_type = Counter(e.change_type.value for e in entries)
        by_level = Counter(e.level.value for e in entries)
        errors = [e for e in entries if e.level in (LogLevel.ERROR, LogLevel.CRITICAL)]
        files = sorted({e.file_path for e in entries if e.file_path})
        first = entries[0].timestamp if entries else None
        last = entries[-1].timestamp if entries else None
        return {
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "branch": self.branch,
            "ledger_dir": str(self.ledger_dir),
            "total_changes": len(entries),
            "changes_by_type": dict(by_type),
            "changes_by_level": dict(by_level),
            "files_touched": files,
            "errors": len(errors),
            "error_entries": [e.id for e in errors],
            "first_timestamp": first.isoformat() if first else None,
            "last_timestamp": last.isoformat() if last else None,
            "duration_seconds": (last - first).total_seconds() if first and last else 0.0,
            "drift_detected": sum(1 for e in entries if e.drift),
        }

    # -- internals ------------------------------------------------------------------------
    def _wrote(self) -> None:
        """On the first write and every 64th, let storage start background maintenance."""
        self._writes += 1
        if self._writes % 64 == 1:
            maybe_start_maintenance(self.ledger_dir)

    def _sink(self) -> ObjectSink:
        batch = self._batch
        return batch.sink if batch is not None else LooseSink(self.store.repo)

    def _redact_file(
        self, path: str | os.PathLike[str], which: str, notes: dict[str, list[str]]
    ) -> Callable[[bytes], bytes]:
        """A filter that redacts one file state's content, noting the rules that fired."""
        name = os.fsdecode(os.fspath(path)) if isinstance(path, str | bytes | os.PathLike) else ""

        def redact(data: bytes) -> bytes:
            new, fired = self.redactor.file_content(name, data)
            if fired:
                notes[f"{which}_state"] = fired
            return new

        return redact

    def _disk_path(self, path: str | os.PathLike[str]) -> str:
        text = os.fspath(path)
        to_tree_path(text, self.workdir)  # validates the name
        full = os.path.normpath(os.path.join(self.workdir, text))
        work = os.path.realpath(self.workdir)
        inside = os.path.commonpath([full, str(self.workdir)]) == str(self.workdir)
        if inside:
            real_parent = os.path.realpath(os.path.dirname(full))
            if os.path.commonpath([real_parent, work]) != work:
                raise InvalidPathError(
                    f"{text} leads outside the workspace {self.workdir} through a symlink"
                )
        return full

    def _record(
        self,
        ctype_in: ChangeType | str,
        description: str,
        metadata: Mapping[str, Any] | None,
        level_in: LogLevel | str,
        file_path: str | os.PathLike[str] | None,
        timestamp: dt.datetime | None,
        before: Given = UNKNOWN,
        after: Given = UNKNOWN,
        file_notes: Mapping[str, list[str]] | None = None,
    ) -> Entry:
        ctype = _change_type(ctype_in)
        level = log_level(level_in)
        if not isinstance(description, str):
            raise InvalidInputError("description must be a string")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise InvalidInputError("metadata must be a mapping")
        meta = normalize_metadata(dict(metadata or {}))
        normalize_metadata(description)  # refuses lone surrogates
        # Secrets are replaced before anything is hashed (file states were filtered earlier).
        description, meta = self.redactor.entry_fields(description, meta, file_notes)
        if timestamp is not None:
            if not isinstance(timestamp, dt.datetime) or timestamp.tzinfo is None:
                raise InvalidInputError("timestamp must be a timezone-aware datetime")
            try:
                utc = timestamp.astimezone(dt.UTC)
            except OverflowError:  # e.g. 9999-12-31 23:00 at UTC-12
                raise InvalidInputError("timestamp is out of range in UTC") from None
            if utc.year < 1971:
                raise InvalidInputError("timestamp must be after 1970")
        path_text: str | None = None
        tree_path: str | None = None
        if file_path is not None:
            path_text, fired = self.redactor.text(check_path(file_path))
            if fired:  # a secret in a path would reach the tree, trailers and entry.json
                noted = meta.get(REDACTIONS_KEY)
                noted = noted if isinstance(noted, dict) else {}
                meta[REDACTIONS_KEY] = dict(sorted({**noted, "file_path": fired}.items()))
                # the recorded path is not the file's: restoring to it must be refused
                meta["before_stored"] = meta["after_stored"] = False
            tree_path = to_tree_path(path_text, self.workdir)
        for key, state in (("before", before), ("after", after)):
            if isinstance(state, State):
                meta[f"file_size_{key}"] = state.size
                if not state.stored:
                    meta[f"{key}_stored"] = False
        what = (ctype, level, description, meta, path_text, tree_path, timestamp, before, after)
        with self._mutex:
            batch = self._batch
            if batch is not None:
                entry, new_tip = self._build(batch.sink, batch.tip, *what)
                batch.tip = new_tip
                batch.count += 1
                return entry
            self.store.ensure()
            with self.store.session_lock(self.session_id, self.lock_timeout):
                for _attempt in retry_cas():
                    tip = self.store.tip(self.session_id)
                    entry, new_tip = self._build(LooseSink(self.store.repo), tip, *what)
                    if self.store.compare_and_swap(
                        self.session_id, new_tip, tip, f"ledger: {ctype.value}"
                    ):
                        break
                    self._last = None
        self._wrote()  # outside the session lock: it may start background maintenance
        return entry

    def _last_time(self, sink: ObjectSink, tip: bytes | None) -> dt.datetime | None:
        if tip is None:
            return None
        if self._last is not None and self._last[0] == tip:
            return self._last[1]
        tree = _commit_tree(sink, tip)
        found = self._trees.get(sink, tree).get(ENTRY_FILE)
        if found is None:
            return None
        stamp = parse_timestamp(json.loads(sink.read(found[1])[1])["timestamp"])
        self._last = (tip, stamp)
        return stamp

    def _build(
        self,
        sink: ObjectSink,
        tip: bytes | None,
        ctype: ChangeType,
        level: LogLevel,
        description: str,
        meta: dict[str, Any],
        path_text: str | None,
        tree_path: str | None,
        timestamp: dt.datetime | None,
        before: Given,
        after: Given,
    ) -> tuple[Entry, bytes]:
        last = self._last_time(sink, tip)
        if timestamp is None:
            stamp = dt.datetime.now(dt.UTC)
            if last is not None and stamp < last:
                stamp = last  # the clock stepped back: keep the session in order
        else:
            stamp = timestamp.astimezone(dt.UTC)
            if last is not None and stamp < last:
                raise TimestampOrderError(
                    f"timestamp {stamp.isoformat()} is earlier than the session's last "
                    f"entry ({last.isoformat()})"
                )
        when = int(stamp.timestamp())
        parent = tip
        editor = TreeEditor(sink, self._trees, _commit_tree(sink, tip) if tip else None)
        drift = False
        hash_before: str | None = None
        hash_after: str | None = None
        if tree_path is not None:
            current = editor.get(tree_path)
            if isinstance(before, State):
                hash_before = before.oid.hex()
                want = (before.mode, self._tree_blob(sink, before))
                if before.stored and current != want:
                    parent = self._observe(sink, editor, parent, tree_path, want, current, when)
                    drift = current is not None
            elif isinstance(before, _Absent):
                if current is not None:
                    parent = self._observe(sink, editor, parent, tree_path, None, current, when)
                    drift = True
            elif current is not None:
                hash_before = current[1].hex()
            if isinstance(after, State):
                hash_after = after.oid.hex()
                editor.set(tree_path, self._tree_blob(sink, after), after.mode)
            elif isinstance(after, _Absent):
                editor.remove(tree_path)
        entry = Entry(
            id="",
            timestamp=stamp,
            session_id=self.session_id,
            agent_id=self.agent_id,
            change_type=ctype,
            description=description,
            level=level,
            file_path=path_text,
            file_hash_before=hash_before,
            file_hash_after=hash_after,
            metadata=meta,
            tree_path=tree_path,
            drift=drift,
            _loader=self.store.read_blob,
        )
        blob = sink.write(OBJ_BLOB, canonical_json(entry.to_json_dict()))
        editor.set(ENTRY_FILE, blob)
        tree = editor.write()
        raw = commit_bytes(
            tree,
            [parent] if parent else [],
            self.agent_id,
            self._email,
            when,
            entry_message(entry),
        )
        if self._sign is not None:
            raw = self._sign(raw)
        commit = sink.write(OBJ_COMMIT, raw)
        entry = dataclasses.replace(entry, id=commit.hex())
        self._last = (commit, stamp)
        return entry, commit

    def _tree_blob(self, sink: ObjectSink, state: State) -> bytes:
        if state.stored:
            return state.oid
        return sink.write(OBJ_BLOB, placeholder(state))

    def _observe(
        self,
        sink: ObjectSink,
        editor: TreeEditor,
        parent: bytes | None,
        tree_path: str,
        want: tuple[int, bytes] | None,
        current: tuple[int, bytes] | None,
        when: int,
    ) -> bytes:
        """Commit the before-state the agent saw, so the entry's own diff is exact."""
        kind = "first-seen" if current is None else "drift"
        if want is None:
            editor.remove(tree_path)
        else:
            editor.set(tree_path, want[1], want[0])
        tree = editor.write()
        shown = from_tree_path(tree_path)
        what = (
            "first seen by the session" if kind == "first-seen" else "changed outside the session"
        )
        message = commit_message(
            f"observe: {shown} {what}",
            [
                (T_OBSERVATION, kind),
                (T_SESSION, self.session_id),
                (T_AGENT, self.agent_id),
                (T_FILE, tree_path),
            ],
        )
        return sink.write(
            OBJ_COMMIT,
            commit_bytes(
                tree, [parent] if parent else [], self.agent_id, self._email, when, message
            ),
        )

    def _flush(self, batch: _Batch) -> None:
        if batch.tip is None or batch.tip == batch.base:
            return
        try:
            batch.sink.flush(self.store.path / "objects", self.durable)
        except OSError as exc:
            raise StorageError(f"cannot write the batch's pack: {exc}") from exc
        if not self.store.compare_and_swap(
            self.session_id,
            batch.tip,
            batch.base,
            f"ledger: batch of {batch.count} entries",
        ):
            raise StorageError(
                f"session {self.session_id} was moved by a writer outside git-ledger during "
                f"a batch; the batch's {batch.count} entries are unreferenced"
            )


_VERBS = {
    ChangeType.FILE_CREATE: "Created",
    ChangeType.FILE_UPDATE: "Updated",
    ChangeType.FILE_DELETE: "Deleted",
}


def _change_type(value: ChangeType | str) -> ChangeType:
    return change_type(value)


def _commit_tree(sink: ObjectSink, commit: bytes) -> bytes:
    obj_type, data = sink.read(commit)
    if obj_type != OBJ_COMMIT or not data.startswith(b"tree "):
        raise StorageError(f"object {commit.hex()} is not a commit")
    return bytes.fromhex(data[5:45].decode())


def _numbers(code: Any, duration: Any, name: str) -> tuple[int, float | None]:
    """An integer code and an optional duration in seconds, or InvalidInputError."""
    try:
        return int(code), None if duration is None else float(duration)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(
            f"{name} must be an integer and duration a number of seconds"
        ) from None


def _bounded(key: str, text: str) -> dict[str, Any]:
    if not isinstance(text, str):
        text = str(text)
    if len(text) <= MAX_TEXT_CHARS:
        return {key: text}
    return {key: text[:MAX_TEXT_CHARS], f"{key}_truncated": True, f"{key}_chars": len(text)}
