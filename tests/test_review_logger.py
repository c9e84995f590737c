"""Write-path guarantees found missing in review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger import ChangeLogger

try:
    from tests.conftest import fsck_clean, git
except ImportError:  # pragma: no cover
    from conftest import fsck_clean, git  # type: ignore[no-redef]


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
