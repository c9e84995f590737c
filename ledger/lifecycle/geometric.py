"""Routine packing that costs what was added: new objects into a pack, packs rolled up
geometrically.

Packs sorted by object count must each hold at least twice as many objects as all the
smaller ones together; the smallest packs that break this, with every loose object, are
rolled into one new pack by ``git pack-objects --stdin-packs --unpacked`` (objects are read
from those packs only; the largest pack is never rewritten, even when as much was added
as there was). The number of packs stays
logarithmic in the number of objects. A full repack (every reachable object into one pack,
unreachable ones dropped) stays available, and runs by itself once the sessions retired
since the last one add up to half the packed bytes, so that archived sessions leave.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from ledger._git import run_git
from ledger._layout import MAINTENANCE_STATE
from ledger.lifecycle.usage import loose_dirs

FACTOR = 2
PACK_WINDOW = 250  # git gc --aggressive's window; deltas found once are reused
# Applies to new objects only: deltas in rolled-up packs are reused. Recomputing those
# (--no-reuse-delta) packs smaller, but costs what exists rather than what was added
# (measured in docs/performance.md), so routine runs do not.
ROUTINE_WINDOW = 250
PACK_DEPTH = 500  # file states are edited in long runs: 50 -> 500 saves ~4% (docs/performance.md)
# Index version 1 (24 bytes an object; version 2 adds a CRC32, 28 bytes): git and libgit2 read
# both, and git writes version 2 by itself for a pack whose offsets need it (past 2 GiB).
PACK_INDEX_VERSION = "--index-version=1"
_IDX_V2 = b"\xfftOc\x00\x00\x00\x02"
RETIRED_SHARE = 0.5  # a full repack once retired bytes reach this share of the packs


def index_layout(head: bytes) -> tuple[int, int, int] | None:
    """Where a pack index's fan-out table starts, its bytes per object name and where the name
    sits in them: (8, 20, 0) for version 2, (0, 24, 4) for version 1, None for anything else."""
    if head[:8] == _IDX_V2:
        return 8, 20, 0
    if head[:4] == b"\xfftOc":
        return None  # a version this code does not know
    return 0, 24, 4


def object_count(idx: Path) -> int:
    """The number of objects in a pack, from its index's fan-out table (0 if unreadable)."""
    try:
        with open(idx, "rb") as f:
            head = f.read(8 + 256 * 4)
    except OSError:
        return 0
    layout = index_layout(head)
    if layout is None or len(head) < layout[0] + 1024:
        return 0
    return int.from_bytes(head[layout[0] + 1020 : layout[0] + 1024], "big")


def rollup(counts: Mapping[str, int], loose: int = 0, factor: int = FACTOR) -> list[str]:
    """The packs to roll into one (with ``loose`` loose objects) so that the packs keep a
    geometric progression.

    Packs sorted by object count, smallest first: the split is after the last pack that is
    not ``factor`` times larger than the one before it; packs above the split that are not
    ``factor`` times larger than everything rolled up so far (loose objects included) join
    the roll-up. The largest pack never does: only a full repack rewrites it, so a routine
    run costs what was added even when as much was added as there was.
    """
    ordered = sorted(counts, key=lambda name: (counts[name], name))[:-1]  # the largest stays
    split = 0
    for i in range(len(ordered) - 1, 0, -1):
        if counts[ordered[i]] < factor * counts[ordered[i - 1]]:
            split = i + 1
            break
    total = sum(counts[name] for name in ordered[:split]) + loose
    for name in ordered[split:]:
        if counts[name] >= factor * total:
            break
        split += 1
        total += counts[name]
    return ordered[:split]


def count_loose(ledger: Path) -> int:
    """How many loose object files there are."""
    n = 0
    for folder in loose_dirs(ledger):
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as it:
            n += sum(1 for item in it if len(item.name) == 38)
    return n


def pack_geometric(ledger: Path, pack_dir: Path, packs: list[str]) -> tuple[set[str], set[str]]:
    """Roll the packs that break the progression, with the loose objects, into one pack.

    ``packs`` are the candidates (kept packs are left out by the caller). Returns (packs
    made, packs rolled up); both are empty when there is nothing to do.
    """
    counts = {name: object_count((pack_dir / name).with_suffix(".idx")) for name in packs}
    loose = count_loose(ledger)
    rolled = rollup(counts, loose)
    if not loose and len(rolled) < 2:
        return set(), set()
    lines = [*rolled, *("^" + name for name in sorted(set(counts) - set(rolled)))]
    args = ["pack-objects", PACK_INDEX_VERSION, "--stdin-packs", "--delta-base-offset"]
    args += ["--non-empty", "-q", f"--window={ROUTINE_WINDOW}", f"--depth={PACK_DEPTH}"]
    if loose:
        args.append("--unpacked")
    out = run_git(ledger, *args, str(pack_dir / "pack"), input="\n".join(lines) + "\n").stdout
    made = {f"pack-{line.strip()}.pack" for line in out.split() if line.strip()}
    return made, set(rolled) - made


def retired_bytes(ledger: Path) -> int:
    """The bundle bytes retired since the last full repack."""
    try:
        return int(json.loads((ledger / MAINTENANCE_STATE).read_text()).get("retired_bytes", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


def full_repack_due(ledger: Path, pack_dir: Path, ours: Mapping[str, int]) -> bool:
    """True when retired sessions are worth a full repack, or maintenance never packed."""
    sizes = [p.stat().st_size for p in pack_dir.glob("pack-*.pack")]
    if not sizes or not any((pack_dir / name).exists() for name in ours):
        return True
    return retired_bytes(ledger) >= RETIRED_SHARE * sum(sizes)
