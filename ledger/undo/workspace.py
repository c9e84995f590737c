"""Files in a workspace, read and written without ever following a path out of it.

Every access walks from the root folder one descriptor at a time with ``O_NOFOLLOW``, so a
symlinked folder (or one swapped in meanwhile) cannot redirect a write; the final name is
never followed either: a symlink is read, replaced or removed as the link itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import os
import re
import secrets
import stat
import time

from ledger._objects import MODE_BLOB, MODE_EXEC, MODE_LINK
from ledger.errors import InvalidPathError, StorageError, WorkspaceEscapeError

# Files larger than this are hashed but not kept in memory (for diffs).
KEEP_MAX_BYTES = 4 * 1024 * 1024
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class DiskState:
    """A file on disk: its git mode and blob id (None when absent), size, permissions."""

    mode: int | None  # git mode; None when absent
    oid: str | None
    size: int = 0
    data: bytes | None = None  # kept for diffs when small enough
    perms: int = 0


@dataclasses.dataclass(frozen=True)
class Location:
    """Where a file lives: a real root, the real folders below it, and its name."""

    root: str  # real path of the containing root
    parents: tuple[str, ...]  # real folder names from root to the file's folder
    name: str
    display: str
    lexical: str  # root + the path as recorded (what the undo session records)

    @property
    def full(self) -> str:
        return os.path.join(self.root, *self.parents, self.name)


def _inside(path: str, root: str) -> bool:
    return root == "/" or os.path.commonpath([path, root]) == root


def locate(root: str, parts: list[str], display: str, check_inside: bool = True) -> Location:
    """Locate a file under ``root``; its folders may not lead outside through a symlink."""
    root = os.path.realpath(root)
    lexical_parent = os.path.join(root, *parts[:-1])
    real_parent = os.path.realpath(lexical_parent)
    if check_inside and not _inside(real_parent, root):
        raise WorkspaceEscapeError(
            f"{display} leads outside {root} through a symlink ({real_parent})"
        )
    rel = os.path.relpath(real_parent, root)
    parents = tuple(p for p in rel.split("/") if p and p != ".") if rel != "." else ()
    return Location(root, parents, parts[-1], display, os.path.join(root, *parts))


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_dirs(loc: Location, create: bool) -> list[int] | None:
    """Descriptors of the root and each folder down to the file's; None if one is missing."""
    try:
        fds = [os.open(loc.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
    except FileNotFoundError:
        if create:
            raise InvalidPathError(f"the folder {loc.root} does not exist") from None
        return None
    except OSError as exc:
        raise InvalidPathError(f"cannot open {loc.root}: {exc.strerror}") from exc
    for name in loc.parents:
        try:
            try:
                fd = os.open(name, _DIR_FLAGS, dir_fd=fds[-1])
            except FileNotFoundError:
                if not create:
                    _close(fds)
                    return None
                os.mkdir(name, 0o777, dir_fd=fds[-1])
                fd = os.open(name, _DIR_FLAGS, dir_fd=fds[-1])
        except OSError as exc:
            link = exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, fds[-1])
            _close(fds)
            if link:
                raise WorkspaceEscapeError(
                    f"{loc.display}: the folder {name} became a symlink; not followed"
                ) from exc
            if exc.errno == errno.ENOTDIR:
                raise InvalidPathError(f"{loc.display}: {name} on its way is not a folder") from exc
            raise InvalidPathError(
                f"cannot open the folder of {loc.display}: {exc.strerror}"
            ) from exc
        fds.append(fd)
    return fds


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _close(fds: list[int]) -> None:
    for fd in reversed(fds):
        os.close(fd)


def read_state(loc: Location) -> DiskState:
    """The file's state on disk, never following a symlink."""
    fds = _open_dirs(loc, create=False)
    if fds is None:
        return DiskState(None, None)
    try:
        try:
            st = os.stat(loc.name, dir_fd=fds[-1], follow_symlinks=False)
        except FileNotFoundError:
            return DiskState(None, None)
        if stat.S_ISLNK(st.st_mode):
            target = os.fsencode(os.readlink(loc.name, dir_fd=fds[-1]))
            return DiskState(MODE_LINK, blob_id(target), len(target), target)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidPathError(f"{loc.display} is not a regular file or symlink")
        fd = os.open(loc.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fds[-1])
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            h = hashlib.sha1(b"blob %d\0" % size)
            kept: list[bytes] | None = [] if size <= KEEP_MAX_BYTES else None
            total = 0
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
                total += len(chunk)
                if kept is not None:
                    kept.append(chunk)
            if total != size:  # grew or shrank while read: hash what was read
                h = hashlib.sha1(b"blob %d\0" % total)
                if kept is None:
                    raise InvalidPathError(f"{loc.display} changed while it was read")
                for chunk in kept:
                    h.update(chunk)
        mode = MODE_EXEC if st.st_mode & 0o111 else MODE_BLOB
        data = b"".join(kept) if kept is not None else None
        return DiskState(mode, h.hexdigest(), total, data, stat.S_IMODE(st.st_mode))
    except OSError as exc:
        raise InvalidPathError(f"cannot read {loc.display}: {exc.strerror}") from exc
    finally:
        _close(fds)


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def write_file(loc: Location, data: bytes, mode: int, disk: DiskState) -> None:
    """Replace the file atomically: a temporary file in its folder, fsync, rename.

    The content is written to an unnamed file (``O_TMPFILE``) that gets a name only once it
    is complete, just before the rename: a process killed while writing leaves nothing in
    the folder. A named temporary file (where the file system has no unnamed ones) carries
    the writer's process id, so the next run removes it once that process is gone.
    """
    try:
        fds = _open_dirs(loc, create=True)
    except OSError as exc:  # pragma: no cover - _open_dirs wraps its own errors
        raise InvalidPathError(f"cannot create the folder of {loc.display}: {exc}") from exc
    assert fds is not None
    dfd = fds[-1]
    _clear_stale(dfd)
    tmp = f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
    try:
        if mode == MODE_LINK:
            os.symlink(os.fsdecode(data), tmp, dir_fd=dfd)
        else:
            perms = _keep_perms(disk.perms, mode == MODE_EXEC) if disk.mode in (
                MODE_BLOB,
                MODE_EXEC,
            ) else None
            _write_temp(dfd, tmp, data, 0o777 if mode == MODE_EXEC else 0o666, perms)
        os.rename(tmp, loc.name, src_dir_fd=dfd, dst_dir_fd=dfd)
        os.fsync(dfd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dfd)
        raise StorageError(f"cannot write {loc.display}: {exc.strerror}") from exc
    finally:
        _close(fds)


TEMP_PREFIX = ".ledger-tmp-"
_TEMP_RE = re.compile(r"\.ledger-tmp-(?:(\d+)-)?[0-9a-f]{12}")
_LEGACY_TEMP_AGE = 3600.0  # seconds; older unnamed-writer temporaries are surely stale


def _write_temp(dfd: int, name: str, data: bytes, create: int, perms: int | None) -> None:
    """Write ``data`` to a complete, fsynced file named ``name`` in the folder ``dfd``."""
    fd = -1
    linked = False
    with contextlib.suppress(OSError, AttributeError):
        if os.path.isdir("/proc/self/fd"):  # how an unnamed file gets its name
            fd = os.open(".", os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, create, dir_fd=dfd)
    if fd < 0:  # no unnamed files here: a named one from the start
        fd = os.open(
            name,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            create,  # the umask applies, as for git
            dir_fd=dfd,
        )
        linked = True
    try:
        if perms is not None:
            os.fchmod(fd, perms)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        if not linked:
            os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dfd, follow_symlinks=True)
    finally:
        os.close(fd)


def _clear_stale(dfd: int) -> None:
    """Remove temporary files a killed undo left in this folder (never a live writer's)."""
    try:
        names = [n for n in os.listdir(dfd) if n.startswith(TEMP_PREFIX)]
    except OSError:
        return
    for name in names:
        found = _TEMP_RE.fullmatch(name)
        if found is None:
            continue
        if found.group(1) is not None:
            if _alive(int(found.group(1))):
                continue
        else:
            try:
                age = time.time() - os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mtime
            except OSError:
                continue
            if age < _LEGACY_TEMP_AGE:
                continue
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dfd)


def clear_stale_temps(loc: Location) -> None:
    """Remove stale temporary files from the folder of ``loc`` (if it exists)."""
    fds = _open_dirs(loc, create=False)
    if fds is None:
        return
    try:
        _clear_stale(fds[-1])
    finally:
        _close(fds)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def _keep_perms(perms: int, executable: bool) -> int:
    """The file's permissions with the executable bits set where readable, or cleared."""
    if executable:
        return perms | ((perms & 0o444) >> 2)
    return perms & ~0o111


def delete_file(loc: Location) -> None:
    """Remove the file (a symlink itself, never its target) and the folders it empties."""
    fds = _open_dirs(loc, create=False)
    if fds is None:
        return
    try:
        try:
            os.unlink(loc.name, dir_fd=fds[-1])
        except FileNotFoundError:
            return
        os.fsync(fds[-1])
        for depth in range(len(loc.parents), 0, -1):
            try:
                os.rmdir(loc.parents[depth - 1], dir_fd=fds[depth - 1])
            except OSError:
                break
    except OSError as exc:
        raise StorageError(f"cannot remove {loc.display}: {exc.strerror}") from exc
    finally:
        _close(fds)
