"""Entries dated too far ahead of the clock are refused, and never move a session's clock."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ledger import ChangeLogger, LogQuery
from ledger.errors import InvalidInputError
from ledger.write.clock import parse_skew
from ledger.write.importer import import_files
from tests.conftest import git, run_cli
from tests.write.test_import import seed_entry

NOW = dt.datetime.now


def _tip(ledger: Path, session: str) -> str:
    return git(ledger, "rev-parse", "-q", "--verify", f"refs/heads/sessions/{session}",
               check=False).strip()


def test_an_entry_dated_2100_is_refused_and_the_clock_stays(ledger_path: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", durable=False)
    logger.log("api_call", "first")
    before = _tip(ledger_path, "s")
    with pytest.raises(InvalidInputError, match="ahead of this machine's clock") as caught:
        logger.log("api_call", "future", timestamp=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    assert "\n" not in str(caught.value) and "ledger.maxClockSkew" in str(caught.value)
    assert _tip(ledger_path, "s") == before  # nothing written
    after = logger.log("api_call", "automatic")
    assert abs((after.timestamp - NOW(dt.UTC)).total_seconds()) < 60
    stamps = [e.timestamp.year for e in LogQuery(ledger_path).get_session_logs("s")]
    assert 2100 not in stamps


def test_within_the_default_skew_is_accepted(ledger_path: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", durable=False)
    soon = NOW(dt.UTC) + dt.timedelta(minutes=4)
    assert logger.log("api_call", "soon", timestamp=soon).timestamp == soon
    with pytest.raises(InvalidInputError):
        logger.log("api_call", "later", timestamp=NOW(dt.UTC) + dt.timedelta(minutes=6))
    # a later automatic entry waits for the clock at most the skew, never more
    nxt = logger.log("api_call", "automatic")
    assert nxt.timestamp <= soon + dt.timedelta(seconds=1)


def test_the_skew_is_git_config(ledger_path: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", durable=False)
    logger.log("api_call", "create")
    git(ledger_path, "config", "ledger.maxClockSkew", "2h")
    wide = ChangeLogger(ledger_dir=ledger_path, session_id="w", durable=False)
    wide.log("api_call", "in an hour", timestamp=NOW(dt.UTC) + dt.timedelta(hours=1))
    git(ledger_path, "config", "ledger.maxClockSkew", "0")
    strict = ChangeLogger(ledger_dir=ledger_path, session_id="z", durable=False)
    with pytest.raises(InvalidInputError):
        strict.log("api_call", "in a minute", timestamp=NOW(dt.UTC) + dt.timedelta(minutes=1))
    git(ledger_path, "config", "ledger.maxClockSkew", "soon")
    broken = ChangeLogger(ledger_dir=ledger_path, session_id="b", durable=False)
    with pytest.raises(InvalidInputError, match="ledger.maxClockSkew must be a duration"):
        broken.log("api_call", "x", timestamp=NOW(dt.UTC))


@pytest.mark.parametrize("text,seconds", [("300", 300), ("90s", 90), ("5m", 300), ("1.5h", 5400),
                                          ("2d", 172800), (" 10 M ", 600)])
def test_skew_values(text: str, seconds: float) -> None:
    assert parse_skew(text) == seconds


@pytest.mark.parametrize("text", ["", "-5", "nan", "inf", "5w", "1e999", "9999d", "5 m s"])
def test_bad_skew_values(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_skew(text)


def test_import_of_a_future_entry_writes_nothing(ledger_path: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seed.json"
    seeds.write_text(json.dumps([
        seed_entry(1, "imp", "2025-11-05T17:30:45+00:00"),
        seed_entry(2, "imp", "2100-01-01T00:00:00+00:00"),
    ]))
    with pytest.raises(InvalidInputError, match="entry 2: timestamp 2100"):
        import_files([seeds], ledger_path)
    assert not ledger_path.exists()
    out = run_cli("--ledger", str(ledger_path), "import", str(seeds))
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and "2100" in out.stderr, out.stderr
    assert not ledger_path.exists()
