"""Routine maintenance packs only what is new: the big pack is never rewritten, packs stay
few (a geometric progression), and a full repack stays available."""

from __future__ import annotations

import itertools
from pathlib import Path

from ledger import ChangeLogger, LogQuery, LogStorage
from ledger.lifecycle.geometric import object_count, rollup
from tests.conftest import fsck_clean, git


def _packs(ledger: Path) -> dict[str, int]:
    """Each pack's name and inode number (a rewritten pack gets a new one)."""
    return {p.name: p.stat().st_ino for p in (ledger / "objects" / "pack").glob("*.pack")}


def _write(ledger: Path, work: Path, session: str, n: int) -> None:
    logger = ChangeLogger(ledger, agent_id="a", session_id=session, workdir=work, durable=False)
    for i in range(n):
        logger.log_file_change(f"src/{session}.py", "file_update", f"v{i}\n", f"v{i + 1}\n")


def test_rollup_keeps_a_geometric_progression() -> None:
    assert rollup({}) == []
    assert rollup({"big": 1000}) == []
    assert rollup({"big": 1000, "mid": 100, "small": 10}) == []
    # Two small packs of the same size break it: they roll up, and nothing bigger joins.
    assert rollup({"big": 1000, "a": 5, "b": 5}) == ["a", "b"]
    # The roll-up of the small ones reaches the next pack: it joins too.
    assert rollup({"big": 1000, "mid": 12, "a": 5, "b": 6}) == ["a", "b", "mid"]
    assert sorted(rollup({"x": 3, "y": 3, "z": 3})) == ["x", "y"]  # the largest stays
    # However much was added, the largest pack is left to a full repack.
    assert rollup({"big": 1000, "new": 500, "a": 400}) == ["a", "new"]
    # New loose objects count towards the roll-up: a pack no larger than twice them joins.
    assert rollup({"big": 1000, "a": 19}, loose=19) == ["a"]
    assert rollup({"big": 1000, "a": 50}, loose=19) == []


def test_routine_runs_leave_the_big_pack_alone(ledger_path: Path, workdir: Path) -> None:
    _write(ledger_path, workdir, "base", 60)
    storage = LogStorage(ledger_path, quiet=True)
    first = storage.maintenance()
    assert first["full_repack"] is True  # the first run consolidates everything
    [(big, inode)] = _packs(ledger_path).items()
    big_objects = object_count((ledger_path / "objects" / "pack" / big).with_suffix(".idx"))
    for round_ in range(6):
        _write(ledger_path, workdir, f"s{round_}", 3)
        result = storage.maintenance()
        assert result["full_repack"] is False and result["loose_after"] == 0
        packs = _packs(ledger_path)
        assert packs[big] == inode  # never rewritten
        # Geometric: each pack is at least twice the one below it, so few packs remain.
        counts = sorted(
            object_count((ledger_path / "objects" / "pack" / n).with_suffix(".idx"))
            for n in packs
        )
        assert all(b >= 2 * a for a, b in itertools.pairwise(counts)), counts
        assert len(packs) <= 3
    assert counts[-1] == big_objects
    fsck_clean(ledger_path)
    assert LogQuery(ledger_path).stats()["total_entries"] == 60 + 18
    assert git(ledger_path, "count-objects", "-v").count("count: 0") == 1

    full = storage.maintenance(full=True)
    assert full["full_repack"] is True
    assert len(_packs(ledger_path)) == 1 and big not in _packs(ledger_path)
    fsck_clean(ledger_path)
    assert LogQuery(ledger_path, use_index=False).stats()["total_entries"] == 78


def test_adding_as_much_as_there_was_leaves_the_big_pack_alone(ledger_path: Path,
                                                                 workdir: Path) -> None:
    _write(ledger_path, workdir, "base", 30)
    storage = LogStorage(ledger_path, quiet=True)
    storage.maintenance()
    pack_dir = ledger_path / "objects" / "pack"
    for round_ in range(4):
        before = _packs(ledger_path)
        largest = max(before, key=lambda n: object_count((pack_dir / n).with_suffix(".idx")))
        _write(ledger_path, workdir, f"more{round_}", 30)  # as much again, each time
        result = storage.maintenance()
        assert result["full_repack"] is False
        assert _packs(ledger_path)[largest] == before[largest]  # never rewritten
    assert len(_packs(ledger_path)) <= 3
    fsck_clean(ledger_path)
    assert LogQuery(ledger_path, use_index=False).stats()["total_entries"] == 150


def test_cli_maintenance_full(ledger_path: Path, workdir: Path) -> None:
    from tests.conftest import run_cli

    _write(ledger_path, workdir, "base", 5)
    LogStorage(ledger_path, quiet=True).maintenance()
    _write(ledger_path, workdir, "more", 2)
    proc = run_cli("--ledger", str(ledger_path), "maintenance", "--json")
    assert proc.returncode == 0, proc.stderr
    assert '"full_repack": false' in proc.stdout
    proc = run_cli("--ledger", str(ledger_path), "maintenance", "--full", "--json")
    assert '"full_repack": true' in proc.stdout and len(_packs(ledger_path)) == 1
    fsck_clean(ledger_path)
