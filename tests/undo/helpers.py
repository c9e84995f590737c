"""Helpers for the undo tests: a full snapshot of a workspace, and a sample agent session."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger import ChangeLogger

Snapshot = dict[str, tuple[str, int, bytes]]

BINARY = bytes(range(256)) * 4 + b"\x00\xff\xfe"


@pytest.fixture(autouse=True)
def fixed_umask() -> Iterator[None]:
    """New files get 0644/0755 as a person's shell would give them."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def make_logger(ledger_path: Path, work: Path, session: str = "agent-run") -> ChangeLogger:
    """The agent's logger in the undo tests (not durable: these tests are about undo)."""
    return ChangeLogger(
        ledger_dir=ledger_path, agent_id="coder", session_id=session, workdir=work, durable=False
    )


def snapshot(root: Path) -> Snapshot:
    """Every folder, file and symlink under root: kind, permission bits, content/target."""
    out: Snapshot = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.fsencode(os.readlink(path)))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), b"")
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), path.read_bytes())
    return out


def seed_workspace(work: Path) -> None:
    """The workspace as it was before the agent came."""
    (work / "src").mkdir()
    (work / "src" / "app.py").write_text("print('v1')\n")
    (work / "notes with spaces.txt").write_text("first draft\n")
    (work / "données.bin").write_bytes(BINARY)
    (work / "run.sh").write_text("#!/bin/sh\necho run\n")
    os.chmod(work / "run.sh", 0o755)
    (work / "tool.py").write_text("print('tool')\n")
    (work / "README").write_text("readme\n")
    os.symlink("README", work / "docs-link")


def agent_session(logger: ChangeLogger, work: Path) -> dict[str, Any]:
    """An agent that creates, edits, deletes, chmods and relinks files in the workspace."""
    made: dict[str, Any] = {}
    with logger.track_file("src/app.py", "Rewrite the app") as t:
        (work / "src" / "app.py").write_text("print('v2')\nprint('more')\n")
    made["edit"] = t.entry
    with logger.track_file("src/app.py", "Rewrite it again") as t:
        (work / "src" / "app.py").write_text("print('v3')\n")
    with logger.track_file("new folder/café menu.txt", "Create a file in a new folder") as t:
        (work / "new folder").mkdir()
        (work / "new folder" / "café menu.txt").write_text("espresso\n")
    made["create"] = t.entry
    with logger.track_file("notes with spaces.txt", "Delete the notes") as t:
        (work / "notes with spaces.txt").unlink()
    made["delete"] = t.entry
    with logger.track_file("données.bin", "Patch the binary") as t:
        (work / "données.bin").write_bytes(BINARY[::-1] + b"\x00tail")
    made["binary"] = t.entry
    with logger.track_file("run.sh", "Remove the script") as t:
        (work / "run.sh").unlink()
    with logger.track_file("tool.py", "Make the tool executable") as t:
        os.chmod(work / "tool.py", 0o755)
    made["chmod"] = t.entry
    with logger.track_file("docs-link", "Point the link elsewhere") as t:
        os.unlink(work / "docs-link")
        os.symlink("src/app.py", work / "docs-link")
    made["relink"] = t.entry
    logger.log_command("make test", "ok", 0)
    return made
