"""Numbers that are not numbers: one usage line (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import ChangeLogger
from tests.conftest import run_cli


@pytest.mark.parametrize("value", ["nan", "-inf", "1e400"])
def test_recent_hours_must_be_a_finite_number(ledger_path: Path, value: str) -> None:
    ChangeLogger(ledger_path, session_id="s").log_agent_decision("a", "b")
    out = run_cli("recent", "--hours", value, env={"GIT_LEDGER_DIR": str(ledger_path)})
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "--hours" in out.stderr
    ok = run_cli("recent", "--hours", "2", env={"GIT_LEDGER_DIR": str(ledger_path)})
    assert ok.returncode == 0 and "agent_decision" in ok.stdout
