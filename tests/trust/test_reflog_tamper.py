"""Tampering after reflog compaction is caught by verify: a rewritten ref, a removed entry,
a removed seam line, an edited, removed or forged compaction record, and a record that
claims a rewind was a fast-forward."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from ledger import ChangeLogger, LogStorage
from ledger._layout import SESSION_REF_PREFIX
from ledger.lifecycle.reflogs import RECORD_FILE
from ledger.trust.checkpoint import write_checkpoint
from ledger.trust.verify import verify_ledger
from tests.conftest import git, module_template
from tests.trust.test_verify import codes, commit_env, commit_tree

REF = SESSION_REF_PREFIX + "s1"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sessions, compacted by maintenance, then checkpointed (which seals the records)."""
    with module_template(tmp_path_factory, "compacted") as (ledger, work):
        for sid, n in (("s1", 30), ("s2", 12)):
            lg = ChangeLogger(ledger, agent_id="a", session_id=sid, workdir=work, durable=False)
            for i in range(n):
                lg.log_file_change(f"src/{sid}.py", "file_update", f"v{i}\n", f"v{i + 1}\n")
        assert LogStorage(ledger, quiet=True).maintenance()["reflog_lines_compacted"] > 20
        write_checkpoint(ledger)
    return ledger


@pytest.fixture
def compacted(template: Path, ledger_path: Path) -> Path:
    shutil.copytree(template, ledger_path, symlinks=True)
    return ledger_path


def _records(ledger: Path) -> Path:
    return ledger / "ledger-state" / RECORD_FILE


def _log(ledger: Path) -> Path:
    return ledger / "logs" / REF


def _problems(ledger: Path) -> set[str]:
    return {code for code, _ in codes(verify_ledger(ledger))}


def test_compacted_and_sealed_ledger_verifies_clean(compacted: Path) -> None:
    report = verify_ledger(compacted)
    assert report.ok, report.problems
    sealed = json.loads(git(compacted, "show", "refs/ledger/checkpoints:checkpoint.json"))
    lines = _records(compacted).read_bytes()
    assert sealed["reflog_compactions"] == {
        "records": lines.count(b"\n"), "sha256": hashlib.sha256(lines).hexdigest()}


def test_rewound_ref_is_still_detected(compacted: Path) -> None:
    git(compacted, "update-ref", REF, REF + "~3")
    assert "session-rewound" in _problems(compacted)


def test_removed_entry_is_still_detected(compacted: Path) -> None:
    ids = git(compacted, "rev-list", "--first-parent", "--reverse", REF).split()
    # Drop one entry from the middle and re-create everything after it, as a forger would.
    parent = ids[9]
    for oid in ids[11:]:
        tree = git(compacted, "rev-parse", oid + "^{tree}").strip()
        message = git(compacted, "show", "-s", "--format=%B", oid)
        parent = commit_tree(compacted, tree, parent, message, commit_env(compacted, oid))
    git(compacted, "update-ref", REF, parent)
    report = verify_ledger(compacted)
    assert not report.ok
    assert _problems(compacted) & {"session-rewritten", "session-replaced", "session-rewound"}


def test_removed_seam_line_is_detected(compacted: Path) -> None:
    path = _log(compacted)
    lines = path.read_bytes().splitlines(keepends=True)
    record = json.loads(_records(compacted).read_bytes().splitlines()[0])
    seam = [i for i, x in enumerate(lines) if x.split()[1].decode() == record["from"]]
    assert seam
    del lines[seam[0]]
    path.write_bytes(b"".join(lines))
    report = verify_ledger(compacted)
    assert ("reflog-compaction", "reflog compaction record 1") in codes(report)


def test_reordered_reflog_lines_break_the_seam(compacted: Path) -> None:
    path = _log(compacted)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"".join(lines))
    assert "reflog-compaction" in _problems(compacted)


def test_edited_record_is_detected(compacted: Path) -> None:
    path = _records(compacted)
    lines = path.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[0])
    record["lines"] -= 1  # claims fewer lines were removed
    lines[0] = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
    path.write_bytes(b"".join(lines))
    found = codes(verify_ledger(compacted))
    assert ("reflog-compaction", "reflog compaction record 1") in found
    assert any(s.startswith("checkpoint #1") for c, s in found if c == "reflog-compaction")


def test_removed_record_is_detected_by_the_seal(compacted: Path) -> None:
    path = _records(compacted)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    found = codes(verify_ledger(compacted))
    assert any(s.startswith("checkpoint #1") for c, s in found if c == "reflog-compaction")


def test_record_claiming_a_rewind_was_a_fast_forward_is_detected(compacted: Path) -> None:
    ids = git(compacted, "rev-list", "--first-parent", "--reverse", REF).split()
    git(compacted, "update-ref", "-m", "ledger: file_update", REF, ids[-3], ids[-1])
    path = _log(compacted)
    lines = path.read_bytes().splitlines(keepends=True)
    rewind = lines.pop()  # the forger hides the rewind line ...
    path.write_bytes(b"".join(lines))
    records = _records(compacted)
    last = records.read_bytes().splitlines()[-1]
    forged = {  # ... and claims it was a compacted fast-forward
        "ref": REF, "from": ids[-1], "to": ids[-3], "lines": 1,
        "ident": "git-ledger <git-ledger@localhost>", "tz": "+0000",
        "sha256": hashlib.sha256(rewind).hexdigest(), "prev": hashlib.sha256(last).hexdigest(),
    }
    with open(records, "ab") as f:
        f.write((json.dumps(forged, sort_keys=True, separators=(",", ":")) + "\n").encode())
    assert "reflog-compaction" in _problems(compacted)
    assert "session-rewound" in _problems(compacted)
