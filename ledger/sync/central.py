"""A central ledger: a bare repository that many machines push to and pull from.

It refuses rewrites and deletions, in git's settings and with the pre-receive guard.
"""

from __future__ import annotations

import os
from pathlib import Path

import pygit2

from ledger._fs import atomic_write
from ledger._resources import hooks_folder
from ledger.errors import LedgerLocationError, SyncError
from ledger.location import LEDGER_CONFIG, ensure_ledger, is_ledger
from ledger.sync.remotes import config_value

GUARD_MARK = "git-ledger pre-receive guard"
GUARD_CHAINED = "pre-receive.before-ledger"
# What a central ledger needs on top of a ledger's own settings: refuse rewrites and
# deletions even where the guard hook does not run, and check every object received.
CENTRAL_CONFIG = {
    "receive.denyNonFastForwards": "true",
    "receive.denyDeletes": "true",
    "receive.fsckObjects": "true",
}


def guard_script() -> str:
    """The text of the pre-receive guard shipped in ``hooks/pre-receive``."""
    folder = hooks_folder("pre-receive")
    if folder is not None:
        return (folder / "pre-receive").read_text(encoding="utf-8")
    raise SyncError("the pre-receive guard is missing from this installation of git-ledger")


def _hooks_dir(repo: pygit2.Repository) -> Path:
    base = Path(repo.path)
    configured = config_value(repo, "core.hooksPath")
    if configured:
        path = Path(os.path.expanduser(configured))
        return path if path.is_absolute() else (Path(repo.workdir) if repo.workdir else base) / path
    return base / "hooks"


def install_guard(repo_path: str | os.PathLike[str]) -> Path:
    """Install the pre-receive guard in a (central) repository; return the hook's path.

    A pre-receive hook already there that is not ours is moved to
    ``pre-receive.before-ledger`` and still runs after the guard accepts a push.
    Re-installing replaces an older guard.
    """
    try:
        repo = pygit2.Repository(os.fspath(repo_path))
    except pygit2.GitError as exc:
        raise LedgerLocationError(f"{repo_path} is not a git repository") from exc
    hooks = _hooks_dir(repo)
    text = guard_script()
    target = hooks / "pre-receive"
    try:
        hooks.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            current = target.read_text(encoding="utf-8", errors="replace")
            if GUARD_MARK not in current:
                aside = hooks / GUARD_CHAINED
                if aside.exists():
                    raise SyncError(
                        f"both {target} and {aside} exist; move one away and install again"
                    )
                os.rename(target, aside)
        atomic_write(target, text.encode("utf-8"), mode=0o755)
    except OSError as exc:
        raise SyncError(f"cannot install the guard in {hooks}: {exc}") from exc
    return target


def init_central(path: str | os.PathLike[str]) -> Path:
    """Create (or convert) a bare repository at ``path`` to be a central ledger.

    It gets the ledger's settings, refuses non-fast-forwards and deletions in git itself
    (``receive.denyNonFastForwards``, ``receive.denyDeletes``), checks every object it
    receives, and has the pre-receive guard installed. Idempotent.
    """
    target = Path(os.path.expanduser(os.fspath(path))).absolute()
    if target.exists() and any(target.iterdir()) and not is_ledger(target):
        try:
            repo = pygit2.Repository(str(target))
        except pygit2.GitError as exc:
            raise LedgerLocationError(f"{target} exists and is not a git repository") from exc
        if not repo.is_bare:
            raise LedgerLocationError(f"{target} is not a bare repository")
        for key, value in LEDGER_CONFIG.items():
            repo.config[key] = value
    else:
        ensure_ledger(target)
        repo = pygit2.Repository(str(target))
    for key, value in CENTRAL_CONFIG.items():
        repo.config[key] = value
    install_guard(target)
    return target
