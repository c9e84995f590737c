"""Git hooks that record commits, pushes and rewrites: installing, removing and inspecting them.

The hooks themselves are small POSIX shell scripts (``ledger.capture.scripts``) that spool an
event and start a detached drainer (``ledger.capture.drain``).
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from ledger._fs import atomic_write
from ledger._layout import SPOOL_DIR
from ledger.capture.repo import RepoPaths, find_repo
from ledger.capture.scripts import (
    HOOK_NAMES,
    PRE_COMMIT_MARK,
    baked_values,
    is_ours,
    python_path_for_hooks,
    read_script,
    render_hook,
)
from ledger.capture.spool import FAILURE_LOG, count_events, read_failures
from ledger.errors import HookInstallError
from ledger.location import ensure_ledger, resolve_ledger_dir

CHAINED_SUFFIX = ".ledger-chained"
PRIVATE_HOOKS_DIR = "ledger-hooks"  # beside the repository, for hooks a manager runs


@dataclasses.dataclass(frozen=True)
class HookAction:
    """What install or uninstall did with one hook."""

    hook: str
    action: str
    path: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


# -- where each hook goes ----------------------------------------------------------------------
def _hook_paths(paths: RepoPaths, name: str) -> tuple[Path, Path, Path]:
    """The hook git runs, where a hook already there is moved aside, and our private copy."""
    target = paths.hooks_dir / name
    chained = target.with_name(name + CHAINED_SUFFIX)
    private = paths.common_dir / PRIVATE_HOOKS_DIR / name
    return target, chained, private


def _manager(paths: RepoPaths, existing: str | None) -> str | None:
    if ".husky" in paths.hooks_dir.parts:
        return "husky"
    if existing is not None and PRE_COMMIT_MARK in existing:
        return "pre-commit"
    return None


def _write_script(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode("utf-8"), mode=0o755)
    except OSError as exc:
        raise HookInstallError(f"cannot write {path}: {exc.strerror or exc}") from exc


# -- install ---------------------------------------------------------------------------------
def install(
    repo: str | os.PathLike[str] | None = None,
    ledger_dir: str | os.PathLike[str] | None = None,
    python: str | None = None,
) -> list[HookAction]:
    """Install the commit, merge, am, push and rewrite hooks into a repository (HOOK_NAMES).

    A hook already there is moved aside to ``<hook>.ledger-chained`` and still runs first;
    a hook git-ledger wrote is upgraded when its script changed and left alone otherwise.
    A hook owned by a hook manager (pre-commit, husky) is not touched: the action is
    ``manual`` and ``detail`` holds the line to add. The ledger is created if missing.

    Returns:
        one HookAction per hook: installed, upgraded, unchanged, chained, or manual.
    """
    paths = find_repo(repo)
    resolved = _prepare_ledger(paths, ledger_dir)
    py = os.path.abspath(shutil.which(python) or python) if python else sys.executable
    pythonpath = python_path_for_hooks()
    return [
        _install_hook_script(paths, name, render_hook(name, py, pythonpath, str(resolved)))
        for name in HOOK_NAMES
    ]


def _prepare_ledger(paths: RepoPaths, ledger_dir: str | os.PathLike[str] | None) -> Path:
    """The ledger the hooks record into, created with its spool when missing."""
    resolved = resolve_ledger_dir(ledger_dir, cwd=paths.work_tree or paths.git_dir)
    ensure_ledger(resolved)
    try:
        (resolved / SPOOL_DIR).mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise HookInstallError(f"cannot make the spool in {resolved}: {exc.strerror}") from exc
    return resolved


def _install_hook_script(paths: RepoPaths, name: str, text: str) -> HookAction:
    """Install one rendered hook: fresh, as an upgrade, beside a manager, or chained."""
    target, chained, private = _hook_paths(paths, name)
    existing = read_script(target)
    manager = _manager(paths, existing)
    if manager is not None and not is_ours(existing):
        return _install_for_manager(name, text, manager, target, private)
    if existing is None:
        _write_script(target, text)
        return HookAction(name, "installed", str(target))
    if is_ours(existing):
        if existing == text:
            return HookAction(name, "unchanged", str(target))
        _write_script(target, text)
        return HookAction(name, "upgraded", str(target))
    if chained.exists() or chained.is_symlink():
        raise HookInstallError(
            f"{target} is not git-ledger's and {chained.name} already exists; "
            "merge them by hand, then run install again"
        )
    try:
        os.rename(target, chained)
    except OSError as exc:
        raise HookInstallError(f"cannot move {target} aside: {exc.strerror}") from exc
    _write_script(target, text)
    return HookAction(name, "chained", str(target), f"existing hook kept as {chained.name}")


def _install_for_manager(
    name: str, text: str, manager: str, target: Path, private: Path
) -> HookAction:
    """Write our hook beside the repository and say which line the manager's hook needs."""
    _write_script(private, text)
    line = f'{shlex.quote(str(private))} "$@"'
    where = (
        f"{target}{'' if target.exists() else ' (create it)'}"
        if manager == "husky"
        else f"{target}.legacy (pre-commit runs it with the same arguments and input)"
    )
    return HookAction(name, "manual", str(private), f"{manager}: add to {where}: {line}")


# -- uninstall -------------------------------------------------------------------------------
def uninstall(repo: str | os.PathLike[str] | None = None) -> list[HookAction]:
    """Remove git-ledger's hooks and put back the hooks they had moved aside.

    Hooks that are not git-ledger's are left alone. Spooled events and the failure log stay.
    """
    paths = find_repo(repo)
    actions: list[HookAction] = []
    for name in HOOK_NAMES:
        actions += _uninstall_hook_script(paths, name)
    return actions


def _uninstall_hook_script(paths: RepoPaths, name: str) -> list[HookAction]:
    """Remove one hook of ours (and its private copy); put back the hook it chained."""
    target, chained, private = _hook_paths(paths, name)
    actions: list[HookAction] = []
    try:
        if private.exists():
            private.unlink()
            actions.append(
                HookAction(
                    name,
                    "removed",
                    str(private),
                    "also remove the line that runs it from your hook manager",
                )
            )
        if is_ours(read_script(target)):
            target.unlink()
            if chained.exists() or chained.is_symlink():
                os.rename(chained, target)
                actions.append(
                    HookAction(name, "restored", str(target), f"{chained.name} put back")
                )
            else:
                actions.append(HookAction(name, "removed", str(target)))
        elif not private.exists() and not actions:
            actions.append(HookAction(name, "absent", str(target)))
    except OSError as exc:
        raise HookInstallError(f"cannot remove {target}: {exc.strerror}") from exc
    return actions


# -- status ----------------------------------------------------------------------------------
def status(
    repo: str | os.PathLike[str] | None = None,
    ledger_dir: str | os.PathLike[str] | None = None,
    failures: int = 5,
) -> dict[str, Any]:
    """The state of a repository's hooks, its queued events and its recorded failures.

    Returns:
        ``repository``, ``hooks_dir``, ``ledger_dir``, ``hooks`` (one dict per hook with
        ``hook``, ``state`` — installed, outdated, foreign, missing or manual — ``chained``
        and ``path``), ``pending`` and ``failed`` (events waiting in the spools / set aside),
        ``failure_count`` and ``failures`` (the last lines of the failure log).
    """
    paths = find_repo(repo)
    hooks: list[dict[str, Any]] = []
    baked_dir: str | None = None
    for name in HOOK_NAMES:
        hook, baked = _hook_status(paths, name)
        hooks.append(hook)
        baked_dir = baked_dir or baked
    if ledger_dir is not None or baked_dir is None:
        ledger = resolve_ledger_dir(ledger_dir, cwd=paths.work_tree or paths.git_dir)
    else:
        ledger = Path(os.environ.get("GIT_LEDGER_DIR") or baked_dir)
    in_ledger, failed_ledger = count_events(ledger / SPOOL_DIR)
    in_repo, failed_repo = count_events(paths.spool)
    count, last = read_failures(paths.failure_log, failures)
    lcount, llast = read_failures(ledger / FAILURE_LOG, failures)
    return {
        "repository": str(paths.work_tree or paths.common_dir),
        "hooks_dir": str(paths.hooks_dir),
        "ledger_dir": str(ledger),
        "hooks": hooks,
        "pending": in_ledger + in_repo,
        "pending_in_repository": in_repo,
        "failed": failed_ledger + failed_repo,
        "failure_count": count + lcount,
        "failures": (llast + last)[-failures:] if failures else [],
        "failure_log": str(paths.failure_log),
    }


def _hook_status(paths: RepoPaths, name: str) -> tuple[dict[str, Any], str | None]:
    """One hook's state, and the ledger folder baked into it (None when not ours)."""
    target, chained, private = _hook_paths(paths, name)
    text = read_script(target)
    source = target
    if is_ours(text):
        state = "installed"
    elif private.exists():
        state, source, text = "manual", private, read_script(private)
    elif text is None:
        state = "missing"
    else:
        state = "foreign"
    baked_dir: str | None = None
    if state in ("installed", "manual") and text is not None:
        baked = baked_values(text)
        baked_dir = baked.get("ledger_dir")
        current = render_hook(
            name,
            baked.get("python", sys.executable),
            baked.get("pythonpath", ""),
            baked.get("ledger_dir", ""),
        )
        if current != text:
            state = "outdated" if state == "installed" else "manual (outdated)"
    hook = {"hook": name, "state": state, "chained": chained.exists(), "path": str(source)}
    return hook, baked_dir
