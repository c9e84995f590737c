"""Entry to commit: the tree, any observation commit and the entry commit of one Draft.

The session ref moves by compare-and-swap through the store: once per entry, or once per batch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable

from ledger._layout import ENTRY_FILE
from ledger._names import agent_email, from_tree_path
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
from ledger.content import State, placeholder
from ledger.entry import (
    T_AGENT,
    T_FILE,
    T_OBSERVATION,
    T_SESSION,
    Entry,
    canonical_json,
    commit_message,
    entry_message,
    parse_timestamp,
)
from ledger.errors import StorageError
from ledger.write.clock import max_clock_skew
from ledger.write.draft import Absent, Draft
from ledger.write.session import entry_time

Signer = Callable[[bytes], bytes]


@dataclasses.dataclass
class Batch:
    """Entries written into one pack, published with one ref update from ``base`` to ``tip``."""

    sink: PackSink
    base: bytes | None
    tip: bytes | None
    count: int = 0


@dataclasses.dataclass
class _FileChange:
    """What a Draft's file states did to the tree: the entry's parent, drift and hashes."""

    parent: bytes | None
    drift: bool = False
    hash_before: str | None = None
    hash_after: str | None = None


class CommitWriter:
    """Writes one session's entries as commits; callers serialise its use.

    Args:
        store: the ledger.
        session_id: the session whose branch receives the commits.
        agent_id: the author of the commits.
        sign: signs each entry commit's bytes (``ledger.signEntries``), or None.
    """

    def __init__(
        self, store: LedgerStore, session_id: str, agent_id: str, sign: Signer | None = None
    ) -> None:
        self.store = store
        self.session_id = session_id
        self.agent_id = agent_id
        self.sign = sign
        self._email = agent_email(agent_id)
        self._trees = TreeCache()
        # The tip this writer last wrote or read, its timestamp and its tree.
        self._last: tuple[bytes, dt.datetime | None, bytes] | None = None
        self._skew: float | None = None  # ledger.maxClockSkew, read at the first given time

    def commit(self, draft: Draft, lock_timeout: float) -> Entry:
        """Write one entry and move the session ref to it (retried when the ref moved)."""
        self.store.ensure()
        with self.store.session_lock(self.session_id, lock_timeout):
            for _attempt in retry_cas():
                tip = self.store.tip(self.session_id)
                entry, new_tip = self.build(LooseSink(self.store.repo), tip, draft)
                if self.store.compare_and_swap(
                    self.session_id, new_tip, tip, f"ledger: {draft.change_type.value}"
                ):
                    break
                self._last = None
        return entry

    def add(self, batch: Batch, draft: Draft) -> Entry:
        """Write one entry into a batch (the ref moves when the batch is flushed)."""
        entry, new_tip = self.build(batch.sink, batch.tip, draft)
        batch.tip = new_tip
        batch.count += 1
        return entry

    def flush(self, batch: Batch, durable: bool) -> None:
        """Write the batch's pack and move the session ref from its base to its tip."""
        if batch.tip is None or batch.tip == batch.base:
            return
        try:
            batch.sink.flush(self.store.path / "objects", durable)
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

    def build(self, sink: ObjectSink, tip: bytes | None, draft: Draft) -> tuple[Entry, bytes]:
        """Write the entry's objects after ``tip``; return the entry and its commit id."""
        if self._skew is None and draft.timestamp is not None:
            self._skew = max_clock_skew(self.store.repo)
        last = self._tip_facts(sink, tip)
        stamp = entry_time(draft.timestamp, last[1] if last else None, self._skew)
        when = int(stamp.timestamp())
        editor = TreeEditor(sink, self._trees, last[2] if last else None)
        change = self._apply_states(sink, editor, tip, draft, when)
        entry = Entry(
            id="",
            timestamp=stamp,
            session_id=self.session_id,
            agent_id=self.agent_id,
            change_type=draft.change_type,
            description=draft.description,
            level=draft.level,
            file_path=draft.file_path,
            file_hash_before=change.hash_before,
            file_hash_after=change.hash_after,
            metadata=draft.metadata,
            tree_path=draft.tree_path,
            drift=change.drift,
            _loader=self.store.read_blob,
        )
        blob = sink.write(OBJ_BLOB, canonical_json(entry.to_json_dict()))
        editor.set(ENTRY_FILE, blob)
        tree = editor.write()
        parents = [change.parent] if change.parent else []
        raw = commit_bytes(tree, parents, self.agent_id, self._email, when, entry_message(entry))
        if self.sign is not None:
            raw = self.sign(raw)
        commit = sink.write(OBJ_COMMIT, raw)
        # The id is the commit's, known only now; the entry has not been handed out yet.
        object.__setattr__(entry, "id", commit.hex())
        self._last = (commit, stamp, tree)
        return entry, commit

    def _apply_states(
        self, sink: ObjectSink, editor: TreeEditor, tip: bytes | None, draft: Draft, when: int
    ) -> _FileChange:
        """Put the draft's file states in the tree, observing a before-state first if needed."""
        change = _FileChange(tip)
        tree_path = draft.tree_path
        if tree_path is None:
            return change
        before, after = draft.before, draft.after
        current = editor.get(tree_path)
        if isinstance(before, State):
            change.hash_before = before.oid.hex()
            want = (before.mode, self._tree_blob(sink, before))
            if before.stored and current != want:
                change.parent = self._observe(sink, editor, tip, tree_path, want, current, when)
                change.drift = current is not None
        elif isinstance(before, Absent):
            if current is not None:
                change.parent = self._observe(sink, editor, tip, tree_path, None, current, when)
                change.drift = True
        elif current is not None:
            change.hash_before = current[1].hex()
        if isinstance(after, State):
            change.hash_after = after.oid.hex()
            editor.set(tree_path, self._tree_blob(sink, after), after.mode)
        elif isinstance(after, Absent):
            editor.remove(tree_path)
        return change

    def _tip_facts(
        self, sink: ObjectSink, tip: bytes | None
    ) -> tuple[bytes, dt.datetime | None, bytes] | None:
        """The tip with its entry's timestamp and its tree (kept from this writer's last
        write when the tip is still that commit), or None for a new session."""
        if tip is None:
            return None
        if self._last is not None and self._last[0] == tip:
            return self._last
        tree = _commit_tree(sink, tip)
        found = self._trees.get(sink, tree).get(ENTRY_FILE)
        stamp = None
        if found is not None:
            stamp = parse_timestamp(json.loads(sink.read(found[1])[1])["timestamp"])
        self._last = (tip, stamp, tree)
        return self._last

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


def _commit_tree(sink: ObjectSink, commit: bytes) -> bytes:
    obj_type, data = sink.read(commit)
    if obj_type != OBJ_COMMIT or not data.startswith(b"tree "):
        raise StorageError(f"object {commit.hex()} is not a commit")
    return bytes.fromhex(data[5:45].decode())
