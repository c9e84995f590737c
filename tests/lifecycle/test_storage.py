"""LogStorage: usage, maintenance (packing and rotation), archives, quota, export.

Also: The query index is a disposable cache: it never counts against the storage budget.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import threading
import time
from pathlib import Path

import pytest

from ledger import ChangeLogger, LogQuery, LogStorage
from ledger._layout import INDEX_FILE
from ledger._upkeep import maybe_start_maintenance as auto_maintenance
from ledger.errors import (
    ArchiveError,
    GitUnavailableError,
    InvalidInputError,
    LedgerNotFoundError,
    MaintenanceBusyError,
)
from ledger.lifecycle.usage import loose_objects
from tests.conftest import fsck_clean, git

NOW = dt.datetime.now(dt.UTC)
# Noon, so that the minutes fill() adds never cross into the next day whatever the time of
# the run (tests that filter by OLD's date failed in the last minutes before midnight).
OLD = (NOW - dt.timedelta(days=45)).replace(hour=12, minute=0, second=0, microsecond=0)


def fill(ledger: Path, work: Path, session: str, n: int, start: dt.datetime | None = None,
         agent: str = "agent-a") -> list[str]:
    """Write n entries (file updates and commands) to a session; return their ids."""
    logger = ChangeLogger(ledger, agent_id=agent, session_id=session, workdir=work,
                          durable=False)
    ids = []
    for i in range(n):
        when = start + dt.timedelta(minutes=i) if start else None
        if i % 2:
            e = logger.log_command(f"make step{i}", output="ok", exit_code=int(i % 3 == 0),
                                   timestamp=when)
        else:
            e = logger.log_file_change(f"src/f{i % 3}.py", "file_update", f"v{i}\n",
                                       f"v{i + 1}\n", timestamp=when)
        ids.append(e.id)
    return ids


def refs(ledger: Path) -> dict[str, str]:
    out = git(ledger, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/")
    return dict(line.split(" ") for line in out.splitlines())


def test_usage_counts_entries_sessions_and_objects(ledger_path: Path, workdir: Path) -> None:
    fill(ledger_path, workdir, "s1", 6, OLD)
    fill(ledger_path, workdir, "s2", 4)
    usage = LogStorage(ledger_path, max_storage_mb=1).get_storage_usage()
    assert usage["entries"] == 10
    assert usage["sessions"] == 2
    loose, _ = loose_objects(ledger_path)
    assert usage["loose_objects"] == loose > 0
    assert usage["packs"] == 0
    du = sum(p.stat().st_size for p in ledger_path.rglob("*") if p.is_file())
    assert usage["total_size_bytes"] == du
    assert usage["usage_percentage"] == pytest.approx(100 * du / 1024 / 1024)
    assert usage["oldest_entry"].startswith(OLD.date().isoformat())
    assert usage["newest_entry"] >= NOW.replace(microsecond=0).isoformat()[:16]


def test_usage_of_missing_ledger_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerNotFoundError):
        LogStorage(tmp_path / "nothing.git").get_storage_usage()


def test_maintenance_packs_archives_and_keeps_everything(
    ledger_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_ids = fill(ledger_path, workdir, "old-session", 8, OLD)
    new_ids = fill(ledger_path, workdir, "new-session", 8)
    before_refs = refs(ledger_path)
    storage = LogStorage(ledger_path, prune_grace_seconds=0)

    dry = storage.maintenance(dry_run=True)
    assert dry["dry_run"] and dry["archived"] == 1 and dry["archived_entries"] == 8
    assert refs(ledger_path) == before_refs  # a dry run changes nothing
    assert not storage.archive_dir.exists()

    result = storage.maintenance()
    printed = capsys.readouterr().out
    assert result["archived"] == 1 and result["deleted_old"] == 1
    assert result["compressed"] > 0 and result["loose_after"] == 0
    assert result["loose_removed"] == result["compressed"]
    assert result["bytes_after"] < result["bytes_before"]
    bundle = Path(result["archive"])
    assert bundle.parent == ledger_path / "archive" and bundle.is_file()
    assert str(bundle) in printed and "old-session" in printed
    assert "refs/heads/sessions/old-session" not in refs(ledger_path)
    # The new session is intact and packed; the old one's objects are gone from the ledger.
    assert loose_objects(ledger_path)[0] == 0
    for entry_id in new_ids:
        assert git(ledger_path, "cat-file", "-t", entry_id).strip() == "commit"
    assert git(ledger_path, "cat-file", "-e", old_ids[0], check=False) == ""
    assert os.system(f"git --git-dir={ledger_path} cat-file -e {old_ids[0]} 2>/dev/null") != 0
    fsck_clean(ledger_path)
    # The bundle holds the archived history, readable by plain git.
    heads = git(ledger_path, "bundle", "list-heads", str(bundle))
    assert before_refs["refs/heads/sessions/old-session"] in heads

    restored = storage.restore_archive(bundle.name)
    assert restored["restored"] == ["old-session"]
    assert refs(ledger_path) == before_refs
    again = storage.restore_archive(bundle)
    assert again["present"] == ["old-session"] and again["restored"] == []
    log = git(ledger_path, "log", "--format=%H", "refs/heads/sessions/old-session")
    assert set(old_ids) <= set(log.split())
    fsck_clean(ledger_path)


def test_restore_never_moves_a_reused_session_backwards(ledger_path: Path, workdir: Path) -> None:
    fill(ledger_path, workdir, "reused", 3, OLD)
    storage = LogStorage(ledger_path, prune_grace_seconds=0, quiet=True)
    bundle = storage.maintenance()["archive"]
    fresh = fill(ledger_path, workdir, "reused", 2)  # a new session takes the same id
    result = storage.restore_archive(bundle)
    assert result["renamed"] == {"reused": "reused.restored-1"}
    assert refs(ledger_path)["refs/heads/sessions/reused"] == fresh[-1]
    assert len(git(ledger_path, "rev-list", "refs/heads/sessions/reused.restored-1").split()) >= 3
    fsck_clean(ledger_path)


def test_maintenance_keeps_a_session_written_while_it_archives(
    ledger_path: Path, workdir: Path
) -> None:
    fill(ledger_path, workdir, "revived", 4, OLD)
    logger = ChangeLogger(ledger_path, agent_id="late", session_id="revived", workdir=workdir)
    written: list[str] = []

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == "archiving" and not written:  # between choosing and deleting
            written.append(logger.log("deployment", "late write").id)

    storage = LogStorage(ledger_path, prune_grace_seconds=0, quiet=True, progress=progress)
    result = storage.maintenance()
    assert written and result["sessions_skipped"] == ["revived"]
    assert result["deleted_old"] == 0
    assert refs(ledger_path)["refs/heads/sessions/revived"] == written[0]
    fsck_clean(ledger_path)


def test_bundle_that_fails_verification_is_refused(ledger_path: Path, workdir: Path) -> None:
    fill(ledger_path, workdir, "s", 2)
    bad = ledger_path.parent / "bad.bundle"
    bad.write_text("# v2 git bundle\nnot a bundle\n")
    storage = LogStorage(ledger_path, quiet=True)
    with pytest.raises(ArchiveError):
        storage.restore_archive(bad)
    with pytest.raises(ArchiveError):
        storage.restore_archive("no-such.bundle")


def test_maintenance_lock_refuses_a_second_run(ledger_path: Path, workdir: Path) -> None:
    fill(ledger_path, workdir, "s", 2)
    storage = LogStorage(ledger_path, quiet=True)
    with storage.maintenance_lock(), pytest.raises(MaintenanceBusyError):
        storage.maintenance()
    storage.maintenance()  # the lock is gone with its holder


def test_missing_git_is_a_clear_error(
    ledger_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(ledger_path, workdir, "s", 2)
    monkeypatch.setenv("PATH", str(workdir))
    with pytest.raises(GitUnavailableError, match="install git"):
        LogStorage(ledger_path, quiet=True).maintenance()


def test_quota_retires_oldest_sessions_until_under_budget(
    ledger_path: Path, workdir: Path
) -> None:
    for k, session in enumerate(["oldest", "middle", "newest"]):
        logger = ChangeLogger(ledger_path, session_id=session, workdir=workdir, durable=False)
        for i in range(40):
            logger.log_file_change(
                f"blob{i}.bin", "file_create", None,
                os.urandom(3000),  # incompressible: each session costs ~120 KB
                timestamp=OLD + dt.timedelta(days=k, minutes=i),
            )
    storage = LogStorage(ledger_path, max_storage_mb=0.3, prune_grace_seconds=0, quiet=True)
    result = storage.enforce_storage_quota()
    assert result["under_budget"], result
    assert result["sessions_removed"][0] == "oldest"
    assert "refs/heads/sessions/newest" in refs(ledger_path)
    assert result["archives"] and all(Path(a).is_file() for a in result["archives"])
    assert storage.repository_bytes() <= 0.3 * 1024 * 1024
    fsck_clean(ledger_path)


def test_concurrent_writers_lose_nothing_while_maintenance_runs(
    ledger_path: Path, workdir: Path
) -> None:
    fill(ledger_path, workdir, "old", 5, OLD)
    ids: dict[str, list[str]] = {}
    tips: dict[str, bool] = {}
    errors: list[BaseException] = []

    def writer(session: str) -> None:
        try:
            logger = ChangeLogger(ledger_path, session_id=session, workdir=workdir)
            got = ids.setdefault(session, [])
            for i in range(60):
                if i % 20 == 10:
                    with logger.batch():
                        for j in range(5):
                            got.append(logger.log("model_inference", f"b{i}.{j}").id)
                else:
                    got.append(logger.log_file_change("w.txt", "file_update", None,
                                                      f"{session} {i}\n").id)
                tips[session] = True
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(2)]
    for t in threads:
        t.start()
    storage = LogStorage(ledger_path, quiet=True)  # the default prune grace
    runs = 0
    last: dict[str, str] = {}
    while any(t.is_alive() for t in threads) or runs < 2:
        storage.maintenance(lock_timeout=30)
        runs += 1
        for session in tips:
            # No ref may go backwards: each tip we see descends from the one seen before.
            tip = refs(ledger_path).get(f"refs/heads/sessions/{session}")
            assert tip is not None
            if session in last:
                git(ledger_path, "merge-base", "--is-ancestor", last[session], tip)
            last[session] = tip
    for t in threads:
        t.join()
    assert not errors
    for session, got in ids.items():
        listed = git(ledger_path, "rev-list", f"refs/heads/sessions/{session}").split()
        assert set(got) <= set(listed)
        assert refs(ledger_path)[f"refs/heads/sessions/{session}"] == got[-1]
    fsck_clean(ledger_path)


def test_writers_start_maintenance_in_the_background(ledger_path: Path, workdir: Path) -> None:
    fill(ledger_path, workdir, "s", 2)
    git(ledger_path, "config", "ledger.autoMaintenance", "1")
    storage = LogStorage(ledger_path, quiet=True)
    # Below the threshold nothing starts; past it the next writer starts one run.
    git(ledger_path, "config", "ledger.autoMaintenance", "0")
    assert auto_maintenance(ledger_path) is False
    git(ledger_path, "config", "ledger.autoMaintenance", "1")
    while not (ledger_path / "objects" / "17").is_dir():
        fill(ledger_path, workdir, "s", 1)
    logger = ChangeLogger(ledger_path, session_id="trigger", workdir=workdir)
    logger.log("deployment", "first write of this logger checks the threshold")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and storage.get_storage_usage()["packs"] == 0:
        time.sleep(0.1)
    assert storage.get_storage_usage()["packs"] >= 1
    while time.monotonic() < deadline and "Packed" not in _read(ledger_path):
        time.sleep(0.1)
    assert "Packed" in _read(ledger_path)
    fsck_clean(ledger_path)


def _read(ledger: Path) -> str:
    path = ledger / "ledger-maintenance.log"
    return path.read_text() if path.exists() else ""


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_export_formats_and_filters(ledger_path: Path, workdir: Path, fmt: str) -> None:
    old = fill(ledger_path, workdir, "old", 6, OLD, agent="alpha")
    new = fill(ledger_path, workdir, "new", 6, agent="beta")
    storage = LogStorage(ledger_path, quiet=True)
    out = workdir / f"all.{fmt}"
    result = storage.export_logs(out, format=fmt, include_states=True)
    assert result["entries"] == 12
    rows = _load(out, fmt)
    assert {r["id"] for r in rows} == set(old + new)
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    update = next(r for r in rows if r["change_type"] == "file_update")
    assert update["after_state"].startswith("v")

    since = (NOW - dt.timedelta(days=1)).date().isoformat()
    storage.export_logs(out, start_date=since, format=fmt)
    assert {r["id"] for r in _load(out, fmt)} == set(new)
    storage.export_logs(out, end_date=OLD.date().isoformat(), format=fmt)
    assert {r["id"] for r in _load(out, fmt)} == set(old)
    storage.export_logs(out, format=fmt, change_types=["system_command"], agent_id="alpha")
    got = _load(out, fmt)
    assert got and all(r["change_type"] == "system_command" and r["agent_id"] == "alpha"
                       for r in got)
    storage.export_logs(out, format=fmt, file_path="src/", session_id="new")
    got = _load(out, fmt)
    assert len(got) == 3 and all(r["file_path"].startswith("src/") for r in got)
    assert "before_state" not in got[0] or got[0]["before_state"] in ("", None)


def _load(path: Path, fmt: str) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    if fmt == "json":
        return list(json.loads(text))
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_export_refuses_bad_input_and_writes_nothing(ledger_path: Path, workdir: Path) -> None:
    fill(ledger_path, workdir, "s", 2)
    storage = LogStorage(ledger_path, quiet=True)
    out = workdir / "x.json"
    for kwargs in (
        {"format": "xml"},
        {"start_date": "yesterday-ish"},
        {"colour": "blue"},
        {"change_types": ["nope"]},
        {"start_date": "2025-02-01", "end_date": "2025-01-01"},
    ):
        with pytest.raises(InvalidInputError):
            storage.export_logs(out, **kwargs)  # type: ignore[arg-type]
    assert sorted(p.name for p in workdir.iterdir() if p.name.endswith("json")) == []


def test_export_streams_without_holding_entries(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_path, session_id="many", workdir=workdir, durable=False)
    with logger.batch():
        for i in range(3000):
            logger.log("model_inference", f"inference {i}", {"i": i})
    storage = LogStorage(ledger_path, quiet=True)
    import tracemalloc

    tracemalloc.start()
    storage.export_logs(workdir / "many.jsonl", format="jsonl", session_id="many")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = (workdir / "many.jsonl").read_text().splitlines()
    assert len(lines) == 3000
    size = (workdir / "many.jsonl").stat().st_size
    assert peak < size / 2, (peak, size)  # never the whole export in memory


def test_maintenance_removes_old_temporary_leftovers(ledger_path: Path, workdir: Path) -> None:
    fill(ledger_path, workdir, "s", 2)
    pack_dir = ledger_path / "objects" / "pack"
    pack_dir.mkdir(exist_ok=True)
    stale = pack_dir / "tmp_pack_dead"
    fresh = pack_dir / "tmp_pack_live"
    (ledger_path / "archive").mkdir()
    bundle_tmp = ledger_path / "archive" / ".tmp-dead.bundle"
    for path in (stale, fresh, bundle_tmp):
        path.write_bytes(b"partial")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    os.utime(bundle_tmp, (old, old))
    LogStorage(ledger_path, quiet=True).maintenance()
    assert not stale.exists() and not bundle_tmp.exists()
    assert fresh.exists()  # an in-flight writer's file is left alone


def test_in_flight_objects_survive_and_published_batches_are_consolidated(
    ledger_path: Path, workdir: Path
) -> None:
    from ledger._objects import OBJ_BLOB, object_id, write_pack

    logger = ChangeLogger(ledger_path, session_id="b", workdir=workdir, durable=False)
    with logger.batch():
        for i in range(20):
            logger.log("model_inference", f"in a batch {i}")
    assert len(list((ledger_path / "objects" / "pack").glob("*.pack"))) == 1
    # A writer between writing its objects and publishing its ref: a pack and a loose blob
    # that nothing reaches yet.
    data = b"unpublished batch"
    pending = write_pack(ledger_path / "objects" / "pack",
                         [(object_id(OBJ_BLOB, data), (OBJ_BLOB, data))], durable=False)
    loose = git(ledger_path, "hash-object", "-w", "--stdin", input="unpublished loose").strip()
    storage = LogStorage(ledger_path, quiet=True)  # the default grace
    assert storage.maintenance()["packs_removed"] == 1  # the published batch's pack
    packs_now = sorted((ledger_path / "objects" / "pack").glob("*.pack"))
    assert pending in packs_now  # young and unreachable: kept whole
    assert len(packs_now) == 2   # the published batch went into the new pack
    assert git(ledger_path, "cat-file", "-t", loose).strip() == "blob"
    fsck_clean(ledger_path)
    # Once nothing can be in flight (grace 0), a full repack drops the unreachable ones.
    LogStorage(ledger_path, quiet=True, prune_grace_seconds=0).maintenance(full=True)
    assert pending not in sorted((ledger_path / "objects" / "pack").glob("*.pack"))
    assert git(ledger_path, "cat-file", "-t", loose, check=False) == ""
    fsck_clean(ledger_path)


# --- The query index is a disposable cache: it never counts against the storage budget.


def test_storage_usage_leaves_the_query_index_out(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    for i in range(30):
        logger.log("api_call", f"call number {i} about databases")
    storage = LogStorage(ledger_path)
    before = storage.get_storage_usage()
    assert before["query_index_mb"] == 0
    assert LogQuery(ledger_path).query(search_text="databases")
    index = ledger_path / INDEX_FILE
    assert index.is_file() and index.stat().st_size > 0
    after = storage.get_storage_usage()
    assert after["query_index_mb"] > 0
    assert after["total_size_bytes"] == before["total_size_bytes"]
