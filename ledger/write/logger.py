"""ChangeLogger: the write side. Each log call becomes one commit on the session's branch."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ledger._layout import SESSION_REF_PREFIX
from ledger._names import check_path, to_tree_path, validate_agent_id, validate_session_id
from ledger._objects import LooseSink, ObjectSink, PackSink
from ledger._repoid import identity
from ledger._store import LedgerStore
from ledger._upkeep import maybe_start_maintenance
from ledger.content import DEFAULT_MAX_CONTENT_BYTES, state_from_bytes, state_from_disk, to_bytes
from ledger.entry import Entry
from ledger.errors import InvalidInputError
from ledger.location import absolute, resolve_ledger_dir
from ledger.trust.redact import Redactor
from ledger.trust.redact.fill import marks_of
from ledger.trust.signing import entry_signer
from ledger.types import ChangeType, LogLevel
from ledger.types import change_type as _change_type
from ledger.write.commit import Batch, CommitWriter, Signer
from ledger.write.draft import (
    ABSENT,
    UNKNOWN,
    VERBS,
    Given,
    api_fields,
    command_fields,
    make_draft,
    refuse_secret_ids,
    status_level,
    workspace_path,
)
from ledger.write.session import (
    DEFAULT_AGENT,
    ENV_AGENT,
    ENV_SESSION,
    new_session_id,
    session_summary,
)


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
        log_dir: the original logging system's name for ``ledger_dir``.
        signer: signs each entry commit's bytes; by default the ledger's
            ``ledger.signEntries`` setting decides, read once at the first write.
        repository: name the git repository around ``workdir`` on every entry
            (``metadata["repository"]``: root, remote URL without credentials, HEAD,
            branch, read once) unless the metadata names one; False leaves it out.
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
        signer: Signer | None = None,
        repository: bool = True,
    ) -> None:
        if agent_id is None:
            agent_id = os.environ.get(ENV_AGENT) or DEFAULT_AGENT
        if session_id is None:
            session_id = os.environ.get(ENV_SESSION) or new_session_id()
        self.agent_id = validate_agent_id(agent_id)
        self.session_id = validate_session_id(session_id)
        self.workdir = absolute(workdir)
        self.ledger_dir = resolve_ledger_dir(
            ledger_dir if ledger_dir is not None else log_dir, cwd=self.workdir
        )
        self.store = LedgerStore(self.ledger_dir, create=True, durable=durable)
        self.durable = durable
        self.max_content_bytes = max_content_bytes
        self.lock_timeout = lock_timeout
        self._mutex = threading.RLock()
        self._writer = CommitWriter(self.store, self.session_id, self.agent_id, signer)
        self._signer_ready = signer is not None
        self._batch: Batch | None = None
        self._writes = 0
        self._redactor: Redactor | None = None
        self._repository = identity(str(self.workdir)) if repository else {}

    @property
    def redactor(self) -> Redactor:
        """The ledger's secret redactor (loaded on first use)."""
        if self._redactor is None:
            self.store.ensure()
            redactor = Redactor.for_ledger(self.ledger_dir, self.store.repo)
            refuse_secret_ids(redactor, self.session_id, self.agent_id)
            self._redactor = redactor
        return self._redactor

    @property
    def branch(self) -> str:
        """The session's ref: ``refs/heads/sessions/<session_id>``."""
        return SESSION_REF_PREFIX + self.session_id

    # -- the API of the original agent change logging system -----------------------------
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
        notes: dict[str, list[Any]] = {}
        before = self._given(sink, path_text, "before", before_content, notes)
        if before is UNKNOWN and ctype is ChangeType.FILE_CREATE:
            before = ABSENT
        after = self._given(sink, path_text, "after", after_content, notes)
        if after is UNKNOWN and ctype is ChangeType.FILE_DELETE:
            after = ABSENT
        if description is None:
            description = f"{VERBS.get(ctype, ctype.value)} {path_text}"
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
        text, exit_code, meta = command_fields(command, output, exit_code, stderr, duration, cwd)
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
        meta = api_fields(endpoint, method, request_data, response_data, status_code, duration)
        status_code = meta["status_code"]
        if level is None:
            level = status_level(status_code)
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
        full = workspace_path(self.workdir, path)
        sink = self._sink()
        notes: dict[str, list[Any]] = {}
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
                    description or f"{VERBS[ctype]} {os.fspath(path)}",
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
                current = Batch(PackSink(self.store.repo), tip, tip)
                self._batch = current
                try:
                    yield
                finally:
                    self._batch = None
                    self._writer.flush(current, self.durable)
            self._wrote()

    def get_session_summary(self) -> dict[str, Any]:
        """Counts and times for this session, read back from its branch."""
        entries = list(self.store.walk_session(self.session_id)) if self.store.exists else []
        entries.reverse()
        return {
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "branch": self.branch,
            "ledger_dir": str(self.ledger_dir),
            **session_summary(entries),
        }

    # -- internals ------------------------------------------------------------------------
    def _open(self) -> Redactor:
        """Ready the ledger for writing: its redactor and, once, the entry signer."""
        redactor = self.redactor
        if not self._signer_ready:
            self._writer.sign = entry_signer(self.ledger_dir, self.store.repo)
            self._signer_ready = True
        return redactor

    def _wrote(self) -> None:
        """On the first write and every 64th, let storage start background maintenance."""
        self._writes += 1
        if self._writes % 64 == 1:
            maybe_start_maintenance(self.ledger_dir)

    def _sink(self) -> ObjectSink:
        batch = self._batch
        return batch.sink if batch is not None else LooseSink(self.store.repo)

    def _redact_file(
        self, path: str | os.PathLike[str], which: str, notes: dict[str, list[Any]]
    ) -> Callable[[bytes], bytes]:
        """A filter that redacts one file state's content, noting the rules that fired and
        where its markers are (``<which>_state`` and ``<which>_marks``)."""
        name = os.fsdecode(os.fspath(path)) if isinstance(path, str | bytes | os.PathLike) else ""

        def redact(data: bytes) -> bytes:
            result = self._open().redact_file(name, data)
            if result.spans:
                notes[f"{which}_state"] = result.rules
                notes[f"{which}_marks"] = marks_of(result)
            else:
                notes.pop(f"{which}_state", None)
                notes.pop(f"{which}_marks", None)
            assert isinstance(result.value, bytes)
            return result.value

        return redact

    def _given(
        self,
        sink: ObjectSink,
        path_text: str,
        which: str,
        content: str | bytes | None,
        notes: dict[str, list[Any]],
    ) -> Given:
        """The stored, redacted state of given content, or UNKNOWN when it is None."""
        if content is None:
            return UNKNOWN
        data = to_bytes(content, f"{which}_content")
        data = self._redact_file(path_text, which, notes)(data)
        return state_from_bytes(sink, data, self.max_content_bytes)

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
        file_notes: Mapping[str, list[Any]] | None = None,
    ) -> Entry:
        if self._repository and (metadata is None or isinstance(metadata, Mapping)):
            metadata = {"repository": self._repository, **(metadata or {})}
        draft = make_draft(
            self._open,
            self.workdir,
            ctype_in,
            description,
            metadata,
            level_in,
            file_path,
            timestamp,
            before,
            after,
            file_notes,
        )
        with self._mutex:
            batch = self._batch
            if batch is not None:
                return self._writer.add(batch, draft)
            entry = self._writer.commit(draft, self.lock_timeout)
        self._wrote()  # outside the session lock: it may start background maintenance
        return entry
