"""Bad input gets a clear error and writes nothing; good input round-trips exactly."""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger
from ledger.entry import normalize_metadata
from ledger.errors import (
    InvalidAgentIdError,
    InvalidInputError,
    InvalidMetadataError,
    InvalidPathError,
    InvalidSessionIdError,
    LedgerError,
)
from ledger.names import check_path, from_tree_path, to_tree_path, validate_session_id
from ledger.store import LedgerStore
from tests.conftest import fsck_clean, git

BAD_SESSIONS = [
    "../x",
    "a..b",
    "x.lock",
    "a\0b",
    "a b",
    "",
    "a/b",
    "-x",
    ".x",
    "x.",
    "a@{1}",
    "x" * 200,
    "é",
    "a\nb",
    "refs/heads/x",
]


@pytest.mark.parametrize("session", BAD_SESSIONS)
def test_bad_session_ids_are_refused(session: str, ledger_path: Path, workdir: Path) -> None:
    with pytest.raises(InvalidSessionIdError):
        ChangeLogger(ledger_dir=ledger_path, session_id=session, workdir=workdir)
    assert not ledger_path.exists()


@pytest.mark.parametrize("agent", ["", " x", "a<b", "a>b", "a\nb", "\x1b[31m", "x" * 200])
def test_bad_agent_ids_are_refused(agent: str, ledger_path: Path) -> None:
    with pytest.raises(InvalidAgentIdError):
        ChangeLogger(ledger_dir=ledger_path, agent_id=agent, session_id="s")


BAD_PATHS: list[object] = [
    "../etc/passwd",
    "a/../../b",
    ".git/config",
    "x/.GIT/hooks",
    "x/.git./y",
    "git~1/config",
    ".g\u200cit/x",
    "a\0b",
    b"\xff\xfe",
    "a/" + "n" * 300,
    "x/" * 2100,
    "",
    "/",
    ".",
    42,
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_paths_are_refused_and_nothing_is_written(
    path: object, ledger_path: Path, workdir: Path
) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    logger.log("api_call", "baseline")
    with pytest.raises(InvalidPathError):
        logger.log_file_change(path, "file_create", after_content="x")  # type: ignore[arg-type]
    assert git(ledger_path, "rev-list", "--count", "sessions/s").strip() == "1"


class Colour(enum.Enum):
    RED = "red"


def test_metadata_conversions() -> None:
    out = normalize_metadata(
        {
            "when": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "day": dt.date(2025, 1, 2),
            "p": PurePosixPath("/a/b"),
            "c": Colour.RED,
            "t": (1, 2),
            "u": uuid.UUID(int=1),
            Colour.RED: 1,
            "nested": {"x": [None, True, 1.5]},
        }
    )
    assert out == {
        "when": "2025-01-02T03:04:05+00:00",
        "day": "2025-01-02",
        "p": "/a/b",
        "c": "red",
        "t": [1, 2],
        "u": "00000000-0000-0000-0000-000000000001",
        "red": 1,
        "nested": {"x": [None, True, 1.5]},
    }


def _cycle() -> dict[str, object]:
    d: dict[str, object] = {}
    d["self"] = d
    return d


def _deep(n: int) -> object:
    value: object = 1
    for _ in range(n):
        value = [value]
    return value


@pytest.mark.parametrize(
    "meta",
    [
        {"x": math.nan},
        {"x": math.inf},
        {"x": b"raw"},
        {"x": {1, 2}},
        _cycle(),
        {1: "a"},
        {"x": object()},
        {"x": _deep(100)},
        {"x": "\ud800"},
    ],
)
def test_bad_metadata_is_refused(meta: dict[str, object], ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    logger.log("api_call", "baseline")
    with pytest.raises(InvalidMetadataError):
        logger.log("api_call", "x", meta)
    assert git(ledger_path, "rev-list", "--count", "sessions/s").strip() == "1"


def test_unknown_type_and_level(ledger_path: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s")
    with pytest.raises(InvalidInputError, match="unknown change type"):
        logger.log("file_explode", "x")
    with pytest.raises(InvalidInputError, match="unknown level"):
        logger.log("api_call", "x", level="loud")
    with pytest.raises(ValueError):  # InvalidInputError is a ValueError too
        logger.log("api_call", "x", metadata=["not", "a", "mapping"])  # type: ignore[arg-type]


def test_every_error_is_a_ledger_error() -> None:
    for cls in (InvalidSessionIdError, InvalidPathError, InvalidMetadataError):
        assert issubclass(cls, LedgerError) and issubclass(cls, ValueError)


# -- properties ---------------------------------------------------------------------------

name_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0")
component = st.text(name_chars, min_size=1, max_size=20).filter(lambda c: c not in (".", ".."))
paths = st.lists(component, min_size=1, max_size=5).map("/".join)


@given(path=paths, absolute=st.booleans())
def test_tree_paths_are_lossless_or_refused(path: str, absolute: bool) -> None:
    text = ("/" if absolute else "") + path
    try:
        check_path(text)
    except InvalidPathError:
        return
    tree = to_tree_path(text, None)
    assert tree.startswith("files/")
    assert "\0" not in tree and "//" not in tree
    assert from_tree_path(tree) == text


@given(a=paths, b=paths)
def test_tree_paths_do_not_collide(a: str, b: str) -> None:
    try:
        ta, tb = to_tree_path(a, None), to_tree_path(b, None)
    except InvalidPathError:
        return
    assert (ta == tb) == (a == b)


@given(st.text(max_size=140))
def test_session_ids_are_valid_refs_or_refused(session: str) -> None:
    try:
        validate_session_id(session)
    except InvalidSessionIdError:
        return
    import pygit2

    assert pygit2.reference_is_valid_name("refs/heads/sessions/" + session)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",))), kids, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    meta=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    description=st.text(max_size=200),
    path=paths,
)
def test_entries_round_trip_through_git(
    tmp_path_factory: pytest.TempPathFactory, meta: dict[str, object], description: str, path: str
) -> None:
    base = tmp_path_factory.mktemp("prop")
    logger = ChangeLogger(ledger_dir=base / "l.git", session_id="s", workdir=base, durable=False)
    logger.store.repo.config["ledger.redact"] = "false"  # exactness, not secret redaction
    try:
        plain = logger.log("agent_decision", description, metadata=meta)
        entry = logger.log_file_change(
            path, "file_create", after_content=description, description=description
        )
    except InvalidInputError:
        return
    store = LedgerStore(base / "l.git")
    assert store.get_entry(plain.id).metadata == meta
    back = store.get_entry(entry.id)
    assert back == entry and back.description == description
    assert back.after_state == description
    assert back.file_path == path
    fsck_clean(base / "l.git")
