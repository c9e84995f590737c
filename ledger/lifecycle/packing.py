"""Packing and pruning: routine runs roll new objects and small packs up geometrically
(:mod:`ledger.lifecycle.geometric`); a full run puts every reachable object into one
delta-compressed pack and drops the rest.

``git pack-objects`` packs; the clean-up is ours, so that it never races a libgit2 writer
and never drops what an in-flight writer has written but not yet published.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import time
from collections.abc import Mapping
from pathlib import Path

from ledger._git import run_git
from ledger._layout import MAINTENANCE_STATE
from ledger.lifecycle.base import StorageBase
from ledger.lifecycle.geometric import (
    PACK_DEPTH,
    PACK_INDEX_VERSION,
    PACK_WINDOW,
    full_repack_due,
    index_layout,
    pack_geometric,
    retired_bytes,
)
from ledger.lifecycle.usage import loose_dirs

TEMP_GRACE_SECONDS = 3600


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _pack_stats(pack_dir: Path) -> dict[str, os.stat_result]:
    out: dict[str, os.stat_result] = {}
    with contextlib.suppress(FileNotFoundError), os.scandir(pack_dir) as it:
        for item in it:
            if item.name.startswith("pack-") and item.name.endswith(".pack"):
                st = _stat(Path(item.path))
                if st is not None and (pack_dir / item.name).with_suffix(".idx").exists():
                    out[item.name] = st
    return out


class _PackIndex:
    """Membership test on a pack's ``.idx`` (v1 or v2) by binary search (nothing loaded whole)."""

    def __init__(self, pack: Path) -> None:
        self.data: mmap.mmap | bytes = b""
        with contextlib.suppress(OSError, ValueError), open(pack.with_suffix(".idx"), "rb") as f:
            self.data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        layout = index_layout(self.data[:8])
        if layout is None or len(self.data) < layout[0] + 1024:
            self.data = b""
            layout = (0, 0, 0)
        self.fan, self.stride, self.skip = layout

    def _name(self, i: int) -> bytes:
        at = self.fan + 1024 + self.stride * i + self.skip
        return bytes(self.data[at : at + 20])

    def names(self) -> list[bytes]:
        """Every object id in the pack, read from the index's table in one slice."""
        if not self.data:
            return []
        count = int.from_bytes(self.data[self.fan + 255 * 4 : self.fan + 256 * 4], "big")
        start, stride, skip = self.fan + 1024, self.stride, self.skip
        table = bytes(self.data[start : start + stride * count])
        return [table[at + skip : at + skip + 20] for at in range(0, stride * count, stride)]

    def within(self, held: set[bytes]) -> bool:
        """True when every object of this pack is in ``held``."""
        return bool(self.data) and held.issuperset(self.names())

    def __contains__(self, oid: bytes) -> bool:
        if not self.data:
            return False
        fan = self.fan
        hi = int.from_bytes(self.data[fan + 4 * oid[0] : fan + 4 * oid[0] + 4], "big")
        lo = (
            int.from_bytes(self.data[fan + 4 * (oid[0] - 1) : fan + 4 * oid[0]], "big")
            if oid[0]
            else 0
        )
        while lo < hi:
            mid = (lo + hi) // 2
            here = self._name(mid)
            if here == oid:
                return True
            if here < oid:
                lo = mid + 1
            else:
                hi = mid
        return False


def compress(
    storage: StorageBase, full: bool = False, *, fresh: bool = False
) -> tuple[int, int, bool]:
    """Pack what is new (geometric roll-up), or with ``full`` every reachable object into
    one delta-compressed pack, then drop what is packed or unreachable past the grace.

    A full run also happens by itself when maintenance has not packed yet or the sessions retired
    since the last one add up to half the packed bytes. ``git pack-objects`` does the
    packing; the clean-up is ours because git's
    ``prune-packed``/``prune`` remove emptied fan-out folders, which races a libgit2
    writer that has just created one to put a loose object in. An old pack goes once
    its reachable objects are in the new pack; a pack younger than the prune grace
    goes only if the new pack holds every object in it (maintenance's own packs that
    nobody touched since count as old). A loose object goes when a pack has it or it
    is older than the grace. ``fresh`` (``maintenance --full``) recomputes every delta
    instead of reusing those found before, as ``git gc --aggressive`` does. Returns (packs
    removed, loose object files removed, whether the run was a full repack).
    """
    ledger = storage.ledger_dir
    pack_dir = ledger / "objects" / "pack"
    pack_dir.mkdir(exist_ok=True)
    clean_temp(storage, pack_dir)
    ours = _our_packs(ledger)
    before = _pack_stats(pack_dir)
    keep = {name for name in before if (pack_dir / name).with_suffix(".keep").exists()}
    full = full or full_repack_due(ledger, pack_dir, ours)
    if full:
        made = _pack_objects(ledger, pack_dir, fresh)
        candidates = set(before) - keep
        covering = made
    else:
        made, candidates = pack_geometric(ledger, pack_dir, sorted(set(before) - keep))
        covering = made | (set(before) - candidates)
    grace = storage.prune_grace_seconds
    packs_removed = _drop_superseded_packs(pack_dir, candidates, covering, ours, grace)
    loose_removed = _drop_loose(ledger, pack_dir, grace)
    now = _pack_stats(pack_dir)
    remembered = {n: t for n, t in ours.items() if n in now and not full}
    remembered.update({name: now[name].st_mtime_ns for name in made if name in now})
    _remember_packs(ledger, remembered, 0 if full else retired_bytes(ledger))
    return packs_removed, loose_removed, full


def _pack_objects(ledger: Path, pack_dir: Path, fresh: bool = False) -> set[str]:
    """Run ``git pack-objects`` over everything reachable; the names of the packs made."""
    args = [
        "pack-objects",
        PACK_INDEX_VERSION,
        "--all",
        "--reflog",
        "--indexed-objects",
        "--non-empty",
        "--delta-base-offset",
        "--keep-true-parents",
        "--honor-pack-keep",
        "-q",
        # Deltas found once are reused (unless fresh), so a wide window costs only new objects.
        f"--window={PACK_WINDOW}",
        f"--depth={PACK_DEPTH}",
        *(["--no-reuse-delta"] if fresh else []),
    ]
    out = run_git(ledger, *args, str(pack_dir / "pack"), input="").stdout
    return {f"pack-{line.strip()}.pack" for line in out.split() if line.strip()}


def _drop_superseded_packs(
    pack_dir: Path,
    before: set[str],
    covering: set[str],
    ours: Mapping[str, int],
    grace: int,
) -> int:
    """Remove the packs superseded, unless young with objects no ``covering`` pack holds."""
    removed = 0
    held: set[bytes] | None = None  # the new packs' objects, read once when first needed
    for name in sorted(before - covering):
        st = _stat(pack_dir / name)
        if st is None:
            continue
        if _young(name, st, ours, grace):
            if held is None:
                held = {oid for new in covering - before
                        for oid in _PackIndex(pack_dir / new).names()}
            if not _PackIndex(pack_dir / name).within(held):
                # It holds unreachable objects and is young: an in-flight writer's batch,
                # or an old pack a writer just reused an object from. Keep it whole.
                continue
        for suffix in (".idx", ".rev", ".bitmap", ".pack"):
            with contextlib.suppress(FileNotFoundError):
                (pack_dir / name).with_suffix(suffix).unlink()
        removed += 1
    return removed


def _drop_loose(ledger: Path, pack_dir: Path, grace: int) -> int:
    """Remove loose objects a pack holds, and those older than the grace."""
    removed = 0
    indexes = [_PackIndex(pack_dir / name) for name in sorted(_pack_stats(pack_dir))]
    cutoff = time.time() - grace
    for folder in loose_dirs(ledger):
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
            for item in it:
                if len(item.name) != 38:
                    continue
                oid = bytes.fromhex(folder.name + item.name)
                packed = any(oid in idx for idx in indexes)
                st = _stat(Path(item.path))
                if st is not None and (packed or st.st_mtime < cutoff):
                    # Never rmdir the folder: a writer may be about to use it.
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(item.path)
                        removed += 1
    return removed


def clean_temp(storage: StorageBase, pack_dir: Path) -> None:
    """Remove temporary files a killed writer, git or maintenance left behind."""
    cutoff = time.time() - TEMP_GRACE_SECONDS
    leftovers = [*pack_dir.glob("tmp_*"), *pack_dir.glob(".tmp-*")]
    if storage.archive_dir.is_dir():
        leftovers += storage.archive_dir.glob(".tmp-*")
    for path in leftovers:
        st = _stat(path)
        if st is not None and st.st_mtime < cutoff:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _young(name: str, st: os.stat_result, ours: Mapping[str, int], grace: int) -> bool:
    if ours.get(name) == st.st_mtime_ns:
        return False  # written by maintenance and never freshened by a writer
    return st.st_mtime >= time.time() - grace


def _our_packs(ledger: Path) -> dict[str, int]:
    try:
        data = json.loads((ledger / MAINTENANCE_STATE).read_text())
        return {str(k): int(v) for k, v in data.get("packs", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _remember_packs(ledger: Path, packs_made: Mapping[str, int], retired: int) -> None:
    path = ledger / MAINTENANCE_STATE
    tmp = path.with_suffix(".tmp")
    state = {"packs": dict(packs_made), "retired_bytes": retired}
    tmp.write_text(json.dumps(state, sort_keys=True) + "\n")
    os.replace(tmp, path)


def add_retired(ledger: Path, size: int) -> None:
    """Count a bundle's bytes towards the next full repack."""
    _remember_packs(ledger, _our_packs(ledger), retired_bytes(ledger) + size)
