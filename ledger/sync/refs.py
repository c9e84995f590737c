"""The refs that travel between ledgers: which they are, where a remote's are staged.

Also the names under which a session's divergent history from another machine is kept.
"""

from __future__ import annotations

import pygit2

from ledger._layout import LEDGER_REF_PREFIX, SESSION_REF_PREFIX, STAGING_PREFIX
from ledger._names import validate_session_id


def is_ledger_ref(name: str) -> bool:
    """True for the refs that travel: sessions and ``refs/ledger/*``."""
    return name.startswith(SESSION_REF_PREFIX) or name.startswith(LEDGER_REF_PREFIX)


def ref_target(ref: pygit2.Reference) -> bytes:
    """The raw id of the commit a ref (or the ref it points to) names."""
    target = ref.resolve().target
    return bytes.fromhex(target) if isinstance(target, str) else bytes(target.raw)


def copy_name(ref: str, origin: str, tip: bytes) -> str:
    """Where ``origin``'s divergent history of ``ref`` is kept: ``<ref>--from-<origin>-<tip>``."""
    suffix = f"--from-{origin}-{tip.hex()[:8]}"
    if ref.startswith(SESSION_REF_PREFIX):
        sid = ref[len(SESSION_REF_PREFIX) :]
        sid = sid[: 128 - len(suffix)].rstrip(".")
        return SESSION_REF_PREFIX + validate_session_id(sid + suffix)
    return ref + suffix


def copy_prefix(ref: str, origin: str) -> str:
    """What every :func:`copy_name` of ``ref`` from ``origin`` starts with."""
    if ref.startswith(SESSION_REF_PREFIX):
        suffix = f"--from-{origin}-"
        sid = ref[len(SESSION_REF_PREFIX) :]
        return SESSION_REF_PREFIX + sid[: 128 - len(suffix) - 8].rstrip(".") + suffix
    return ref + f"--from-{origin}-"


def fetch_specs(name: str) -> list[str]:
    """The refspecs fetching all of remote ``name``'s ledger refs into its staging namespace."""
    # The staging namespace mirrors the remote like refs/remotes/* does, so it follows the
    # remote even if the remote was rewound; ledger refs themselves are never forced.
    stage = f"{STAGING_PREFIX}{name}/"
    return [
        f"+{SESSION_REF_PREFIX}*:{stage}sessions/*",
        f"+{LEDGER_REF_PREFIX}*:{stage}ledger/*",
    ]


def specs_for(name: str, ref: str) -> list[str]:
    """The refspec fetching one ledger ref into the remote's staging namespace."""
    stage = f"{STAGING_PREFIX}{name}/"
    if ref.startswith(SESSION_REF_PREFIX):
        return [f"+{ref}:{stage}sessions/{ref[len(SESSION_REF_PREFIX) :]}"]
    return [f"+{ref}:{stage}ledger/{ref[len(LEDGER_REF_PREFIX) :]}"]


def local_refs(repo: pygit2.Repository, exclude_origin: str | None) -> dict[str, bytes]:
    """This ledger's refs that travel, with their tips, less copies from ``exclude_origin``."""
    out: dict[str, bytes] = {}
    marker = f"--from-{exclude_origin}-" if exclude_origin else None
    for ref in repo.references.iterator():
        name = ref.name
        if not is_ledger_ref(name):
            continue
        if marker and marker in name:
            continue  # a copy of what that remote holds: never sent back to it
        try:
            out[name] = ref_target(ref)
        except (pygit2.GitError, KeyError):
            continue
    return out


def descends(repo: pygit2.Repository, new: bytes, old: bytes) -> bool:
    """True when ``new`` has ``old`` in its history (both must be here)."""
    try:
        return bool(repo.descendant_of(pygit2.Oid(raw=new), pygit2.Oid(raw=old)))
    except (pygit2.GitError, KeyError, ValueError):
        return False


def has_object(repo: pygit2.Repository, oid: bytes) -> bool:
    """True when the ledger holds the object ``oid``."""
    return pygit2.Oid(raw=oid) in repo.odb
