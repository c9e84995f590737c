"""Maintenance writes version 1 pack indexes (24 bytes an object): git and libgit2 read them,
and maintenance's own index reader answers the same for version 1 and version 2."""

from __future__ import annotations

from pathlib import Path

import pygit2

from ledger import ChangeLogger, LogQuery, LogStorage
from ledger.lifecycle.geometric import object_count
from ledger.lifecycle.packing import _PackIndex
from tests.conftest import fsck_clean, git


def test_maintenance_packs_have_version_1_indexes_git_and_libgit2_read(
    ledger_path: Path, workdir: Path
) -> None:
    logger = ChangeLogger(ledger_path, agent_id="a", session_id="s", workdir=workdir)
    for i in range(20):
        logger.log_file_change("a.py", "file_update", f"v{i}\n", f"v{i + 1}\n")
    LogStorage(ledger_path, quiet=True).maintenance(full=True)
    (pack,) = (ledger_path / "objects" / "pack").glob("*.pack")
    idx = pack.with_suffix(".idx")
    assert idx.read_bytes()[:4] != b"\xfftOc"  # version 1 has no header
    listed = git(ledger_path, "verify-pack", "-v", str(idx))
    assert "ok" in listed.splitlines()[-1]
    fsck_clean(ledger_path)
    assert len(LogQuery(ledger_path).get_session_logs("s")) == 20  # libgit2 reads it
    repo = pygit2.Repository(str(ledger_path))
    assert all(repo.get(oid) is not None for oid in git(ledger_path, "rev-list", "--all").split())


def test_index_reader_agrees_on_version_1_and_2(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    logger = ChangeLogger(ledger_path, agent_id="a", session_id="s", workdir=workdir)
    for i in range(10):
        logger.log("deployment", f"step {i}")
    ids = git(ledger_path, "rev-list", "--objects", "--all").split("\n")
    names = [bytes.fromhex(line.split()[0]) for line in ids if line]
    made = {}
    for version in (1, 2):
        out = git(ledger_path, "pack-objects", f"--index-version={version}", "--all", "-q",
                  str(tmp_path / f"v{version}"), input="")
        made[version] = tmp_path / f"v{version}-{out.strip()}.pack"
    one, two = _PackIndex(made[1]), _PackIndex(made[2])
    assert sorted(one.names()) == sorted(two.names()) == sorted(set(names))
    assert all(n in one and n in two for n in names)
    missing = bytes(20)
    assert missing not in one and missing not in two
    assert object_count(made[1].with_suffix(".idx")) == object_count(made[2].with_suffix(".idx"))
    assert object_count(made[1].with_suffix(".idx")) == len(set(names))
