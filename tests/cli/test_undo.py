"""``git ledger restore`` and ``git ledger revert`` as a person runs them, and their docs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import ChangeLogger
from ledger._store import LedgerStore
from tests.conftest import ROOT, fsck_clean, run_cli
from tests.undo.helpers import (
    agent_session,
    fixed_umask,  # noqa: F401  (an autouse fixture)
    seed_workspace,
    snapshot,
)


@pytest.fixture
def session(ledger_path: Path, workdir: Path) -> dict[str, object]:
    seed_workspace(workdir)
    logger = ChangeLogger(
        ledger_dir=ledger_path, agent_id="coder", session_id="agent-run", workdir=workdir,
        durable=False,
    )
    return agent_session(logger, workdir)


def cli(ledger_path: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--ledger", str(ledger_path), *args, cwd=workdir)


def test_revert_dry_run_then_revert(ledger_path: Path, workdir: Path, session: dict) -> None:
    before = snapshot(workdir)

    dry = cli(ledger_path, workdir, "revert", "agent-run", "--dry-run")

    assert dry.returncode == 0, dry.stderr
    assert snapshot(workdir) == before
    assert re.search(r"^ACTION\s+PATH\s+FROM\s+TO\s+NOTE$", dry.stdout, re.M)
    assert re.search(r"^delete\s+new folder/café menu.txt\s", dry.stdout, re.M)
    assert "+print('v1')" in dry.stdout and "Binary files" in dry.stdout

    done = cli(ledger_path, workdir, "revert", "agent-run")

    assert done.returncode == 0, done.stderr
    undo = re.search(r"recorded in session (undo-\S+)", done.stdout)
    assert undo is not None
    assert (workdir / "src" / "app.py").read_text() == "print('v1')\n"
    assert undo.group(1) in LedgerStore(ledger_path).sessions()

    again = cli(ledger_path, workdir, "revert", undo.group(1), "--json")
    assert again.returncode == 0, again.stderr
    rows = [json.loads(line) for line in again.stdout.splitlines()]
    assert len(rows) == 7 and all(r["written"] for r in rows)
    assert (workdir / "src" / "app.py").read_text() == "print('v3')\n"
    fsck_clean(ledger_path)


def test_conflicts_exit_1_and_write_nothing(
    ledger_path: Path, workdir: Path, session: dict
) -> None:
    (workdir / "tool.py").write_text("hand edit\n")
    (workdir / "données.bin").write_bytes(b"also by hand")
    before = snapshot(workdir)

    proc = cli(ledger_path, workdir, "revert", "agent-run")

    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "git-ledger: conflict: données.bin: changed since the ledger last recorded it",
        "git-ledger: conflict: tool.py: changed since the ledger last recorded it",
        "git-ledger: nothing was written; --force overrides",
    ]
    assert snapshot(workdir) == before

    dry = cli(ledger_path, workdir, "revert", "agent-run", "--dry-run")
    assert dry.returncode == 1 and "--force would overwrite them" in dry.stderr

    as_json = cli(ledger_path, workdir, "revert", "agent-run", "--json")
    assert as_json.returncode == 1
    rows = {r["path"]: r for r in map(json.loads, as_json.stdout.splitlines())}
    assert rows["tool.py"]["conflict"] == "changed since the ledger last recorded it"
    assert rows["src/app.py"]["conflict"] is None and not rows["src/app.py"]["written"]
    assert snapshot(workdir) == before

    forced = cli(ledger_path, workdir, "revert", "agent-run", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (workdir / "tool.py").read_text() == "print('tool')\n"


def test_restore_before_after_and_to(
    ledger_path: Path, workdir: Path, session: dict, tmp_path: Path
) -> None:
    edit = session["edit"].id  # type: ignore[attr-defined]

    undo = cli(ledger_path, workdir, "restore", edit[:9])
    assert undo.returncode == 0, undo.stderr
    assert (workdir / "src" / "app.py").read_text() == "print('v1')\n"

    redo = cli(ledger_path, workdir, "restore", edit, "--after")
    assert redo.returncode == 0, redo.stderr
    assert (workdir / "src" / "app.py").read_text() == "print('v2')\nprint('more')\n"

    out = tmp_path / "old"
    export = cli(ledger_path, workdir, "restore", edit, "src/app.py", "--to", str(out))
    assert export.returncode == 0, export.stderr
    assert (out / "src" / "app.py").read_text() == "print('v1')\n"
    assert "wrote 1 file(s)" in export.stdout

    escape = cli(ledger_path, workdir, "restore", edit, "../escape.txt")
    assert escape.returncode == 2 and "'..' component" in escape.stderr
    outside = cli(ledger_path, workdir, "restore", edit, str(tmp_path / "x.txt"))
    assert outside.returncode == 2 and "outside the workspace" in outside.stderr
    assert outside.stderr.count("\n") == 1 and not (tmp_path / "x.txt").exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = run_cli(
        "--ledger", str(ledger_path), "restore", edit, "--workdir", str(workdir), cwd=elsewhere
    )
    assert moved.returncode == 0, moved.stderr
    assert (workdir / "src" / "app.py").read_text() == "print('v1')\n"
    assert list(elsewhere.iterdir()) == []


def test_restore_into_a_named_session(ledger_path: Path, workdir: Path, session: dict) -> None:
    proc = cli(
        ledger_path, workdir, "restore", session["create"].id,  # type: ignore[attr-defined]
        "--session", "cleanup", "--agent", "reviewer",
    )
    assert proc.returncode == 0, proc.stderr
    [entry] = LedgerStore(ledger_path).walk_session("cleanup")
    assert entry.agent_id == "reviewer"
    assert entry.metadata["undo_of"] == session["create"].id  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["restore", "deadbeefcafe"], 1, "no entry with id deadbeefcafe"),
        (["restore", "xyz"], 2, "is not an entry id"),
        (["revert", "no-such-session"], 1, "no session no-such-session"),
        (["revert", "../bad"], 2, "invalid session id"),
        (["restore", "HEAD~0"], 2, "is not an entry id"),
        (["revert", "agent-run", "--since", "0000000"], 1, "no entry with id 0000000"),
    ],
)
def test_mistakes_get_one_line(
    ledger_path: Path, workdir: Path, session: dict, args: list[str], code: int, message: str
) -> None:
    proc = cli(ledger_path, workdir, *args)

    assert proc.returncode == code
    assert len(proc.stderr.splitlines()) == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_restore_of_an_entry_without_a_file(ledger_path: Path, workdir: Path) -> None:
    logger = ChangeLogger(ledger_dir=ledger_path, session_id="s", workdir=workdir)
    entry = logger.log_command("make", "", 0)
    proc = cli(ledger_path, workdir, "restore", entry.id)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"git-ledger: error: entry {entry.short_id} records no file; name the files to restore"
    )


def test_cli_docs_describe_restore_and_revert() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    section = text.split("## Undo", 1)[1].split("\n## ", 1)[0]
    for command in ("restore", "revert"):
        assert f"### git ledger {command}" in section
    for flag in ("--before", "--after", "--to", "--dry-run", "--force", "--workdir", "--since"):
        assert flag in section


def test_the_worked_example_in_docs_runs(tmp_path: Path) -> None:
    """Every ``sh`` block of docs/undo.md, run in order with a ``git ledger`` on PATH."""
    text = (ROOT / "docs" / "undo.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "git-ledger"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ledger "$@"\n')
    shim.chmod(0o755)
    # python is this interpreter's own bin folder first on PATH (a venv's python started
    # through a symlink outside the venv loses the venv's packages).
    path = os.pathsep.join((str(bindir), str(Path(sys.executable).parent), os.environ["PATH"]))
    env = {**os.environ, "PATH": path}
    script = "set -eu\n" + "\n".join(blocks)
    proc = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exit code 1" in proc.stdout  # the conflict the example provokes
    work = tmp_path / "project"
    assert (work / "config.yaml").read_text() == "debug: true\nport: 8080\n"
    assert not (work / "helpers.py").exists()
    fsck_clean(tmp_path / "ledger.git")
