"""Many machines, one ledger: push and pull sessions through ordinary git remotes.

Only the ledger's refs travel (``refs/heads/sessions/*`` and ``refs/ledger/*``), never by
force. A session id that two machines wrote with different histories is kept under a
distinct name on the receiving side, and a central ledger refuses rewrites with a guard hook.

``from ledger import sync`` gives the public functions: remotes (:mod:`.remotes`), push and
the background push (:mod:`.push`), pull (:mod:`.pull`) and a central ledger (:mod:`.central`).
"""

from __future__ import annotations

from ledger.sync.central import (
    CENTRAL_CONFIG,
    GUARD_CHAINED,
    GUARD_MARK,
    guard_script,
    init_central,
    install_guard,
)
from ledger.sync.pull import PullResult, pull
from ledger.sync.push import (
    DEFAULT_BATCH,
    PushResult,
    background_push,
    push,
    push_in_background,
)
from ledger.sync.remotes import (
    AUTO_PUSH_KEY,
    MACHINE_KEY,
    RemoteInfo,
    add_remote,
    auto_push_remote,
    list_remotes,
    machine_name,
    redact_url,
    remove_remote,
    validate_remote_name,
)

__all__ = [
    "AUTO_PUSH_KEY",
    "CENTRAL_CONFIG",
    "DEFAULT_BATCH",
    "GUARD_CHAINED",
    "GUARD_MARK",
    "MACHINE_KEY",
    "PullResult",
    "PushResult",
    "RemoteInfo",
    "add_remote",
    "auto_push_remote",
    "background_push",
    "guard_script",
    "init_central",
    "install_guard",
    "list_remotes",
    "machine_name",
    "pull",
    "push",
    "push_in_background",
    "redact_url",
    "remove_remote",
    "validate_remote_name",
]
