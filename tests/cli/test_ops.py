"""The operating commands from a shell: maintenance, export, archive list/restore, metrics."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from ledger import ChangeLogger
from tests.conftest import fsck_clean, git, run_cli

# Noon, so that the minutes make() adds stay on OLD's date whatever the time of the run.
OLD = (dt.datetime.now(dt.UTC) - dt.timedelta(days=60)).replace(
    hour=12, minute=0, second=0, microsecond=0
)


def make(ledger: Path, work: Path) -> None:
    old = ChangeLogger(ledger, agent_id="old-agent", session_id="old", workdir=work)
    for i in range(3):
        old.log_file_change("a.txt", "file_update", f"{i}\n", f"{i + 1}\n",
                            timestamp=OLD + dt.timedelta(minutes=i))
    new = ChangeLogger(ledger, agent_id="new-agent", session_id="new", workdir=work)
    new.log_command("pytest", "1 failed", exit_code=1)
    new.log("deployment", "ship it")


def test_maintenance_dry_run_then_real_run_names_the_archive(
    ledger_path: Path, workdir: Path
) -> None:
    make(ledger_path, workdir)
    dry = run_cli("--ledger", str(ledger_path), "maintenance", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would" in dry.stdout and "old" in dry.stdout
    assert "refs/heads/sessions/old" in git(ledger_path, "for-each-ref")
    real = run_cli("--ledger", str(ledger_path), "maintenance")
    assert real.returncode == 0, real.stderr
    bundle = next((ledger_path / "archive").glob("*.bundle"))
    assert str(bundle) in real.stdout and "removed" in real.stdout
    assert "refs/heads/sessions/old" not in git(ledger_path, "for-each-ref")
    listed = run_cli("--ledger", str(ledger_path), "archive", "list", "--json")
    rows = json.loads(listed.stdout)
    assert rows[0]["session_ids"] == ["old"] and rows[0]["entries"] == 3
    table = run_cli("--ledger", str(ledger_path), "archive", "list")
    assert bundle.name in table.stdout and "SESSIONS" in table.stdout
    back = run_cli("--ledger", str(ledger_path), "archive", "restore", bundle.name)
    assert back.returncode == 0 and "old" in back.stdout
    assert "refs/heads/sessions/old" in git(ledger_path, "for-each-ref")
    fsck_clean(ledger_path)


def test_maintenance_json_and_quota(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    out = run_cli("--ledger", str(ledger_path), "maintenance", "--json", "--max-age-days", "90")
    result = json.loads(out.stdout)
    assert result["archived"] == 0 and result["bytes_after"] > 0
    quota = run_cli("--ledger", str(ledger_path), "maintenance", "--enforce-quota",
                    "--max-storage-mb", "100", "--json")
    assert quota.returncode == 0 and json.loads(quota.stdout)["under_budget"] is True


def test_export_with_filters_and_dates(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    out = workdir / "x.csv"
    day = OLD.date().isoformat()
    done = run_cli("--ledger", str(ledger_path), "export", str(out), "--format", "csv",
                   "--start-date", day, "--end-date", day, "--include-states")
    assert done.returncode == 0, done.stderr
    assert "Exported 3 entries" in done.stdout
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["session_id"] for r in rows} == {"old"} and rows[0]["after_state"] == "3\n"
    jl = workdir / "x.jsonl"
    run_cli("--ledger", str(ledger_path), "export", str(jl), "--format", "jsonl",
            "--type", "system_command", "--agent", "new-agent")
    got = [json.loads(line) for line in jl.read_text().splitlines()]
    assert [g["change_type"] for g in got] == ["system_command"]
    run_cli("--ledger", str(ledger_path), "export", str(jl), "--format", "jsonl",
            "--session", "new", "--start-date", "1d")
    assert len(jl.read_text().splitlines()) == 2


def test_bad_input_is_one_line_and_exit_2(ledger_path: Path, workdir: Path) -> None:
    make(ledger_path, workdir)
    for args in (
        ["export", str(workdir / "y.json"), "--start-date", "someday"],
        ["export", str(workdir / "y.json"), "--session", "../x"],
    ):
        proc = run_cli("--ledger", str(ledger_path), *args)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (workdir / "y.json").exists()
    missing = run_cli("--ledger", str(ledger_path), "archive", "restore", "nope.bundle")
    assert missing.returncode == 1 and "no archive" in missing.stderr  # nothing there
    none = run_cli("--ledger", str(workdir / "none.git"), "maintenance")
    assert none.returncode == 1 and "no ledger" in none.stderr  # not found


def test_progress_shows_on_a_terminal_only(ledger_path: Path, workdir: Path) -> None:
    import shlex
    import shutil
    import subprocess
    import sys

    make(ledger_path, workdir)
    piped = run_cli("--ledger", str(ledger_path), "maintenance")
    assert "\x1b[K" not in piped.stdout + piped.stderr
    script = shutil.which("script")
    if script is None:
        import pytest

        pytest.skip("no 'script' to give the command a terminal")
    command = shlex.join([sys.executable, "-m", "ledger", "--ledger", str(ledger_path),
                          "maintenance"])
    proc = subprocess.run([script, "-qec", command, "/dev/null"], capture_output=True,
                          text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "packing: 1/1" in proc.stdout and "\x1b[K" in proc.stdout
    assert "Packed" in proc.stdout
