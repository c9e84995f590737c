"""The command line as a user meets it: help, documentation, and one-line errors."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ledger import ChangeLogger
from ledger.cli.main import load_commands, main
from ledger.errors import InvalidInputError
from ledger.metrics import LogMetrics
from tests.conftest import fsck_clean, git, run_cli

load_commands()  # commands register when first used; these tests walk them all

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _fenced_blocks_balanced(text: str) -> bool:
    fences = [line for line in text.splitlines() if line.startswith("```")]
    # An opening fence carries a language or is bare; closing fences are bare. Walk them.
    inside = False
    for fence in fences:
        if inside:
            if fence.strip() != "```":
                return False  # an opening fence where a closing one was due
            inside = False
        else:
            inside = True
    return not inside


@pytest.mark.parametrize("doc", [*sorted(p.name for p in DOCS.glob("*.md")), "../README.md"])
def test_every_code_block_in_the_docs_is_closed(doc: str) -> None:
    text = (DOCS / doc).read_text()
    assert _fenced_blocks_balanced(text), f"{doc} has a code block that is never closed"


def test_health_refuses_a_window_that_is_not_positive(ledger_path: Path) -> None:
    ChangeLogger(ledger_dir=ledger_path, agent_id="a").log("deployment", "Deployed")
    with pytest.raises(InvalidInputError, match="window_hours"):
        LogMetrics(ledger_path).get_health_status(window_hours=-5)
    proc = run_cli("--ledger", str(ledger_path), "metrics", "health", "--window-hours", "0")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "git-ledger: error: window_hours must be positive"
    assert "CRITICAL" not in proc.stdout  # bad input is not a verdict on the ledger
    fsck_clean(ledger_path)


def test_log_and_run_record_into_the_session_from_the_environment(ledger_path: Path) -> None:
    env = {"GIT_LEDGER_SESSION": "script-1", "GIT_LEDGER_AGENT": "deploy-script"}
    logged = run_cli("--ledger", str(ledger_path), "log", "--type", "deployment",
                     "-m", "Deployed v1.4", "--meta", "env=prod", env=env)
    assert logged.returncode == 0, logged.stderr
    ran = run_cli("--ledger", str(ledger_path), "run", "--", "sh", "-c", "echo out; exit 4",
                  env=env)
    assert ran.returncode == 4 and ran.stdout == "out\n"
    subjects = git(ledger_path, "log", "--format=%s%x09%an", "sessions/script-1").splitlines()
    assert subjects == [
        "system_command: Executed: sh -c 'echo out; exit 4'\tdeploy-script",
        "deployment: Deployed v1.4\tdeploy-script",
    ]
    assert git(ledger_path, "rev-parse", "sessions/script-1~1").strip()[:12] == (
        logged.stdout.strip()
    )
    fsck_clean(ledger_path)


def test_docs_cli_names_every_top_level_command() -> None:
    text = (DOCS / "cli.md").read_text()
    headings = set(re.findall(r"^### git ledger (\S+)", text, re.M))
    assert set(main.commands) <= headings


def test_tables_end_without_trailing_blanks(ledger_path: Path, workdir: Path) -> None:
    (workdir / "notes.txt").write_text("one\n")
    logger = ChangeLogger(ledger_dir=ledger_path, agent_id="a", session_id="s1")
    with logger.track_file(str(workdir / "notes.txt")):
        (workdir / "notes.txt").write_text("two\n")
    proc = run_cli("--ledger", str(ledger_path), "revert", "s1", "--dry-run",
                   "--workdir", str(workdir), cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("ACTION", "write"))]
    assert len(rows) == 2  # the header (NOTE) and the row, whose NOTE is empty
    assert all(row == row.rstrip() for row in rows)


# -- every command: help with an example ---------------------------------------------------------
def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
    return paths


COMMANDS = [(), *_command_paths(main)]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "git-ledger")
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    proc = run_cli(*path, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Example" in proc.stdout, proc.stdout
    assert proc.stderr == ""


def test_the_command_list_is_not_empty() -> None:
    assert {"log", "run", "demo", "verify", "restore"} <= {p[0] for p in COMMANDS if p}


# -- bad input: one line on stderr, no traceback, a non-zero exit, nothing written ---------------
@pytest.fixture
def small_ledger(ledger_path: Path) -> Path:
    ChangeLogger(ledger_dir=ledger_path, agent_id="a", session_id="s1").log("deployment", "x")
    return ledger_path


BAD_INPUT = [
    # (arguments after --ledger L, expected exit code, words the message must hold)
    (["restore", "zzzz"], 2, "not an entry id"),
    (["show", "zzz"], 2, "not an entry id"),
    (["session", "nope"], 1, "no session nope"),
    (["audit"], 2, "START or --since"),
    (["search", "--since", "in a fortnight"], 2, "invalid date"),
    (["restore", "abcdef1"], 1, "no entry"),
    (["revert", "no-such-session"], 1, "no session"),
    (["revert", "bad session"], 2, "invalid session id"),
    (["log", "--type", "deployment", "-m", "x", "--session", "bad id"], 2, "invalid session id"),
    (["log", "--type", "nope", "-m", "x"], 2, "'--type'"),
    (["log", "--type", "deployment", "-m", "x", "--meta", "novalue"], 2, "KEY=VALUE"),
    (["export", "out.json", "--start-date", "notadate"], 2, "invalid date"),
    (["export", "out.json", "--start-date", "2025-13-45"], 2, "invalid date"),
    (["export", "out.json", "--format", "xml"], 2, "'--format'"),
    (["verify", "--since-checkpoint", "zzz"], 2, "names no single checkpoint"),
    (["metrics", "health", "--window-hours", "-1"], 2, "window_hours"),
    (["maintenance", "--max-age-days", "-1"], 2, "max_log_age_days"),
    (["no-such-command"], 2, "No such command"),
    (["run"], 2, "Missing argument"),
    (["hooks", "status", "--repo", "."], 2, "not a git repository"),
]


@pytest.mark.parametrize(("args", "code", "words"), BAD_INPUT, ids=lambda v: str(v))
def test_bad_input_is_one_line_on_stderr(
    small_ledger: Path, tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    before = git(small_ledger, "for-each-ref", "--format=%(objectname) %(refname)")
    proc = run_cli("--ledger", str(small_ledger), *args, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("git-ledger: error: "), proc.stderr
    assert words in lines[0]
    assert git(small_ledger, "for-each-ref", "--format=%(objectname) %(refname)") == before
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    "args",
    [["verify"], ["checkpoint"], ["export", "out.json"], ["maintenance"], ["restore", "abcdef1"],
     ["revert", "s1"], ["metrics", "health"]],
    ids=lambda v: " ".join(v),
)
def test_a_missing_ledger_is_one_line_and_is_not_created(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "nowhere.git"
    proc = run_cli("--ledger", str(missing), *args, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"git-ledger: error: no ledger at {missing} (it is created by the first write)\n"
    )
    assert not missing.exists()


# -- colour: only on a terminal, never with NO_COLOR ---------------------------------------------
def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout on a pseudo-terminal; return what it printed there."""
    main_fd, child_fd = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "ledger", *args], stdout=child_fd,
                              stderr=subprocess.PIPE, env=env, check=False, timeout=120)
        os.close(child_fd)
        chunks = []
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main_fd)
    assert proc.returncode == 0, proc.stderr
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(small_ledger: Path) -> None:
    args = ["--ledger", str(small_ledger), "verify"]
    plain_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[" in _on_a_terminal(args, plain_env)
    assert "\x1b[" not in _on_a_terminal(args, {**plain_env, "NO_COLOR": "1"})
    # An empty NO_COLOR does not count (no-color.org); a pipe still gets no colour.
    assert "\x1b[" in _on_a_terminal(args, {**plain_env, "NO_COLOR": ""})
    piped = subprocess.run([sys.executable, "-m", "ledger", *args], capture_output=True,
                           text=True, env=plain_env, check=False)
    assert piped.returncode == 0 and "verify: clean" in piped.stdout
    assert "\x1b[" not in piped.stdout


def test_the_command_map_names_what_each_module_registers() -> None:
    """``COMMANDS`` (which module to import for a command) matches what the modules
    register, so no command is missing from help or runs from the wrong module."""
    import importlib

    from ledger.cli.main import COMMANDS

    found: dict[str, str] = {}
    for module in sorted(set(COMMANDS.values())):
        group = click.Group()
        importlib.import_module(f"ledger.cli.{module}").register(group)
        found.update(dict.fromkeys(group.commands, module))
    assert found == COMMANDS
    listed = run_cli("--help").stdout
    assert all(f"  {name} " in listed for name in COMMANDS)


def test_one_command_imports_only_its_own_module() -> None:
    code = ("import sys; from ledger.cli.main import main\n"
            "try:\n    main(['stats', '-h'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('ledger.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(out.splitlines()[-1].strip("[]").replace("'", "").split(", "))
    assert "ledger.cli.reports" in loaded
    assert not loaded & {"ledger.cli.agents", "ledger.cli.hooks", "ledger.cli.sync"}
