"""git ledger run passes on a command's fate as a shell would."""

from __future__ import annotations

from pathlib import Path

from ledger.store import LedgerStore
from tests.conftest import fsck_clean, run_cli


def test_run_of_a_command_killed_by_a_signal_exits_128_plus_the_signal(
    ledger_path: Path,
) -> None:
    proc = run_cli(
        "--ledger", str(ledger_path), "run", "--session", "k1", "--", "sh", "-c", "kill -9 $$"
    )
    assert proc.returncode == 137  # as sh reports it, not 256 - 9
    entry = next(LedgerStore(ledger_path).walk_session("k1"))
    assert entry.metadata["exit_code"] == -9 and entry.level.value == "error"
    fsck_clean(ledger_path)
