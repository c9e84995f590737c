"""Property: whatever a session does to a workspace, reverting it restores the start exactly."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger, Restorer
from ledger.errors import InvalidPathError
from tests.undo.helpers import snapshot

# Names people and agents use: spaces, accents, CJK, percent and tilde signs, dots.
NAME = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 _-.%~éü中")), min_size=1, max_size=12
).filter(lambda n: n not in (".", "..") and not n.lower().startswith(".git"))
PATH = st.lists(NAME, min_size=1, max_size=3).map("/".join)
CONTENT = st.binary(max_size=300)
OP = st.tuples(st.sampled_from(["write", "delete", "chmod", "link"]), PATH, CONTENT)


def _apply(work: Path, logger: ChangeLogger, op: str, rel: str, data: bytes) -> None:
    path = work / rel
    try:
        with logger.track_file(rel):
            if op == "delete":
                if path.is_file() or path.is_symlink():
                    path.unlink()
                return
            if path.exists() and path.is_dir():
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            if op == "write":
                if path.is_symlink():
                    path.unlink()
                path.write_bytes(data)
            elif op == "chmod" and path.is_file() and not path.is_symlink():
                os.chmod(path, path.stat().st_mode ^ 0o111)
            elif op == "link":
                if path.is_symlink() or path.exists():
                    path.unlink()
                os.symlink(data.hex() or "target", path)
    except (NotADirectoryError, FileExistsError, IsADirectoryError, InvalidPathError):
        return  # a file where a folder should be: the agent's step simply fails


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.dictionaries(PATH, CONTENT, max_size=4),
    ops=st.lists(OP, min_size=1, max_size=8),
)
@example(start={}, ops=[("write", " ", b"")])  # trailers fold whitespace: found by this test
@example(start={"a": b"1"}, ops=[("write", "a/" + "x" * 200, b""), ("write", "a", b"2")])
def test_revert_restores_any_starting_tree(start: dict[str, bytes], ops: list) -> None:
    old = os.umask(0o022)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "work"
            work.mkdir()
            for rel, data in start.items():
                path = work / rel
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                except (NotADirectoryError, FileExistsError, IsADirectoryError):
                    continue
            before = snapshot(work)
            ledger = Path(tmp) / "ledger.git"
            logger = ChangeLogger(ledger_dir=ledger, session_id="s", workdir=work, durable=False)
            for op, rel, data in ops:
                _apply(work, logger, op, rel, data)
            if not any(logger.store.walk_session("s")) if logger.store.exists else True:
                return
            Restorer(ledger_dir=ledger, workdir=work, durable=False).revert_session("s")
            after = snapshot(work)
            # Folders the agent made stay only where a pre-existing file still needs them.
            assert {k: v for k, v in after.items() if v[0] != "dir"} == {
                k: v for k, v in before.items() if v[0] != "dir"
            }
            assert {k for k, v in before.items() if v[0] == "dir"} <= set(after)
    finally:
        os.umask(old)
