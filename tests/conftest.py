"""Shared fixtures: git isolated from the machine, a ledger path, and git/CLI runners."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_git(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Keep git and the ledger away from the user's config and default ledger."""
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith(("GIT_", "GIT_LEDGER_")) or key == "XDG_DATA_HOME":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Person")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "person@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Person")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "person@example.com")
    monkeypatch.setenv("NO_COLOR", "1")
    pythonpath = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + (os.pathsep + pythonpath if pythonpath else ""))
    yield home


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    """Where a test's ledger lives (created by the first write)."""
    return tmp_path / "ledger.git"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An agent's workspace."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@contextlib.contextmanager
def module_template(factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, Path]]:
    """For a module-scoped fixture that builds one ledger its tests copy (the autouse
    isolation is per test): a new folder as HOME with git kept from the machine's config;
    yields (where the ledger goes, an agent's workspace)."""
    base = factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(base))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        (base / "work").mkdir()
        yield base / "ledger.git", base / "work"


def git(repo: Path, *args: str, check: bool = True, input: str | None = None) -> str:
    """Run the real git CLI against a repository and return stdout."""
    proc = subprocess.run(
        ["git", "--git-dir", str(repo), *args],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
        input=input,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def fsck_clean(repo: Path) -> None:
    """Assert ``git fsck --strict`` finds nothing wrong (dangling objects are allowed).

    On a ledger, fsck runs while holding the maintenance lock, as ``git ledger verify``
    does: a background repack deleting old packs mid-fsck is not corruption.
    """
    pause: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if (repo / "ledger-locks").is_dir():
        from ledger._fs import maintenance_paused

        pause = maintenance_paused(repo)
    with pause:
        proc = subprocess.run(
            ["git", "--git-dir", str(repo), "fsck", "--strict", "--no-dangling"],
            capture_output=True,
            text=True,
            check=False,
        )
    problems = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if line and not line.startswith(("notice:", "Checking", "dangling"))
    ]
    assert proc.returncode == 0 and not problems, proc.stdout + proc.stderr


def run_cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ledger`` as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        capture_output=True,
        text=True,
        input=input,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )
