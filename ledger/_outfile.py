"""Writing a file at a path the user gave (``export``, ``audit -o``, ``metrics export``).

Every command and API call that writes a user's output file goes through
:func:`open_output`, which decides by what is at the path *before* writing:

- ``-``: standard output.
- nothing, or a regular file: written to a temporary file in the same folder and renamed
  over it at the end, so a reader never sees half a file and a failed write leaves the old
  file (or nothing) behind. A replaced file keeps its permission bits.
- a character device or a FIFO (``/dev/null``, ``/dev/stdout``, a named pipe): opened and
  written through, never renamed over (the device stays a device).
- a symbolic link to a regular file, a folder, a socket or a block device: refused with
  one line (InvalidInputError), nothing written. A link is never replaced, and never
  written through to a file somewhere else; a link to a device or FIFO (``/dev/stdout``)
  is written through like the device.

A write that fails (a full disk, ``/dev/full``) is a StorageError naming the path.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ledger.errors import InvalidInputError, StorageError

STDOUT = "-"


def _kind(path: Path) -> str:
    """'missing', 'file', 'through' (device or FIFO, maybe behind a link), or why refused."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
    if stat.S_ISLNK(st.st_mode):
        try:
            target = path.stat()
        except OSError:
            return "a symbolic link to nothing"
        if stat.S_ISCHR(target.st_mode) or stat.S_ISFIFO(target.st_mode):
            return "through"
        return "a symbolic link (give the file it points to)"
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return "through"
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISSOCK(st.st_mode):
        return "a socket"
    return "a block device" if stat.S_ISBLK(st.st_mode) else "not a regular file"


@contextlib.contextmanager
def open_output(path: str | os.PathLike[str]) -> Iterator[TextIO]:
    """A UTF-8 text stream that ends up at ``path`` (see the module's rules); ``-`` is stdout.

    The content lands only when the block ends without an exception (for regular files);
    devices and FIFOs receive it as it is written.
    """
    if os.fspath(path) == STDOUT:
        yield sys.stdout
        with contextlib.suppress(ValueError):
            sys.stdout.flush()
        return
    target = Path(os.fspath(path)).absolute()
    kind = _kind(target)
    if kind == "through":
        with _through(target) as out:
            yield out
    elif kind in ("missing", "file"):
        with _atomic(target, replacing=kind == "file") as out:
            yield out
    else:
        raise InvalidInputError(f"refusing to write {target}: it is {kind}")


@contextlib.contextmanager
def _through(target: Path) -> Iterator[TextIO]:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror}") from exc
    out = open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below, errors kept)
    try:
        yield out
        out.flush()
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(OSError):
            out.close()


@contextlib.contextmanager
def _atomic(target: Path, *, replacing: bool) -> Iterator[TextIO]:
    folder = target.parent
    if not folder.is_dir():
        raise InvalidInputError(f"cannot write {target}: {folder} is not a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:200]}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        mode = 0o644 & ~_umask()
        if replacing:
            with contextlib.suppress(OSError):
                mode = target.stat().st_mode & 0o7777
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_output(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` at ``path`` by :func:`open_output`'s rules."""
    with open_output(path) as out:
        out.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
