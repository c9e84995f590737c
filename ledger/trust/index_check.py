"""verify's look at the query index: it is disposable, so what is wrong is a warning.

The index must never be able to hide an entry. verify proves its rows against their keyed
seal (:mod:`ledger.read.index_seal`) and each session's indexed count against the count
verify itself walked in git, for the sessions whose indexed tip is the tip it checked. An
index that fails is reported as a note and deleted: the next query rebuilds it from git.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from ledger._layout import INDEX_FILE
from ledger._store import LedgerStore
from ledger.read.index import QueryIndex
from ledger.trust.checks import Walk
from ledger.trust.findings import Findings


def check_index(
    store: LedgerStore, sessions: Mapping[str, bytes], walks: Mapping[str, Walk], out: Findings
) -> None:
    """Note (and delete) a query index that is edited or disagrees with the sessions walked."""
    index = QueryIndex(store)
    why = index.check() or _counts_disagree(index, sessions, walks)
    if why is None:
        return
    dropped = index.drop()
    out.note(
        "index-untrusted",
        INDEX_FILE,
        f"the query index cannot be trusted ({why}); "
        + ("deleted: queries rebuild it from git" if dropped else "queries bypass it"),
    )


def _counts_disagree(
    index: QueryIndex, sessions: Mapping[str, bytes], walks: Mapping[str, Walk]
) -> str | None:
    if not index.path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{index.path}?mode=ro", uri=True, timeout=600)
        try:
            rows = conn.execute(
                "SELECT session, tip, count FROM sessions WHERE archived = 0"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"unreadable ({exc})"
    for session, tip, count in rows:
        raw = sessions.get(session)
        walk = walks.get(session)
        if raw is not None and walk is not None and raw.hex() == tip and walk.total != count:
            return f"it counts {count} entries in session {session}, git holds {walk.total}"
    return None
