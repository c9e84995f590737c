"""Every file path the ledger records can be asked for again, byte for byte.

A query's path loses only a leading ``./`` and a trailing ``/``; spaces, dots inside names,
other scripts and odd characters are part of the name (" a.txt" and "a.txt " are files).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger, LogQuery
from ledger.errors import InvalidInputError
from ledger.read.filters import normalize_path
from tests.conftest import fsck_clean

# Names with spaces and dots at either end, tabs, other scripts and symbols.
name_chars = st.sampled_from(list(" .\t-_~#%'\"\\aZ0é中🙂")) | st.characters(
    blacklist_categories=("Cs",), blacklist_characters="/\0"
)
component = st.text(name_chars, min_size=1, max_size=12).filter(lambda c: c not in (".", ".."))
paths = st.lists(component, min_size=1, max_size=4).map("/".join)


def _found(ledger: Path, path: str, entry_id: str) -> None:
    for use_index in (False, True):
        query = LogQuery(ledger, use_index=use_index)
        history = [e.id for e in query.get_file_history(path)]
        assert entry_id in history, (path, use_index)
        asked = [e.id for e in query.query(file_path=path)]
        assert entry_id in asked, (path, use_index)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=paths, absolute=st.booleans())
def test_every_recorded_path_is_found_again(
    tmp_path_factory: pytest.TempPathFactory, path: str, absolute: bool
) -> None:
    base = tmp_path_factory.mktemp("lookup")
    work = base / "work"
    work.mkdir()
    text = f"{work}/{path}" if absolute else path
    logger = ChangeLogger(ledger_dir=base / "l.git", session_id="s", workdir=work, durable=False)
    try:
        entry = logger.log_file_change(text, "file_create", after_content="x")
    except InvalidInputError:
        return  # refused at the door: nothing stored to find
    assert entry.file_path == text
    _found(base / "l.git", text, entry.id)


@pytest.mark.parametrize("name", [" a.txt", "a.txt ", "  ", " dir / file ", "a.txt\t", " .a"])
def test_names_with_outer_spaces_are_their_own_files(
    tmp_path: Path, name: str, ledger_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=work, durable=False)
    mine = logger.log_file_change(name, "file_create", after_content="mine")
    other = logger.log_file_change(name.strip() or "x", "file_create", after_content="other")
    assert normalize_path(name) == name.rstrip("/")
    for use_index in (False, True):
        query = LogQuery(ledger_path, use_index=use_index)
        assert [e.id for e in query.get_file_history(name)] == [mine.id]
        assert [e.id for e in query.get_file_history(name.strip() or "x")] == [other.id]
    fsck_clean(ledger_path)
    # The CLI reads the argument as given, too (outside any git repository: no scope).
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "--ledger", str(ledger_path), "file-history", name]
        + ["--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["id"] for r in rows] == [mine.id]


def test_an_empty_path_is_still_refused() -> None:
    for empty in ("", "./", "././"):
        with pytest.raises(InvalidInputError):
            normalize_path(empty)
