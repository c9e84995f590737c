"""Redacted file states in undo: which states are redacted, and their exact originals.

A redacted state's blob holds markers where the file held secrets. Undo never writes such a
blob: it rebuilds the original by filling every marker with the secret of the file on disk
whose keyed fingerprint is the marker's, or it refuses the file (even with ``--force``).
"""

from __future__ import annotations

import dataclasses

import pygit2

from ledger._graph import first_parents, is_observation
from ledger._names import from_tree_path
from ledger._store import LedgerStore
from ledger.trust.redact import MARKER_PREFIX, REDACTIONS_KEY, Redactor, load_key
from ledger.trust.redact.config import ledger_settings
from ledger.trust.redact.fill import MARKS_KEY, Mark, fill, marker_marks, parse_marks, secrets_in
from ledger.undo.history import FileState, Recorded, tree_state
from ledger.undo.workspace import DiskState, blob_id


def with_marks(
    store: LedgerStore,
    point: pygit2.Commit | None,
    child: pygit2.Commit | None,
    tree_path: str,
    state: Recorded,
) -> Recorded:
    """``state`` (the file's state in ``point``'s tree) with its marks when it is redacted.

    The entry that put the blob in the tree says: an observation commit's before-state is
    described by the entry after it, any other commit's by its own after-state. A blob with
    markers whose entry cannot be read counts as redacted: undo never writes a marker.
    """
    if not isinstance(state, FileState) or not state.stored or point is None:
        return state
    data = store.read_blob(state.oid)
    if data is None or MARKER_PREFIX.encode() not in data:
        return state  # a redacted state always holds a marker: most files need no walk
    origin, newer = point, child
    for commit in first_parents(store.repo, point):
        now = tree_state(commit, tree_path)
        if now is None or now.oid != state.oid:
            break
        if commit.id != origin.id:
            newer = origin
        origin = commit
    holder, which = (newer, "before") if is_observation(origin) else (origin, "after")
    entry = store.entry_from_commit(holder) if holder is not None else None
    marks: list[Mark] | None = None
    if entry is not None:
        recorded = entry.metadata.get(MARKS_KEY)
        if isinstance(recorded, dict) and which in recorded:
            marks = parse_marks(recorded[which])
        noted = entry.metadata.get(REDACTIONS_KEY)
        if marks is None and isinstance(noted, dict) and f"{which}_state" in noted:
            marks = _markers(store, state.oid)  # recorded before marks were kept
    else:
        marks = _markers(store, state.oid) or None
    if not marks:
        return state
    return dataclasses.replace(state, marks=tuple(marks))


def _markers(store: LedgerStore, oid: str) -> list[Mark]:
    data = store.read_blob(oid)
    return marker_marks(data) if data is not None else []


def undo_redactor(store: LedgerStore) -> Redactor:
    """The ledger's redactor with its key, on even where redaction is now turned off."""
    _enabled, rules, paths, keys = ledger_settings(store.repo.config)
    return Redactor(load_key(store.path), rules, paths, keys)


@dataclasses.dataclass
class Exact:
    """Rebuilds redacted states from files on disk, and knows a file's redacted form."""

    store: LedgerStore
    _redactor: Redactor | None = None

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            self._redactor = undo_redactor(self.store)
        return self._redactor

    def original(self, tree_path: str, state: FileState, disk: DiskState) -> bytes | None:
        """The exact original of a redacted state, filled from ``disk``; None if it cannot be."""
        assert state.marks is not None
        stored = self.store.read_blob(state.oid)
        if stored is None or disk.data is None or disk.mode is None:
            return None
        found = secrets_in(self.redactor, from_tree_path(tree_path), disk.data)
        return fill(stored, state.marks, found)

    def redacted_id(self, tree_path: str, disk: DiskState) -> str | None:
        """The blob id the ledger records for the file on disk (its redacted form)."""
        if disk.data is None:
            return None
        result = self.redactor.redact_file(from_tree_path(tree_path), disk.data)
        if not result.spans:
            return disk.oid
        assert isinstance(result.value, bytes)
        return blob_id(result.value)


def refusal(paths: list[str]) -> str:
    """The one-line refusal for redacted states that cannot be restored exactly."""
    return (
        "the recorded state of "
        + ", ".join(paths)
        + " was redacted (it held a secret) and the file on disk does not hold the same "
        "secret to fill it back exactly; not restored (--force does not override this), "
        "the file on disk keeps its bytes"
    )
