"""Finding a work repository's folders (git dir, common dir, hooks) the way git itself does.

Hooks are installed where git runs them: ``core.hooksPath`` is honoured, and every worktree
of a repository shares the common dir's hooks.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ledger._git import run_git
from ledger._layout import SPOOL_DIR
from ledger.capture.spool import FAILURE_LOG
from ledger.errors import NotARepositoryError


@dataclasses.dataclass(frozen=True)
class RepoPaths:
    """Where a repository keeps its things, as git itself reports them."""

    work_tree: Path | None
    git_dir: Path
    common_dir: Path
    hooks_dir: Path

    @property
    def name(self) -> str:
        """The repository's name: its work tree folder, or the bare folder without .git."""
        if self.work_tree is not None:
            return self.work_tree.name
        base = self.common_dir.name
        return base[:-4] if base.endswith(".git") and len(base) > 4 else base

    @property
    def spool(self) -> Path:
        """The repository's own spool, used when the ledger refuses an event."""
        return self.common_dir / SPOOL_DIR

    @property
    def failure_log(self) -> Path:
        return self.common_dir / FAILURE_LOG


def _git(cwd: Path, *args: str) -> str:
    proc = run_git(None, *args, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise NotARepositoryError(
            f"{cwd} is not a git repository ({proc.stderr.strip() or 'git failed'})"
        )
    return proc.stdout


def find_repo(repo: str | os.PathLike[str] | None = None) -> RepoPaths:
    """Locate a repository (default: the one around the current folder) with the git CLI.

    ``core.hooksPath`` is honoured, and every worktree of a repository shares its hooks.
    """
    start = Path(os.path.abspath(os.fspath(repo) if repo is not None else os.getcwd()))
    if not start.is_dir():
        raise NotARepositoryError(f"{start} is not a folder")
    lines = _git(
        start, "rev-parse", "--is-bare-repository", "--absolute-git-dir", "--git-common-dir"
    ).splitlines()
    bare = lines[0] == "true"
    git_dir = Path(lines[1])
    common = Path(lines[2])
    if not common.is_absolute():
        common = (start / common).resolve()
    work_tree: Path | None = None
    if not bare:
        top = _git(start, "rev-parse", "--show-toplevel").strip()
        work_tree = Path(top) if top else None
    # Hooks run in the work tree's top folder (the git dir when bare): resolve from there.
    base = work_tree or git_dir
    hooks = Path(_git(base, "rev-parse", "--git-path", "hooks").strip())
    if not hooks.is_absolute():
        hooks = base / hooks
    hooks = Path(os.path.normpath(hooks))
    # A worktree's own git dir has no hooks of its own: git runs the common ones.
    return RepoPaths(work_tree, git_dir, common, hooks)
