"""The HTML audit page at 10,000 entries: under its size budget, diffs folded, a timeline of
what matters (each failure once), the integrity section from verify, rendered in Chromium."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType, LogLevel
from ledger.reports.html_budget import MAX_ROWS, PAGE_BUDGET_BYTES
from tests.conftest import run_cli

ENTRIES = 10_000
SESSIONS = 20


def _fill(ledger: Path, work: Path) -> None:
    """10,000 entries of every kind in 20 sessions over the last 20 days, batch-written."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    per = ENTRIES // SESSIONS
    for s in range(SESSIONS):
        logger = ChangeLogger(ledger, agent_id=f"agent-{s % 4}", session_id=f"s-{s:02d}",
                              workdir=work, durable=False)
        with logger.batch():
            for i in range(per):
                ts = start + dt.timedelta(days=s, seconds=30 * i)
                kind = i % 10
                if kind < 3:
                    path = f"src/mod{(s * 7 + i) % 300}.py"
                    logger.log_file_change(path, ChangeType.FILE_UPDATE, f"v = {i}\n",
                                           f"v = {i + 1}\n# {'x' * 40}\n", timestamp=ts)
                elif kind < 6:
                    code = 1 if i % 50 == 3 else 0
                    logger.log_command(f"pytest -k case{i % 30}", "ok" if not code else "FAIL",
                                       code, timestamp=ts)
                elif kind < 8:
                    status = 500 if i % 40 == 6 else 200
                    logger.log_api_call("/api/orders", "POST", {"n": i}, {}, status,
                                        timestamp=ts)
                elif kind == 8:
                    level = LogLevel.CRITICAL if i % 100 == 8 else LogLevel.INFO
                    logger.log(ChangeType.DEPLOYMENT, f"Deployed build {s}.{i}",
                               {"environment": "prod"}, level=level, timestamp=ts)
                else:
                    logger.log(ChangeType.CONFIG_CHANGE, f"Set limit {i}", {"key": "limit"},
                               timestamp=ts)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("big")
    ledger, work = root / "ledger.git", root / "work"
    work.mkdir()
    _fill(ledger, work)
    page = root / "audit.html"
    proc = run_cli("--ledger", str(ledger), "audit", "--since", "30 days ago", "-o", str(page))
    assert proc.returncode == 0, proc.stderr
    assert f"{ENTRIES} entries" in proc.stdout
    return ledger, page


def test_page_stays_under_its_budget_with_first_rows_then_counts(big: tuple[Path, Path]):
    _, page = big
    text = page.read_text(encoding="utf-8")
    assert len(text.encode()) < PAGE_BUDGET_BYTES, len(text.encode())
    assert "<details open" not in text  # every diff and entry is folded
    assert text.count("<details>") > 10
    # 3,000 commands: the first MAX_ROWS are listed, then a count of the rest.
    commands = re.search(r'id="commands">(.*?)</section>', text, re.S)
    assert commands is not None
    assert commands.group(1).count("<code>pytest -k") == MAX_ROWS
    assert "… and 2,900 more commands" in commands.group(1)


def test_timeline_lists_each_failure_once_and_no_session_rows(big: tuple[Path, Path]):
    _, page = big
    text = page.read_text(encoding="utf-8")
    timeline = re.search(r'id="timeline">(.*?)</section>', text, re.S)
    assert timeline is not None
    body = timeline.group(1)
    assert "session start" not in body and "session last entry" not in body
    # A failed command is an error entry too; it is one row, not two.
    rows = re.findall(r"<tr>(.*?)</tr>", body)
    failed = [r for r in rows if "failed command" in r]
    assert failed and not [r for r in rows if ">error<" in r and "pytest" in r]
    keys = [re.sub(r"<[^>]+>", "|", r) for r in rows]
    assert len(keys) == len(set(keys))
    # A critical deployment is one "critical" row, not also a "deployment" row.
    critical = {re.search(r"Deployed build [\d.]+", r).group(0)  # type: ignore[union-attr]
                for r in rows if ">critical<" in r}
    assert critical
    assert not [r for r in rows if ">deployment<" in r
                and re.search(r"Deployed build [\d.]+", r).group(0) in critical]  # type: ignore[union-attr]


def test_integrity_comes_from_verify_not_raw_fsck(big: tuple[Path, Path]):
    ledger, page = big
    text = page.read_text(encoding="utf-8")
    integrity = re.search(r'id="integrity">(.*?)</section>', text, re.S)
    assert integrity is not None
    body = integrity.group(1)
    assert "git ledger verify found the ledger clean" in body
    assert "Checkpoints" in body and "Cannot vouch for" in body
    assert "notice:" not in body and "unborn" not in body
    # A checkpoint shows up, and tampering is reported as a problem.
    assert run_cli("--ledger", str(ledger), "checkpoint").returncode == 0
    subprocess.run(["git", "--git-dir", str(ledger), "update-ref", "refs/heads/sessions/s-03",
                    "refs/heads/sessions/s-03~5"], check=True)
    again = page.with_name("tampered.html")
    proc = run_cli("--ledger", str(ledger), "audit", "--since", "30d", "-o", str(again))
    assert proc.returncode == 0, proc.stderr
    tampered = again.read_text(encoding="utf-8")
    assert "git ledger verify FAILED" in tampered and "s-03" in tampered


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_big_page_renders_in_headless_chromium(big: tuple[Path, Path], tmp_path: Path):
    browser = _browser()
    if browser is None:
        pytest.skip("no headless Chromium installed (Debian package 'chromium')")
    _, page = big
    shot = tmp_path / "audit.png"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--disable-background-networking", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--window-size=1280,2400",
             f"--screenshot={shot}", page.as_uri()],
            capture_output=True, text=True, timeout=180, check=False,
        )
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_undo_is_on_the_timeline_and_markdown_reads_as_words(tmp_path: Path):
    ledger, work = tmp_path / "ledger.git", tmp_path / "work"
    work.mkdir()
    logger = ChangeLogger(ledger, agent_id="a", session_id="edit", workdir=work)
    (work / "app.py").write_text("one\n")
    created = logger.log_file_change("app.py", ChangeType.FILE_CREATE, None, "one\n")
    (work / "app.py").write_text("two\n")
    logger.log_file_change("app.py", ChangeType.FILE_UPDATE, "one\n", "two\n")
    undo = run_cli("--ledger", str(ledger), "restore", created.id[:12], "--after",
                   "--workdir", str(work))
    assert undo.returncode == 0, undo.stderr
    assert (work / "app.py").read_text() == "one\n"
    page = tmp_path / "a.html"
    assert run_cli("--ledger", str(ledger), "audit", "--since", "1h", "-o", str(page),
                   "--no-fsck").returncode == 0
    timeline = re.search(r'id="timeline">(.*?)</section>', page.read_text(), re.S)
    assert timeline is not None and ">restore<" in timeline.group(1)
    md = run_cli("--ledger", str(ledger), "audit", "--since", "1h", "-o", "-",
                 "--format", "markdown", "--no-fsck").stdout
    assert "| Entries | 3 |" in md and "total_entries" not in md
    by_name = tmp_path / "week.md"  # the format follows the extension
    assert run_cli("--ledger", str(ledger), "audit", "--since", "1h", "-o", str(by_name),
                   "--no-fsck").returncode == 0
    assert by_name.read_text().startswith("# Audit report")
