"""Where the ledger lives: resolving its path, and creating it on first write."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pygit2

from ledger.errors import LedgerLocationError, LedgerNotFoundError

ENV_DIR = "GIT_LEDGER_DIR"
CONFIG_KEY = "ledger.dir"
FORMAT_KEY = "ledger.version"
FORMAT = "1"

# Settings that suit a ledger: no gc racing the writers, every ref update in the reflog,
# and a central copy that refuses history rewrites.
LEDGER_CONFIG = {
    "gc.auto": "0",
    "gc.autoDetach": "false",
    "maintenance.auto": "false",
    "core.logAllRefUpdates": "always",
    "core.fsync": "committed",
    "receive.denyNonFastForwards": "true",
    "receive.denyDeletes": "true",
    "receive.fsckObjects": "true",
    "user.name": "git-ledger",
    "user.email": "git-ledger@localhost",
    FORMAT_KEY: FORMAT,
}


def default_ledger_dir() -> Path:
    """The per-user default: ``$XDG_DATA_HOME/git-ledger/ledger.git``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "git-ledger" / "ledger.git"


def _from_work_repo(start: Path) -> Path | None:
    try:
        found = pygit2.discover_repository(str(start))
    except pygit2.GitError:
        return None
    if not found:
        return None
    try:
        repo = pygit2.Repository(found)
        value = repo.config[CONFIG_KEY]
    except (KeyError, pygit2.GitError):
        return None
    path = Path(os.path.expanduser(str(value)))
    if not path.is_absolute():
        # Relative values are relative to the work tree (or the git dir when bare).
        base = Path(repo.workdir) if repo.workdir else Path(repo.path)
        path = base / path
    return path


def _absolute(path: Path) -> Path:
    """Path.absolute() (no folding of ``..``), with a deleted current folder a clear error."""
    return path if path.is_absolute() else current_dir() / path


def current_dir() -> Path:
    """The current working folder; LedgerLocationError when it was deleted."""
    try:
        return Path(os.getcwd())
    except FileNotFoundError:
        raise LedgerLocationError(
            "the current folder no longer exists (deleted or moved away); cd to one that does"
        ) from None


def absolute(path: str | os.PathLike[str] | None) -> Path:
    """``path`` made absolute against the current folder (that folder itself for None),
    ``..`` and ``.`` folded as os.path.abspath does; LedgerLocationError when the current
    folder is needed and was deleted."""
    text = os.fspath(path) if path is not None else ""
    if os.path.isabs(text):
        return Path(os.path.normpath(text))
    return Path(os.path.normpath(os.path.join(current_dir(), text)))


def resolve_ledger_dir(
    explicit: str | os.PathLike[str] | None = None, cwd: str | os.PathLike[str] | None = None
) -> Path:
    """Resolve the ledger path.

    Order: the explicit argument; ``$GIT_LEDGER_DIR``; ``git config ledger.dir`` of the
    work repository around ``cwd``; the per-user default.
    """
    if explicit is not None and str(explicit) != "":
        return _absolute(Path(os.path.expanduser(os.fspath(explicit))))
    env = os.environ.get(ENV_DIR)
    if env:
        return _absolute(Path(os.path.expanduser(env)))
    found = _from_work_repo(Path(cwd) if cwd is not None else current_dir())
    if found is not None:
        return _absolute(found)
    return default_ledger_dir()


def is_ledger(path: Path) -> bool:
    """True when ``path`` is a bare repository marked as a ledger."""
    if not (path / "HEAD").is_file() or not (path / "objects").is_dir():
        return False
    try:
        repo = pygit2.Repository(str(path))
    except pygit2.GitError:
        return False
    if not repo.is_bare:
        return False
    try:
        return str(repo.config[FORMAT_KEY]) == FORMAT
    except KeyError:
        return False


def check_existing(path: Path) -> None:
    """Raise unless ``path`` holds a ledger (LedgerNotFoundError when nothing is there)."""
    if not path.exists():
        raise LedgerNotFoundError(f"no ledger at {path} (it is created by the first write)")
    if not path.is_dir():
        raise LedgerLocationError(f"ledger path {path} exists and is not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise LedgerLocationError(f"ledger path {path} is not readable")
    if not is_ledger(path):
        if not any(path.iterdir()):
            raise LedgerNotFoundError(f"no ledger at {path} (the directory is empty)")
        raise LedgerLocationError(f"{path} is not a git-ledger repository")


def ensure_ledger(path: Path) -> None:
    """Create the ledger at ``path`` if it does not exist; raise if the place is unusable.

    The repository is initialised in a private temporary directory beside the target and
    renamed into place, so concurrent first writers agree on one ledger.
    """
    if path.exists():
        if path.is_dir() and not any(path.iterdir()):
            pass  # an empty directory made for us: fill it
        else:
            check_existing(path)
            if not os.access(path, os.W_OK):
                raise LedgerLocationError(f"ledger at {path} is not writable")
            return
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise LedgerLocationError(f"cannot create ledger at {path}: {exc.strerror}") from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LedgerLocationError(f"cannot create ledger at {path}: {parent} is not writable")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.init-", dir=parent))
    except OSError as exc:
        raise LedgerLocationError(f"cannot create ledger at {path}: {exc.strerror}") from exc
    try:
        repo = pygit2.init_repository(str(tmp), bare=True)
        for key, value in LEDGER_CONFIG.items():
            repo.config[key] = value
        (tmp / "description").write_text("git-ledger: a change ledger for AI agents\n")
        os.chmod(tmp, 0o700)
        del repo
        try:
            os.rename(tmp, path)
        except OSError:
            if not is_ledger(path):  # someone else won the race with a ledger: fine
                raise
    except OSError as exc:
        raise LedgerLocationError(f"cannot create ledger at {path}: {exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
