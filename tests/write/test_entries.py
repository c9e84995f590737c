"""The ledger core as git sees it: entries are commits, states are blobs, diffs are exact."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, LogLevel
from ledger._store import LedgerStore
from ledger.errors import (
    EntryNotFoundError,
    InvalidInputError,
    InvalidPathError,
    TimestampOrderError,
)
from tests.conftest import fsck_clean, git


def make(ledger_path: Path, workdir: Path, session: str = "s1", **kw: object) -> ChangeLogger:
    return ChangeLogger(
        ledger_dir=ledger_path,
        agent_id="my-agent",
        session_id=session,
        workdir=workdir,
        **kw,  # type: ignore[arg-type]
    )


def test_entry_is_a_commit_on_the_session_branch(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    entry = logger.log(ChangeType.DEPLOYMENT, "Deployed v2", {"env": "prod"}, LogLevel.WARNING)

    assert git(ledger_path, "rev-parse", "refs/heads/sessions/s1").strip() == entry.id
    assert git(ledger_path, "log", "--oneline", "-1", "--format=%s", "sessions/s1").strip() == (
        "deployment: Deployed v2"
    )
    trailers = git(ledger_path, "log", "-1", "--format=%(trailers:only,unfold)", entry.id)
    assert "Ledger-Type: deployment" in trailers
    assert "Ledger-Level: warning" in trailers
    assert "Ledger-Session: s1" in trailers
    assert "Ledger-Agent: my-agent" in trailers
    assert git(ledger_path, "log", "-1", "--format=%an", entry.id).strip() == "my-agent"
    assert int(git(ledger_path, "log", "-1", "--format=%at", entry.id)) == int(
        entry.timestamp.timestamp()
    )
    stored = json.loads(git(ledger_path, "show", f"{entry.id}:entry.json"))
    assert stored["description"] == "Deployed v2"
    assert stored["metadata"] == {"env": "prod"}
    assert stored["timestamp"] == entry.timestamp.isoformat()
    assert entry.timestamp.tzinfo is not None and entry.timestamp.utcoffset() == dt.timedelta(0)
    assert git(
        ledger_path, "log", "--all", "--grep=Ledger-Type: deployment", "--format=%H"
    ).split() == [entry.id]
    fsck_clean(ledger_path)


def test_file_change_diff_and_hashes(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    created = logger.log_file_change("api/main.py", "file_create", after_content="a\nb\n")
    updated = logger.log_file_change(
        "api/main.py",
        ChangeType.FILE_UPDATE,
        before_content="a\nb\n",
        after_content="a\nB\n",
        description="Fix b",
    )
    assert created.file_hash_before is None
    assert updated.file_hash_before == created.file_hash_after
    assert git(ledger_path, "cat-file", "-p", updated.file_hash_before or "") == "a\nb\n"
    assert git(ledger_path, "cat-file", "-p", updated.file_hash_after or "") == "a\nB\n"
    assert updated.metadata["file_size_before"] == 4 and updated.metadata["file_size_after"] == 4
    diff = git(ledger_path, "show", "--format=", updated.id, "--", "files/api/main.py")
    assert "-b\n+B\n" in diff
    history = git(ledger_path, "log", "--all", "--format=%H", "--", "files/api/main.py").split()
    assert history == [updated.id, created.id]
    deleted = logger.log_file_change("api/main.py", "file_delete", before_content="a\nB\n")
    assert deleted.file_hash_after is None
    assert "deleted file mode" in git(ledger_path, "show", deleted.id, "--", "files/api/main.py")
    fsck_clean(ledger_path)


def test_first_seen_and_drift_become_observation_commits(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    first = logger.log_file_change("cfg.yaml", "file_update", "x: 1\n", "x: 2\n")
    assert not first.drift
    parent = git(ledger_path, "log", "-1", "--format=%s%n%(trailers:only)", f"{first.id}^")
    assert parent.startswith("observe: cfg.yaml first seen by the session")
    assert "Ledger-Observation: first-seen" in parent
    assert "-x: 1\n+x: 2" in git(ledger_path, "show", "--format=", first.id)

    # Someone else edited the file to x: 5 behind the agent's back.
    drifted = logger.log_file_change("cfg.yaml", "file_update", "x: 5\n", "x: 6\n")
    assert drifted.drift
    obs = git(ledger_path, "log", "-1", "--format=%s%n%(trailers:only)", f"{drifted.id}^")
    assert "changed outside the session" in obs and "Ledger-Observation: drift" in obs
    assert "-x: 2\n+x: 5" in git(ledger_path, "show", "--format=", f"{drifted.id}^")
    assert "-x: 5\n+x: 6" in git(ledger_path, "show", "--format=", drifted.id)

    summary = logger.get_session_summary()
    assert summary["total_changes"] == 2  # observations are not entries
    assert summary["drift_detected"] == 1
    assert LedgerStore(ledger_path).get_entry(drifted.id).drift
    with pytest.raises(EntryNotFoundError):
        LedgerStore(ledger_path).get_entry(git(ledger_path, "rev-parse", f"{drifted.id}^").strip())
    fsck_clean(ledger_path)


def test_entry_reads_back_identically(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    when = dt.datetime(2025, 11, 5, 17, 30, 45, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    entry = logger.log_file_change(
        "bin/blob.dat",
        "file_create",
        after_content=bytes(range(256)) * 4,
        timestamp=when,
        metadata={"at": dt.date(2025, 1, 2), "path": Path("/x/y"), "lvl": LogLevel.ERROR},
    )
    store = LedgerStore(ledger_path)
    back = store.get_entry(entry.id[:7])
    assert back == entry
    assert back.timestamp == when
    assert back.after_bytes == bytes(range(256)) * 4
    assert isinstance(back.after_state, bytes)
    assert back.metadata["at"] == "2025-01-02" and back.metadata["lvl"] == "error"
    assert back.to_dict()["id"] == entry.id
    assert back.to_dict(include_states=True)["after_state"]["base64"]


def test_timestamps_stay_in_order(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    t0 = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
    logger.log("api_call", "first", timestamp=t0)
    with pytest.raises(TimestampOrderError):
        logger.log("api_call", "earlier", timestamp=t0 - dt.timedelta(microseconds=1))
    with pytest.raises(InvalidInputError):
        logger.log("api_call", "naive", timestamp=dt.datetime(2025, 1, 2))
    later = logger.log("api_call", "same time", timestamp=t0)
    assert later.timestamp == t0
    assert len(git(ledger_path, "rev-list", "sessions/s1").split()) == 2


def test_track_file_logs_the_right_change(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    target = workdir / "pkg" / "mod.py"
    with logger.track_file("pkg/mod.py") as t:
        target.parent.mkdir()
        target.write_text("v1\n")
    assert t.entry is not None and t.entry.change_type is ChangeType.FILE_CREATE
    with logger.track_file("pkg/mod.py") as t:
        pass
    assert t.entry is None  # unchanged: nothing logged
    with logger.track_file(target) as t:  # absolute path inside the workspace
        target.write_text("v2\n")
        target.chmod(0o755)
    assert t.entry is not None and t.entry.change_type is ChangeType.FILE_UPDATE
    assert t.entry.tree_path == "files/pkg/mod.py"
    assert "100755" in git(ledger_path, "ls-tree", "-r", t.entry.id, "files/pkg/mod.py")
    with logger.track_file("pkg/mod.py") as t:
        target.unlink()
    assert t.entry is not None and t.entry.change_type is ChangeType.FILE_DELETE
    assert logger.get_session_summary()["total_changes"] == 3
    fsck_clean(ledger_path)


def test_track_file_never_follows_links_out_of_the_workspace(
    ledger_path: Path, workdir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n")
    (workdir / "escape").symlink_to(outside)
    logger = make(ledger_path, workdir)
    with pytest.raises(InvalidPathError), logger.track_file("escape/secret.txt"):
        pass
    (workdir / "link.txt").symlink_to(outside / "secret.txt")
    with logger.track_file("link.txt") as t:
        (workdir / "link.txt").unlink()
    assert t.entry is not None
    # The link itself was recorded (mode 120000, the target path), never the file behind it.
    assert t.entry.before_bytes == os.fsencode(outside / "secret.txt")
    objects = git(ledger_path, "cat-file", "--batch-all-objects", "--batch")
    assert "top secret" not in objects


def test_size_cap_keeps_only_hash_and_size(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir, max_content_bytes=1000)
    big = b"x" * 5000
    entry = logger.log_file_change("big.bin", "file_create", after_content=big)
    assert entry.metadata["after_stored"] is False
    assert entry.metadata["file_size_after"] == 5000
    assert (
        entry.file_hash_after
        == git(ledger_path, "hash-object", "--stdin", input="x" * 5000).strip()
    )
    assert git(ledger_path, "cat-file", "-e", entry.file_hash_after or "", check=False) == ""
    placeholder = git(ledger_path, "show", f"{entry.id}:files/big.bin")
    assert "content not stored: 5000 bytes" in placeholder
    fsck_clean(ledger_path)


def test_large_file_streams_from_disk(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    data = os.urandom(3 * 1024 * 1024)
    with logger.track_file("data.bin") as t:
        (workdir / "data.bin").write_bytes(data)
    assert t.entry is not None and t.entry.after_bytes == data
    fsck_clean(ledger_path)


def test_batch_writes_one_pack_and_one_ref_update(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    logger.log("agent_decision", "before the batch")
    packs_before = list((ledger_path / "objects" / "pack").glob("*.pack"))
    with logger.batch():
        ids = [logger.log_command(f"echo {i}", str(i), 0).id for i in range(50)]
        logger.log_file_change("a.txt", "file_create", after_content="hi\n")
        logger.log_file_change("a.txt", "file_update", "hi\n", "hello\n")
        # Nothing is visible before the batch ends.
        assert git(ledger_path, "rev-list", "--count", "sessions/s1").strip() == "1"
    packs = set((ledger_path / "objects" / "pack").glob("*.pack")) - set(packs_before)
    assert len(packs) == 1
    assert git(ledger_path, "rev-list", "--count", "sessions/s1").strip() == "53"
    reflog = git(ledger_path, "reflog", "show", "--format=%gs", "refs/heads/sessions/s1").split(
        "\n"
    )
    assert reflog[0] == "ledger: batch of 52 entries"
    assert LedgerStore(ledger_path).get_entry(ids[17]).description == "Executed: echo 17"
    assert "-hi\n+hello" in git(ledger_path, "show", "--format=", "sessions/s1")
    git(ledger_path, "verify-pack", str(next(iter(packs)).with_suffix(".idx")))
    fsck_clean(ledger_path)


def test_batch_keeps_entries_when_the_block_raises(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    with pytest.raises(RuntimeError), logger.batch():
        logger.log("api_call", "one")
        logger.log("api_call", "two")
        raise RuntimeError("agent crashed")
    assert logger.get_session_summary()["total_changes"] == 2


def test_reflog_records_each_update(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    for i in range(3):
        logger.log("system_command", f"step {i}")
    assert len(git(ledger_path, "reflog", "show", "refs/heads/sessions/s1").splitlines()) == 3


def test_session_summary(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    t0 = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
    logger.log_command("make", "ok", 0, timestamp=t0)
    logger.log_command("make test", "1 failed", 2, timestamp=t0 + dt.timedelta(seconds=30))
    logger.log_file_change(
        "x.py", "file_create", after_content="x", timestamp=t0 + dt.timedelta(minutes=1)
    )
    s = logger.get_session_summary()
    assert s["total_changes"] == 3
    assert s["changes_by_type"] == {"system_command": 2, "file_create": 1}
    assert s["changes_by_level"] == {"info": 2, "error": 1}
    assert s["errors"] == 1 and s["files_touched"] == ["x.py"]
    assert s["duration_seconds"] == 60.0 and s["branch"] == "refs/heads/sessions/s1"


def test_seed_helpers_record_their_fields(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    d = logger.log_agent_decision("Deploy", "tests passed", {"approved_by": "user"})
    assert d.metadata == {
        "decision": "Deploy",
        "reasoning": "tests passed",
        "context": {"approved_by": "user"},
    }
    c = logger.log_command(["git", "commit", "-m", "x y"], "done", 1, stderr="oops", duration=1.5)
    assert c.metadata["command"] == "git commit -m 'x y'" and c.level is LogLevel.ERROR
    assert c.metadata["stderr"] == "oops" and c.metadata["duration_seconds"] == 1.5
    a = logger.log_api_call("/api/v1/models", "post", {"model": "m"}, {"error": "x"}, 503)
    assert a.level is LogLevel.ERROR and a.metadata["method"] == "POST"
    assert a.description == "POST /api/v1/models -> 503"


def test_hostile_description_cannot_forge_trailers(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    evil = "ok\n\nLedger-Session: other\nLedger-Level: debug\x1b[31m\r\n"
    entry = logger.log("api_call", evil, level="critical")
    subject = git(ledger_path, "log", "-1", "--format=%s", entry.id).strip()
    assert "\x1b" not in subject and "\n" not in subject
    trailers = git(ledger_path, "log", "-1", "--format=%(trailers:only,unfold)", entry.id)
    assert "Ledger-Session: other" not in trailers and "Ledger-Level: critical" in trailers
    assert LedgerStore(ledger_path).get_entry(entry.id).description == evil


def test_absolute_paths_outside_the_workspace(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    e = logger.log_file_change("/etc/hosts", "config_change", "a\n", "b\n")
    assert e.tree_path == "files/%2F/etc/hosts"
    assert e.file_path == "/etc/hosts"
    rel = logger.log_file_change("%2F/etc/hosts", "file_create", after_content="c\n")
    assert rel.tree_path == "files/%252F/etc/hosts"
    inside = logger.log_file_change(workdir / "app.py", "file_create", after_content="d\n")
    assert inside.tree_path == "files/app.py"
    fsck_clean(ledger_path)


def test_ledger_is_private(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir).log("api_call", "x")
    assert stat.S_IMODE(ledger_path.stat().st_mode) == 0o700
    assert git(ledger_path, "config", "gc.auto").strip() == "0"
    assert git(ledger_path, "config", "core.logAllRefUpdates").strip() == "always"
    assert git(ledger_path, "rev-parse", "--is-bare-repository").strip() == "true"


def test_file_trailer_is_the_whole_tree_path(ledger_path: Path, workdir: Path) -> None:
    logger = make(ledger_path, workdir)
    long_path = "/".join(["folder with spaces "] * 12) + "/file.txt "
    entry = logger.log_file_change(long_path, "file_create", after_content="x")
    trailers = git(ledger_path, "log", "-1", "--format=%B", entry.id)
    assert f"Ledger-File: {entry.tree_path}\n" in trailers
    assert len(entry.tree_path or "") > 200
