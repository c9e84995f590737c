"""verify and audit on a live ledger: no false alarm beside running writers, real damage caught.

verify reads the refs and reflogs once and has ``git fsck`` trace exactly what they reach, so
objects and refs written by writers meanwhile are neither checked nor errors.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import ChangeLogger, LogQuery
from ledger._snapshot import take_snapshot
from ledger.trust.checkpoint import write_checkpoint
from ledger.trust.verify import verify_ledger
from tests.conftest import git, run_cli

WRITER = """
import sys
from ledger import ChangeLogger
ledger, session = sys.argv[1], sys.argv[2]
logger = ChangeLogger(ledger_dir=ledger, agent_id="writer", session_id=session, durable=True)
i = 0
while True:
    logger.log_agent_decision(f"step {i}", "busy")
    i += 1
"""


def _seed(ledger: Path) -> None:
    ChangeLogger(ledger, agent_id="a", session_id="quiet").log_agent_decision("first", "r")
    write_checkpoint(ledger)


def test_verify_and_audit_beside_durable_writers_raise_no_alarm(ledger_path: Path) -> None:
    _seed(ledger_path)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(ledger_path), f"busy-{k}"])
        for k in range(2)
    ]
    try:
        time.sleep(0.5)
        alarms: list[str] = []
        for _round in range(8):
            report = verify_ledger(ledger_path)
            alarms += [f"verify: {p.code} {p.message}" for p in report.problems]
            audit = LogQuery(ledger_path).generate_audit_report("2000-01-01")
            if not audit["integrity"]["fsck"]["ok"]:
                alarms.append(f"audit: {audit['integrity']['fsck']['output']}")
        cli = run_cli("verify", env={"GIT_LEDGER_DIR": str(ledger_path)})
        if cli.returncode != 0:
            alarms.append(f"cli: {cli.stdout}{cli.stderr}")
        assert all(w.poll() is None for w in writers), "a writer died: the test proves nothing"
    finally:
        for w in writers:
            w.kill()
            w.wait()
    assert alarms == []
    count = int(git(ledger_path, "rev-list", "--count", "refs/heads/sessions/busy-0"))
    assert count > 8, "the writer did not write while verify ran"


def _loose_object_of(ledger: Path, ref: str) -> Path:
    tree = git(ledger, "rev-parse", f"{ref}^{{tree}}").strip()
    path = ledger / "objects" / tree[:2] / tree[2:]
    assert path.is_file()
    return path


def test_a_missing_object_is_still_caught(ledger_path: Path) -> None:
    _seed(ledger_path)
    _loose_object_of(ledger_path, "refs/heads/sessions/quiet").unlink()
    report = verify_ledger(ledger_path, accept=False)
    assert "object-corrupt" in {p.code for p in report.problems}


def test_the_audit_still_reports_a_missing_object(ledger_path: Path) -> None:
    _seed(ledger_path)
    _loose_object_of(ledger_path, "refs/ledger/checkpoints").unlink()
    audit = LogQuery(ledger_path).generate_audit_report("2000-01-01")
    assert audit["integrity"]["fsck"]["ok"] is False


def test_a_corrupt_object_is_still_caught(ledger_path: Path) -> None:
    _seed(ledger_path)
    path = _loose_object_of(ledger_path, "refs/heads/sessions/quiet")
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    report = verify_ledger(ledger_path, accept=False)
    assert "object-corrupt" in {p.code for p in report.problems}


@pytest.mark.parametrize(
    "line",
    [b"garbage in the reflog\n", b"0" * 40 + b" " + b"ab" * 20 + b" x <x> 1 +0000\tforged\n"],
    ids=["malformed-line", "missing-object"],
)
def test_a_damaged_reflog_is_still_caught(ledger_path: Path, line: bytes) -> None:
    _seed(ledger_path)
    log = ledger_path / "logs" / "refs" / "heads" / "sessions" / "quiet"
    log.write_bytes(log.read_bytes() + line)
    report = verify_ledger(ledger_path, accept=False)
    assert "object-corrupt" in {p.code for p in report.problems}
    real = subprocess.run(
        ["git", "--git-dir", str(ledger_path), "fsck", "--no-dangling"], capture_output=True
    )
    if b"forged" in line:  # git agrees a reflog naming a missing commit is damage
        assert real.returncode != 0, real.stderr


def test_a_half_written_reflog_line_is_not_an_error(ledger_path: Path) -> None:
    """A writer appending its reflog line while verify reads it: the partial line is ignored."""
    _seed(ledger_path)
    log = ledger_path / "logs" / "refs" / "heads" / "sessions" / "quiet"
    log.write_bytes(log.read_bytes() + b"0" * 40 + b" 12ab")
    assert take_snapshot(ledger_path).reflog_problems == ()
    assert verify_ledger(ledger_path, accept=False).ok
