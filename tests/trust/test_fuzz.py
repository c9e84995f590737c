"""Hostile input: every value either round-trips exactly or is refused with InvalidInputError.

Values the redactor rewrote say so in ``metadata["redactions"]``; only those are exempt from
exact equality. After each run fsck and verify must be clean.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import ChangeLogger, ChangeType
from ledger._store import LedgerStore
from ledger.entry import T_SESSION, T_TYPE, parse_trailers
from ledger.errors import InvalidInputError
from ledger.trust.verify import verify_ledger
from tests.conftest import fsck_clean, git

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _ledger(tmp_path: Path) -> Path:
    return tmp_path / "fuzz.git"


def _redacted(metadata: Any) -> bool:
    return isinstance(metadata, dict) and "redactions" in metadata


def check_ledger(ledger: Path) -> None:
    if (ledger / "HEAD").exists():
        fsck_clean(ledger)
        report = verify_ledger(ledger, accept=False)
        assert report.ok, report.problems


SPECIAL_SESSIONS = ["", ".", "..", "a..b", "a/b", "a b", "-x", "x.lock", "x.", "HEAD", "a@{1}",
                    "\x00", "é", "a" * 128, "a" * 129, "ok-1_2.3@+=", "refs/heads/x"]


@FUZZ
@given(session=st.one_of(st.sampled_from(SPECIAL_SESSIONS), st.text(max_size=140)))
def fuzz_session_ids(tmp_path: Path, session: str) -> None:
    ledger = _ledger(tmp_path)
    try:
        lg = ChangeLogger(ledger, session_id=session, workdir=tmp_path)
    except InvalidInputError:
        return
    entry = lg.log("deployment", "hello")
    back = LedgerStore(ledger).get_entry(entry.id)
    if session == "":  # an empty id means "not given": a fresh session
        assert back.session_id == lg.session_id != ""
        return
    assert back.session_id == session
    assert git(ledger, "rev-parse", f"refs/heads/sessions/{session}").strip() == entry.id


def test_session_ids_round_trip_or_are_refused(tmp_path: Path) -> None:
    fuzz_session_ids(tmp_path)  # type: ignore[call-arg]
    check_ledger(_ledger(tmp_path))


SPECIAL_PATHS: list[str | bytes] = [
    "/etc/passwd", "../up", "a/../b", "./a", ".git/config", ".GIT/config", "sub/.Git/x",
    "git~1/x", "GIT~2", ".git ", ".git.", "\u200c.git/x", "a\x00b", "x" * 256, "x" * 255,
    "/".join(["d"] * 2100), b"caf\xc3\xa9.txt", b"bad\xff\xfe.txt", "%2F", "%zz", "a%2Fb",
    ".gitmodules", ".gitattributes", "con:aux", "back\\slash", "~", "tab\tname", "line\nbreak",
    "ﬀ", "", "/", "//", "/tmp/../etc", "a//b", "trailing/",
]


def as_text(path: str | bytes) -> str:
    return path.decode("utf-8") if isinstance(path, bytes) else path


@FUZZ
@given(
    path=st.one_of(
        st.sampled_from(SPECIAL_PATHS),
        st.text(max_size=80),
        st.binary(max_size=40),
        st.lists(st.sampled_from(["a", "..", ".", ".git", "b c", "%", "~1", "é"]), max_size=6)
        .map("/".join),
    ),
    content=st.binary(max_size=300),
)
def fuzz_file_paths(
    tmp_path: Path, path: str | bytes, content: bytes
) -> None:
    ledger = _ledger(tmp_path)
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    lg = ChangeLogger(ledger, session_id="paths", workdir=workdir)
    try:
        entry = lg.log_file_change(path, ChangeType.FILE_UPDATE, after_content=content)  # type: ignore[arg-type]
    except InvalidInputError:
        return
    back = LedgerStore(ledger).get_entry(entry.id)
    assert back == entry
    assert back.file_path == as_text(path)
    assert back.tree_path is not None and back.tree_path.startswith("files/")
    if not _redacted(back.metadata):
        assert back.after_bytes == content


def test_file_paths_round_trip_or_are_refused(tmp_path: Path) -> None:
    fuzz_file_paths(tmp_path)  # type: ignore[call-arg]
    check_ledger(_ledger(tmp_path))


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.binary(max_size=5),
)
METADATA = st.recursive(
    JSON_SCALARS,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids, max_size=4)),
    max_leaves=20,
)


def json_exact(value: Any) -> bool:
    """True when JSON can hold the value exactly (what the ledger must accept)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, bytes):
        return False
    if isinstance(value, list):
        return all(json_exact(v) for v in value)
    if isinstance(value, dict):
        return all(json_exact(v) for v in value.values())
    return True


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"d": value}
    return value


def cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {"a": 1}
    value["self"] = value
    return value


@FUZZ
@given(meta=st.dictionaries(st.text(max_size=10), METADATA, max_size=5))
@example(meta={"deep": nested(70)})
@example(meta={"deep": nested(60)})
@example(meta={"cycle": cyclic()})
@example(meta={"nan": float("nan")})
@example(meta={"bytes": b"\x00"})
@example(meta={"\ud800": 1})
@example(meta={"big": 2**100, "neg0": -0.0, "tiny": 5e-324})
def fuzz_metadata(tmp_path: Path, meta: dict[str, Any]) -> None:
    ledger = _ledger(tmp_path)
    lg = ChangeLogger(ledger, session_id="meta", workdir=tmp_path)
    try:
        entry = lg.log("deployment", "metadata", meta)
    except InvalidInputError:
        assert "cycle" in meta or "deep" in meta or "\ud800" in meta or not json_exact(meta)
        return
    assert json_exact(meta)
    back = LedgerStore(ledger).get_entry(entry.id)
    assert back.metadata == entry.metadata
    if not _redacted(back.metadata):
        assert back.metadata == meta


def test_metadata_round_trips_or_is_refused(tmp_path: Path) -> None:
    fuzz_metadata(tmp_path)  # type: ignore[call-arg]
    check_ledger(_ledger(tmp_path))


INJECTIONS = [
    "subject\n\nLedger-Session: someone-else\nLedger-Type: deployment\n",
    "a\r\nLedger-Agent: root", "\x1b[31mred\x1b[0m \x1b]0;title\x07", "nul\x00byte",
    "\n\n\n", "", " ", "tab\there", "\u2028line\u2029para", "x" * 5000,
    "Signed-off-by: me\n\nLedger-Observation: drift",
]


@FUZZ
@given(
    description=st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=200)),
    agent=st.one_of(st.just("agent"), st.sampled_from(["a\nb", "x <y@z>", " pad", "ok agent"]),
                    st.text(max_size=20)),
)
def fuzz_commit_messages(
    tmp_path: Path, description: str, agent: str
) -> None:
    ledger = _ledger(tmp_path)
    try:
        lg = ChangeLogger(ledger, agent_id=agent, session_id="inject", workdir=tmp_path)
        entry = lg.log("system_command", description)
    except InvalidInputError:
        return
    back = LedgerStore(ledger).get_entry(entry.id)
    assert back == entry and back.agent_id == (agent or "agent")  # "" means not given
    if not _redacted(back.metadata):
        assert back.description == description
    message = git(ledger, "log", "-1", "--format=%B", entry.id)
    trailers = parse_trailers(message)
    assert trailers[T_SESSION] == "inject" and trailers[T_TYPE] == "system_command"
    assert "\x1b" not in message and "\x00" not in message
    assert len(message.splitlines()[0]) <= 200


def test_commit_message_injection_round_trips_or_is_refused(tmp_path: Path) -> None:
    fuzz_commit_messages(tmp_path)  # type: ignore[call-arg]
    check_ledger(_ledger(tmp_path))
    assert os.path.exists(_ledger(tmp_path) / "HEAD")
