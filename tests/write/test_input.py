"""Bad input gets a clear error and writes nothing; good input round-trips exactly.

Also: Write-path guarantees found missing in review.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger
from ledger._names import check_path, from_tree_path, to_tree_path, validate_session_id
from ledger._store import LedgerStore
from ledger.entry import normalize_metadata
from ledger.errors import (
    InvalidAgentIdError,
    InvalidInputError,
    InvalidMetadataError,
    InvalidPathError,
    InvalidSessionIdError,
    LedgerError,
)
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


# --- Write-path guarantees found missing in review.


def test_track_file_records_a_change_made_before_the_block_raised(
    ledger_path: Path, workdir: Path
) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    (workdir / "conf.ini").write_text("a=1\n")
    with (
        pytest.raises(RuntimeError, match="agent crashed"),
        logger.track_file("conf.ini") as tracked,
    ):
        (workdir / "conf.ini").write_text("a=2\n")
        raise RuntimeError("agent crashed")
    assert tracked.entry is not None and tracked.entry.change_type.value == "file_update"
    assert git(ledger_path, "cat-file", "-p", tracked.entry.file_hash_after or "") == "a=2\n"
    # An unchanged file inside a failing block still records nothing, and still raises.
    with pytest.raises(KeyError), logger.track_file("conf.ini") as untouched:
        raise KeyError("x")
    assert untouched.entry is None
    assert len(list(logger.store.walk_session("s"))) == 1
    fsck_clean(ledger_path)


def test_a_secret_in_a_session_or_agent_id_is_refused_before_anything_is_written(
    ledger_path: Path, workdir: Path
) -> None:
    from ledger.errors import InvalidAgentIdError, InvalidSessionIdError

    token = "ghp_" + "k9Z" * 12
    by_session = ChangeLogger(ledger_path, session_id=token, workdir=workdir, durable=False)
    with pytest.raises(InvalidSessionIdError) as caught:
        by_session.log("system_command", "ls")
    assert token not in str(caught.value)
    by_agent = ChangeLogger(
        ledger_path, agent_id=f"bot {token}", session_id="s", workdir=workdir, durable=False
    )
    with pytest.raises(InvalidAgentIdError):
        by_agent.log_file_change("a.txt", "file_create", None, "x")
    assert git(ledger_path, "for-each-ref") == ""
    blob = git(ledger_path, "cat-file", "--batch-all-objects", "--batch-check")
    assert blob == ""


def test_a_timestamp_out_of_range_in_utc_is_a_clear_error(ledger_path: Path, workdir: Path) -> None:
    import datetime as dt

    from ledger.errors import InvalidInputError

    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    late = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-12)))
    with pytest.raises(InvalidInputError, match="out of range"):
        logger.log("system_command", "far future", timestamp=late)
    assert logger.log("system_command", "still writable").description == "still writable"


@pytest.mark.parametrize(
    "call",
    [
        lambda lg: lg.log_api_call("https://api.example.com", None),
        lambda lg: lg.log_api_call("https://api.example.com", "GET", status_code="teapot"),
        lambda lg: lg.log_command("ls", "", None),
        lambda lg: lg.log_command(b"ls", "", 0),
        lambda lg: lg.log_command("ls", "", 0, duration="slow"),
        lambda lg: lg.log_agent_decision("retry", "flaky", context=["not", "a", "mapping"]),
    ],
)
def test_bad_arguments_to_the_log_helpers_are_invalid_input(
    ledger_path: Path, workdir: Path, call: Any
) -> None:
    from ledger.errors import InvalidInputError

    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    with pytest.raises(InvalidInputError):
        call(logger)
    assert not logger.store.exists or logger.store.tip("s") is None


def test_numeric_strings_still_work_for_codes(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    api = logger.log_api_call("https://api.example.com", "get", status_code="503", duration="0.5")
    assert api.metadata["status_code"] == 503 and api.level.value == "error"
    assert logger.log_command("false", "", "1").metadata["exit_code"] == 1
