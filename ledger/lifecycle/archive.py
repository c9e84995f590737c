"""Archives: idle sessions rotated out into verified git bundles, listed and restored.

Each bundle under ``archive/`` has a catalogue entry beside it (same stem, ``.json``) with
each session's tip, entry count and first and last entry times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pygit2

from ledger._git import git_executable, run_git
from ledger._layout import BUNDLE_PREFIX, BUNDLE_SUFFIX, MANIFEST_SUFFIX, SESSION_REF_PREFIX
from ledger._names import validate_session_id
from ledger._store import LedgerStore
from ledger.errors import ArchiveError, ArchiveNotFoundError
from ledger.lifecycle.base import StorageBase
from ledger.lifecycle.facts import iso, session_facts
from ledger.read.archived import unpack_bundle

# (session, tip, commit time) of a session to retire, oldest first.
OldSession = tuple[str, bytes, int]


def bundles(archive_dir: Path) -> list[Path]:
    """Every bundle in the archive folder, oldest name first."""
    if not archive_dir.is_dir():
        return []
    return sorted(p for p in archive_dir.glob("*" + BUNDLE_SUFFIX) if not p.name.startswith("."))


# -- the catalogue ----------------------------------------------------------------------------
def list_archives(storage: StorageBase) -> list[dict[str, Any]]:
    """Every bundle in ``archive/``: path, size, creation time and sessions."""
    out = []
    for bundle in bundles(storage.archive_dir):
        manifest_path = bundle.with_suffix(MANIFEST_SUFFIX)
        sessions: dict[str, Any] = {}
        created = None
        if manifest_path.exists():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(manifest_path.read_text())
                sessions = dict(data.get("sessions") or {})
                created = data.get("created")
        if not sessions:
            sessions = {
                ref[len(SESSION_REF_PREFIX) :]: {"tip": oid}
                for ref, oid in bundle_heads(storage.ledger_dir, bundle).items()
                if ref.startswith(SESSION_REF_PREFIX)
            }
        out.append(
            {
                "bundle": str(bundle),
                "name": bundle.name,
                "size_bytes": bundle.stat().st_size,
                "created": created,
                "sessions": len(sessions),
                "entries": sum(int(s.get("entries") or 0) for s in sessions.values()),
                "session_ids": sorted(sessions),
                "first_entry": min(
                    (s["first_entry"] for s in sessions.values() if s.get("first_entry")),
                    default=None,
                ),
                "last_entry": max(
                    (s["last_entry"] for s in sessions.values() if s.get("last_entry")),
                    default=None,
                ),
            }
        )
    return out


# -- rotating sessions out --------------------------------------------------------------------
def retire(storage: StorageBase, old: list[OldSession], result: dict[str, Any]) -> None:
    """Bundle the sessions, verify the bundle, then delete each unchanged ref."""
    bundle, manifest = write_bundle(storage, old)
    result["archive"] = str(bundle)
    store = storage.store
    for i, (sid, tip, _) in enumerate(old):
        with store.session_lock(sid):
            if store.tip(sid) != tip:
                # A writer appended after we looked: the session is alive again.
                result["sessions_skipped"].append(sid)
                continue
            run_git(storage.ledger_dir, "update-ref", "-d", SESSION_REF_PREFIX + sid, tip.hex())
        result["deleted_old"] += 1
        result["sessions_archived"].append(sid)
        result["archived_entries"] += manifest["sessions"][sid]["entries"]
        storage._tick("retiring", i + 1, len(old))
    result["archived"] = len(result["sessions_archived"])
    storage._say(
        f"Archived {result['archived']} session(s) ({result['archived_entries']} entries) "
        f"to {bundle} and removed their refs"
        + (f": {', '.join(result['sessions_archived'][:10])}" if result["archived"] else "")
        + (" …" if result["archived"] > 10 else "")
    )
    if result["sessions_skipped"]:
        storage._say(
            f"Kept {len(result['sessions_skipped'])} session(s) that received new entries "
            f"during maintenance: {', '.join(result['sessions_skipped'])}"
        )


def _manifest(repo: pygit2.Repository, old: list[OldSession]) -> dict[str, Any]:
    manifest: dict[str, Any] = {"created": dt.datetime.now(dt.UTC).isoformat(), "sessions": {}}
    for sid, tip, _ in old:
        facts = session_facts(repo, sid, tip)
        manifest["sessions"][sid] = {
            "tip": tip.hex(),
            "entries": facts.entries,
            "first_entry": iso(facts.first),
            "last_entry": iso(facts.last),
        }
    return manifest


def write_bundle(storage: StorageBase, old: list[OldSession]) -> tuple[Path, dict[str, Any]]:
    """Write the sessions to a new verified bundle and its catalogue entry."""
    archive_dir = storage.archive_dir
    archive_dir.mkdir(mode=0o700, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = archive_dir / f"{BUNDLE_PREFIX}{stamp}{BUNDLE_SUFFIX}"
    manifest = _manifest(storage.store.repo, old)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=BUNDLE_SUFFIX, dir=archive_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # The bundle names each session by its ref; a ref that moved on since we
        # looked is bundled at its newer tip and then kept (see retire).
        revs = "\n".join(SESSION_REF_PREFIX + sid for sid, _, _ in old) + "\n"
        storage._tick("archiving", 0, len(old))
        tmp.unlink()
        run_git(storage.ledger_dir, "bundle", "create", "-q", str(tmp), "--stdin", input=revs)
        verify_bundle(storage, tmp, {SESSION_REF_PREFIX + sid: tip for sid, tip, _ in old})
        manifest_path = final.with_suffix(MANIFEST_SUFFIX)
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, final)
        # Readers open archived entries from the bundle's pack: index it now, while the
        # objects are still in the ledger anyway, so that the first answer need not.
        unpack_bundle(storage.ledger_dir, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return final, manifest


def verify_bundle(
    storage: StorageBase, bundle: Path, expected: Mapping[str, bytes]
) -> dict[str, str]:
    """``git bundle verify`` it and check it holds each ref at (or past) the tip wanted."""
    proc = run_git(storage.ledger_dir, "bundle", "verify", "-q", str(bundle), check=False)
    if proc.returncode != 0:
        raise ArchiveError(f"archive {bundle} failed git bundle verify: {proc.stderr.strip()}")
    heads = bundle_heads(storage.ledger_dir, bundle)
    repo = storage.store.repo
    for ref, tip in expected.items():
        got = heads.get(ref)
        if got is None:
            raise ArchiveError(f"archive {bundle} lacks {ref}")
        got_raw = bytes.fromhex(got)
        if got_raw != tip and not repo.descendant_of(pygit2.Oid(raw=got_raw), pygit2.Oid(raw=tip)):
            raise ArchiveError(f"archive {bundle} holds {ref} at {got}, not {tip.hex()}")
    return heads


def bundle_heads(ledger: Path, bundle: Path) -> dict[str, str]:
    """The refs a bundle holds and their object ids (hex)."""
    proc = run_git(ledger, "bundle", "list-heads", str(bundle), check=False)
    if proc.returncode != 0:
        raise ArchiveError(f"cannot read archive {bundle}: {proc.stderr.strip()}")
    heads: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        oid, _, ref = line.partition(" ")
        if ref:
            heads[ref] = oid
    return heads


# -- bringing sessions back -------------------------------------------------------------------
def find_bundle(storage: StorageBase, bundle: str | os.PathLike[str]) -> Path:
    """The bundle as given, or by its name in the archive folder (ArchiveNotFoundError)."""
    path = Path(os.fspath(bundle))
    for candidate in (path, storage.archive_dir / path.name):
        if candidate.is_file():
            return candidate.absolute()
    raise ArchiveNotFoundError(f"no archive {bundle} (looked in {storage.archive_dir} too)")


def restore_archive(storage: StorageBase, bundle: str | os.PathLike[str]) -> dict[str, Any]:
    """Bring a bundle's sessions back as session refs; refs never move backwards.

    A session absent from the ledger is recreated; one already at or past the bundled
    tip is left alone; one that the bundled tip extends is moved forward; one whose
    history differs (a new session reused the id) is restored as ``<id>.restored-N``.
    """
    git_executable()
    path = find_bundle(storage, bundle)
    store = storage.store
    restored: list[str] = []
    present: list[str] = []
    renamed: dict[str, str] = {}
    with storage.maintenance_lock(timeout=30.0):
        heads = verify_bundle(storage, path, {})
        proc = run_git(storage.ledger_dir, "bundle", "unbundle", str(path), check=False)
        if proc.returncode != 0:
            raise ArchiveError(f"cannot unbundle {path}: {proc.stderr.strip()}")
        for ref, hexid in sorted(heads.items()):
            if not ref.startswith(SESSION_REF_PREFIX):
                continue
            sid = validate_session_id(ref[len(SESSION_REF_PREFIX) :])
            target = _restore_session(store, sid, bytes.fromhex(hexid))
            if target is None:
                present.append(sid)
                continue
            if not target:
                continue  # the fresh name was taken meanwhile
            if target != sid:
                renamed[sid] = target
            restored.append(target)
    storage._say(
        f"Restored {len(restored)} session(s) from {path}"
        + (f"; {len(present)} already present" if present else "")
        + "".join(f"; {a} restored as {b}" for a, b in renamed.items())
    )
    return {"bundle": str(path), "restored": restored, "present": present, "renamed": renamed}


def _restore_session(store: LedgerStore, sid: str, new: bytes) -> str | None:
    """Point ``sid`` (or a fresh ``<sid>.restored-N``) at ``new`` and return the name used.

    None when the session is already at or past ``new``; "" when the fresh name was taken.
    """
    repo = store.repo
    with store.session_lock(sid):
        current = store.tip(sid)
        if current == new or (
            current is not None and repo.descendant_of(pygit2.Oid(raw=current), pygit2.Oid(raw=new))
        ):
            return None
        forward = current is None or repo.descendant_of(
            pygit2.Oid(raw=new), pygit2.Oid(raw=current)
        )
        if forward and store.compare_and_swap(sid, new, current, "ledger: restore archive"):
            return sid
    target = sid
    for n in range(1, 1000):
        target = validate_session_id(f"{sid[:110]}.restored-{n}")
        if store.tip(target) is None:
            break
    with store.session_lock(target):
        if store.compare_and_swap(target, new, None, "ledger: restore archive"):
            return target
    return ""
