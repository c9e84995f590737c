"""The git command-line tool: one environment policy, one runner, one fsck.

pygit2 does every read and write of git data; the git CLI is used for what libgit2 lacks
(repack, prune, bundles, fsck, credential helpers, blame). Every such call goes through here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import GitUnavailableError, StorageError

REPO_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_PREFIX",
        "GIT_NAMESPACE",
        "GIT_QUARANTINE_PATH",
        "GIT_CEILING_DIRECTORIES",
        "GIT_REFLOG_ACTION",
    }
)
"""Variables that point git at another repository (a hook's ``GIT_DIR``, say)."""


def git_env(*, interactive: bool = True, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a git subprocess: the caller's, less what points elsewhere.

    With ``interactive=False`` git never prompts (no terminal prompt, no askpass program),
    so a background job fails at once instead of hanging on a credential.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in REPO_ENV}
    if not interactive:
        env["GIT_TERMINAL_PROMPT"] = "0"
        env.pop("GIT_ASKPASS", None)
        env.pop("SSH_ASKPASS", None)
    return env


def git_executable() -> str:
    """The git CLI's path, or GitUnavailableError with what to do about it."""
    found = shutil.which("git")
    if found is None:
        raise GitUnavailableError(
            "the git command-line tool is needed for maintenance, archives and restore "
            "(repack, prune, bundle) and was not found on PATH; install git"
        )
    return found


def run_git(
    ledger: Path | None,
    *args: str,
    input: str | None = None,
    check: bool = True,
    cwd: Path | str | None = None,
    interactive: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``git [--git-dir=<ledger>] ARGS`` and return the finished process.

    Raises GitUnavailableError when git cannot run, and StorageError naming git's last line
    of output when ``check`` is set and git exits non-zero.
    """
    cmd = [git_executable(), *([f"--git-dir={ledger}"] if ledger is not None else []), *args]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            errors="replace",
            input=input,
            env=git_env(interactive=interactive),
            cwd=cwd,
            check=False,
            timeout=timeout,
        )
    except OSError as exc:
        raise GitUnavailableError(f"cannot run git: {exc}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise StorageError(
            f"git {args[0]} failed (exit {proc.returncode}): {detail[-1] if detail else ''}"
        )
    return proc


@dataclass(frozen=True)
class FsckResult:
    """What ``git fsck`` said: its exit code and its findings (notices left out)."""

    exit_code: int | None
    findings: tuple[str, ...]
    command: str

    @property
    def ok(self) -> bool:
        """True when git ran and found nothing."""
        return self.exit_code == 0 and not self.findings


def fsck(
    ledger: Path, *, strict: bool = True, full: bool = True, heads: list[str] | None = None
) -> FsckResult:
    """Run ``git fsck`` on the ledger and return its findings.

    ``heads`` (object ids) are traced instead of the refs and reflogs: see
    :mod:`ledger._snapshot`, which reads them once so that running writers raise no alarm.

    Callers hold the maintenance lock around it (see :func:`ledger._fs.maintenance_paused`):
    a repack deleting packs while fsck lists them makes fsck report objects missing.
    """
    args = ["fsck", *(["--strict"] if strict else []), *(["--full"] if full else [])]
    args += ["--no-dangling", "--no-progress"]
    command = "git " + " ".join(a for a in args if a != "--no-progress")
    if heads is not None:
        args += ["--no-reflogs", *heads]
        command += f" --no-reflogs <{len(heads)} ids read once>"
    try:
        proc = run_git(ledger, *args, check=False)
    except GitUnavailableError as exc:
        return FsckResult(None, (str(exc),), command)
    findings = tuple(
        ln.strip()
        for ln in (proc.stdout + proc.stderr).splitlines()
        if ln.strip() and not ln.startswith(("notice:", "Checking", "dangling"))
    )
    if proc.returncode != 0 and not findings:
        findings = (f"git fsck exited with {proc.returncode}",)
    return FsckResult(proc.returncode, findings, command)
