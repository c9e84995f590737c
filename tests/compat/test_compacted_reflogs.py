"""Real git reads a ledger whose reflogs maintenance compacted: ``git reflog``, ``git log -g``,
``git rev-list --reflog`` and ``git fsck --strict --full``."""

from __future__ import annotations

from pathlib import Path

from ledger import LogStorage
from ledger._layout import SESSION_REF_PREFIX
from tests.conftest import fsck_clean, git
from tests.lifecycle.test_reflogs import _reflog, _write


def test_git_reads_a_compacted_reflog(ledger_path: Path, workdir: Path) -> None:
    _write(ledger_path, workdir, "s1", 12)
    LogStorage(ledger_path, quiet=True).maintenance()
    ref = SESSION_REF_PREFIX + "s1"
    shown = git(ledger_path, "reflog", "show", "--format=%H %gs", ref).splitlines()
    kept = _reflog(ledger_path, "s1")
    assert len(shown) == len(kept) < 12
    assert shown[0].split()[0] == git(ledger_path, "rev-parse", ref).strip()
    # Every entry is still reachable from what git walks, reflogs included.
    assert len(git(ledger_path, "rev-list", "--reflog", "--all").split()) >= 12
    assert len(git(ledger_path, "log", "-g", "--format=%H", ref).split()) == len(kept)
    proc = git(ledger_path, "fsck", "--strict", "--full", "--no-dangling")
    assert "error" not in proc
    fsck_clean(ledger_path)
