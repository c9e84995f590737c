"""verify and a concurrent maintenance: packing must not look like lost objects."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ledger import ChangeLogger
from ledger.storage import LogStorage
from ledger.verify import verify_ledger

try:
    from tests.conftest import fsck_clean, git
except ImportError:  # pragma: no cover
    from conftest import fsck_clean, git  # type: ignore[no-redef]


def test_verify_waits_for_a_running_maintenance_and_then_verifies_clean(
    ledger_path: Path, workdir: Path
) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    for i in range(30):
        logger.log_command(["step", str(i)], output=f"{i}\n")
    assert git(ledger_path, "count-objects").split()[0] != "0"  # loose objects to pack
    finished = threading.Event()
    result: dict[str, Any] = {}

    def run() -> None:
        result["report"] = verify_ledger(ledger_path, accept=False)
        finished.set()

    with LogStorage(ledger_path).maintenance_lock():
        thread = threading.Thread(target=run)
        thread.start()
        # What maintenance does under its lock: pack the loose objects and delete them.
        git(ledger_path, "repack", "-q", "-d")
        assert git(ledger_path, "count-objects").split()[0] == "0"
        assert not finished.is_set()  # verify's fsck waited instead of racing the repack
    thread.join(120)
    report = result["report"]
    assert report.ok, report.problems
    fsck_clean(ledger_path)

