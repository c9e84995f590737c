"""Secrets in places the field scan used to miss: file paths, metadata keys, header pairs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ledger import ChangeLogger

try:
    from tests.conftest import fsck_clean
except ImportError:  # pragma: no cover
    from conftest import fsck_clean  # type: ignore[no-redef]

TOKEN = "ghp_" + "Q7x" * 12


def all_objects(ledger: Path) -> bytes:
    return subprocess.run(
        ["git", "-C", str(ledger), "cat-file", "--batch-all-objects", "--batch"],
        check=True,
        capture_output=True,
    ).stdout


def test_secret_in_a_file_path_reaches_no_object(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    created = logger.log_file_change(f"cfg/{TOKEN}.txt", "file_create", None, "x\n")
    logged = logger.log(
        "file_update", "touched", {"redactions": "caller's own"}, file_path=f"keys/{TOKEN}/a"
    )
    assert TOKEN.encode() not in all_objects(ledger_path)
    for entry in (created, logged):
        assert entry.file_path is not None and "[REDACTED:github-token:" in entry.file_path
        assert entry.metadata["redactions"]["file_path"] == ["github-token"]
        assert entry.metadata["after_stored"] is False  # never restored to a made-up path
    fsck_clean(ledger_path)


def test_secret_used_as_a_metadata_key_reaches_no_object(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    entry = logger.log("api_call", "lookup", metadata={"tokens": {TOKEN: "alice"}})
    assert TOKEN.encode() not in all_objects(ledger_path)
    (key,) = entry.metadata["tokens"]
    assert key.startswith("[REDACTED:github-token:")
    assert entry.metadata["tokens"][key] == "alice"
    fsck_clean(ledger_path)


def test_header_pairs_in_lists_are_redacted(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    secrets = ["plainOpaqueValue4242", "Bearer opaque-session-77"]
    entry = logger.log_api_call(
        "https://api.example.com/v1",
        "GET",
        {"headers": [("X-Api-Key", secrets[0]), ["Authorization", secrets[1]], ["Accept", "*/*"]]},
        None,
        200,
    )
    blob = all_objects(ledger_path)
    for secret in secrets:
        assert secret.encode() not in blob
    headers = entry.metadata["request_data"]["headers"]
    assert headers[0][0] == "X-Api-Key" and headers[0][1].startswith("[REDACTED:sensitive-key:")
    assert headers[2] == ["Accept", "*/*"]
    # A two-word list that is no list of pairs (tags) is left alone.
    tagged = logger.log("agent_decision", "labels", {"tags": ["auth", "bugfix"]})
    assert tagged.metadata["tags"] == ["auth", "bugfix"]
    fsck_clean(ledger_path)


def test_name_value_header_objects_are_redacted(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="s", workdir=workdir, durable=False)
    secrets = ["Bearer opaqueHarValue1", "opaqueKeyValue22"]
    entry = logger.log_api_call(
        "https://api.example.com/v1",
        "GET",
        {
            "headers": [
                {"name": "Authorization", "value": secrets[0]},
                {"key": "X-Api-Key", "value": secrets[1]},
                {"name": "Accept", "value": "*/*"},
            ]
        },
        None,
        200,
    )
    blob = all_objects(ledger_path)
    for secret in secrets:
        assert secret.encode() not in blob
    headers = entry.metadata["request_data"]["headers"]
    assert headers[0]["name"] == "Authorization"
    assert headers[0]["value"].startswith("[REDACTED:sensitive-key:")
    assert headers[2] == {"name": "Accept", "value": "*/*"}
    fsck_clean(ledger_path)
