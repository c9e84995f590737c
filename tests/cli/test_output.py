"""What a user sees: '-' for files, JSON arrays, one id length, git's dates, the pager,
tables fitted to the terminal, coloured error rows, plurals, percentages, completion."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, LogLevel
from ledger._words import percent, plural
from ledger.dates import parse_date
from tests.conftest import ROOT, git, run_cli

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
LONG = "Refactor the payment reconciliation worker so retries back off " * 3


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("out")
    path = root / "ledger.git"
    a = ChangeLogger(path, agent_id="alpha", session_id="s-one", workdir=root, durable=False)
    a.log_file_change("api/main.py", ChangeType.FILE_CREATE, None, "one\n",
                      timestamp=NOW - dt.timedelta(days=10))
    a.log(ChangeType.AGENT_DECISION, LONG, timestamp=NOW - dt.timedelta(hours=3))
    a.log_command("make test", "boom", 2, timestamp=NOW - dt.timedelta(hours=2))
    a.log(ChangeType.DEPLOYMENT, "Deployed v3", {"environment": "prod", "region": "eu"},
          level=LogLevel.CRITICAL, timestamp=NOW - dt.timedelta(hours=1))
    return path


def cli(ledger: Path, *args: str, **kw):
    return run_cli("--ledger", str(ledger), *args, **kw)


def test_export_dash_pipes_into_jq_and_formats_follow_the_extension(ledger: Path,
                                                                    tmp_path: Path):
    proc = cli(ledger, "export", "-")
    assert proc.returncode == 0, proc.stderr
    assert not Path("-").exists()
    rows = json.loads(proc.stdout)
    assert [r["description"] for r in rows][0] == "Deployed v3" and len(rows) == 4
    jq = shutil.which("jq")
    if jq is not None:  # the real pipe a user types
        piped = subprocess.run(f"{sys.executable} -m ledger --ledger {ledger} export - "
                               f"| {jq} -r '.[0].id'", shell=True, capture_output=True,
                               text=True, check=True, env=os.environ)
        assert piped.stdout.strip() == rows[0]["id"]
    lines = cli(ledger, "export", "-", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(x)["id"] for x in lines] == [r["id"] for r in rows]
    out = tmp_path / "week.csv"
    assert cli(ledger, "export", str(out)).returncode == 0
    assert next(csv.reader(io.StringIO(out.read_text())))[0] == "id"  # CSV, not JSON
    jl = tmp_path / "errors.jsonl"
    done = cli(ledger, "export", str(jl), "--level", "critical")
    assert done.stdout.startswith("Exported 1 entry to")  # not "1 entries"
    assert json.loads(jl.read_text())["description"] == "Deployed v3"


def test_import_dash_reads_standard_input(ledger: Path, tmp_path: Path):
    exported = cli(ledger, "export", "-").stdout
    other = tmp_path / "other.git"
    proc = run_cli("--ledger", str(other), "import", "-", input=exported)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Imported 4 entries into 1 session;")
    assert git(other, "rev-list", "--count", "--all").strip() != "0"


def test_empty_json_is_an_empty_array_and_ids_are_12_long(ledger: Path, tmp_path: Path):
    for args in (["recent", "--hours", "0.0001"], ["search", "--text", "nothing-like-it"],
                 ["archive", "list"]):
        proc = cli(ledger, *args, "--json")
        assert proc.returncode == 1 and json.loads(proc.stdout) == [], args
    table = cli(ledger, "recent", "--hours", "4").stdout.splitlines()
    ids = [row.split()[2] for row in table[1:]]
    assert ids and all(len(i) == 12 for i in ids)
    full = cli(ledger, "recent", "--hours", "4", "--full").stdout.splitlines()
    assert all(len(row.split()[2]) == 40 for row in full[1:])
    logged = run_cli("--ledger", str(tmp_path / "l.git"), "log", "--type", "deployment",
                     "-m", "x")
    assert len(logged.stdout.strip()) == 12
    as_json = run_cli("--ledger", str(tmp_path / "l.git"), "log", "--type", "deployment",
                      "-m", "y", "--json")
    assert len(json.loads(as_json.stdout)["id"]) == 40


def test_since_and_until_read_gits_date_forms(ledger: Path):
    now = dt.datetime(2025, 11, 20, 12, tzinfo=dt.UTC)
    assert parse_date("2 weeks ago", now=now) == now - dt.timedelta(weeks=2)
    assert parse_date("3.days.ago", now=now) == now - dt.timedelta(days=3)
    assert parse_date("an hour ago", now=now) == now - dt.timedelta(hours=1)
    assert parse_date("yesterday", now=now) < parse_date("today", now=now) <= now
    assert parse_date("@1764000000") == dt.datetime.fromtimestamp(1764000000, dt.UTC)
    # git's raw form selects what git itself selects with it
    raw = f"@{int((dt.datetime.now(dt.UTC) - dt.timedelta(weeks=1)).timestamp())}"
    ours = {r["id"] for r in json.loads(cli(ledger, "search", "--since", raw, "--json",
                                            "--full").stdout)}
    theirs = set(git(ledger, "log", "--all", f"--since={raw}", "--format=%H").split())
    assert ours and ours <= theirs
    week = cli(ledger, "search", "--since", "1 week ago", "--json")
    assert len(json.loads(week.stdout)) == 3
    old = cli(ledger, "search", "--until", "1 week ago", "--json")
    assert [r["description"] for r in json.loads(old.stdout)] == ["Created api/main.py"] or \
        len(json.loads(old.stdout)) == 1
    alias = cli(ledger, "search", "--start-date", "7d", "--json")  # the old name still works
    assert json.loads(alias.stdout) == json.loads(week.stdout)
    recent = cli(ledger, "recent", "--since", "150 minutes ago", "--json")
    assert [r["description"] for r in json.loads(recent.stdout)] == [
        "Deployed v3", "Executed: make test"]
    patterns = cli(ledger, "patterns", "--since", "2 weeks ago", "--until", "now")
    assert patterns.returncode == 0 and "ERROR RATE" in patterns.stdout
    assert "50.0%" in patterns.stdout  # 2 of alpha's 4 entries are errors, as a percentage
    audit = cli(ledger, "audit", "--since", "2 weeks ago", "--json", "--no-fsck")
    assert json.loads(audit.stdout)["summary"]["total_entries"] == 4


def _on_terminal(args: list[str], env: dict[str, str], columns: int = 120) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; return what it showed."""
    main, sub = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    full_env = {**os.environ, "COLUMNS": str(columns), **env}
    proc = subprocess.Popen([sys.executable, "-m", "ledger", *args], stdin=subprocess.DEVNULL,
                            stdout=sub, stderr=sub, env=full_env, cwd=ROOT)
    os.close(sub)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_tables_fit_the_terminal_and_stay_whole_when_piped(ledger: Path):
    shown = _on_terminal(["--ledger", str(ledger), "recent", "--hours", "4"],
                         {"GIT_LEDGER_PAGER": "", "NO_COLOR": "1"}, columns=100)
    lines = [x for x in shown.replace("\r", "").splitlines() if x.strip()]
    assert len(lines) == 4 and all(len(x) <= 100 for x in lines), lines
    assert "…" in shown and "Indexing" not in shown.split("TIME")[-1]
    piped = cli(ledger, "recent", "--hours", "4").stdout
    assert LONG.strip() in piped  # whole when piped


def test_error_rows_are_coloured_on_a_terminal_only(ledger: Path):
    env = {"GIT_LEDGER_PAGER": "", "NO_COLOR": ""}
    shown = _on_terminal(["--ledger", str(ledger), "recent", "--hours", "4"], env, 200)
    critical = next(x for x in shown.splitlines() if "Deployed v3" in x)
    failed = next(x for x in shown.splitlines() if "make test" in x)
    assert "\x1b[35m" in critical and "\x1b[31m" in failed
    assert "\x1b[" not in cli(ledger, "recent", "--hours", "4").stdout


def test_long_output_on_a_terminal_goes_through_the_pager(ledger: Path, tmp_path: Path):
    seen = tmp_path / "paged.txt"
    pager = f"{shutil.which('tee') or 'tee'} {seen}"
    _on_terminal(["--ledger", str(ledger), "recent", "--hours", "4"],
                 {"GIT_LEDGER_PAGER": pager, "NO_COLOR": "1"})
    assert "Executed: make test" in seen.read_text()
    seen.unlink()
    _on_terminal(["--ledger", str(ledger), "--no-pager", "recent", "--hours", "4"],
                 {"GIT_LEDGER_PAGER": pager, "NO_COLOR": "1"})
    assert not seen.exists()
    _on_terminal(["--ledger", str(ledger), "recent", "--hours", "4"],
                 {"GIT_LEDGER_PAGER": "", "PAGER": pager, "NO_COLOR": "1"})
    assert not seen.exists()  # an empty GIT_LEDGER_PAGER wins over PAGER
    # Piped output is never paged.
    cli(ledger, "recent", "--hours", "4", env={"GIT_LEDGER_PAGER": pager})
    assert not seen.exists()


def test_show_prints_metadata_one_key_a_line(ledger: Path):
    entry = json.loads(cli(ledger, "search", "--type", "deployment", "--json").stdout)[0]
    shown = cli(ledger, "show", entry["id"][:12]).stdout
    assert '    "environment": "prod",' in shown and '    "region": "eu"' in shown


def test_session_verbose_shows_diffs(ledger: Path):
    shown = cli(ledger, "session", "s-one", "--verbose").stdout
    assert "+one" in shown and "Deployed v3" in shown
    head = cli(ledger, "session", "s-one").stdout.splitlines()[0]
    assert head == "Session s-one (4 entries, agent alpha)"


def test_plurals_and_percentages():
    assert plural(1, "entry") == "1 entry" and plural(2, "entry") == "2 entries"
    assert plural(1, "event") == "1 event" and plural(0, "checkpoint") == "0 checkpoints"
    assert percent(0.1111) == "11.1%"


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o"), ("zsh", "compdef"),
                                           ("fish", "complete --no-files")])
def test_completion_scripts(shell: str, marker: str):
    proc = run_cli("completion", shell)
    assert proc.returncode == 0 and marker in proc.stdout
    assert "_GIT_LEDGER_COMPLETE" in proc.stdout and "git-ledger" in proc.stdout
    if shell == "bash" and shutil.which("bash"):
        check = subprocess.run(["bash", "-n"], input=proc.stdout, text=True,
                               capture_output=True, check=False)
        assert check.returncode == 0, check.stderr
    # The script's own request gives real completions.
    env = {"_GIT_LEDGER_COMPLETE": f"{shell}_complete", "COMP_WORDS": "git-ledger expo",
           "COMP_CWORD": "1"}
    if shell == "bash":
        asked = run_cli(env=env)
        assert "export" in asked.stdout


def test_readme_says_how_to_get_completion():
    assert "git-ledger completion bash" in (ROOT / "README.md").read_text()
