"""File contents on their way into the ledger: text or bytes in memory, or a file on disk."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable

import pygit2

from ledger._objects import MODE_BLOB, MODE_EXEC, MODE_LINK, OBJ_BLOB, ObjectSink
from ledger.errors import InvalidInputError, InvalidPathError

# Above this many bytes only the hash and the size of a state are kept (configurable).
DEFAULT_MAX_CONTENT_BYTES = 64 * 1024 * 1024
# Files larger than this are streamed from disk into a loose blob, never read whole.
STREAM_THRESHOLD = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class State:
    """One observed file state: its blob id, size and mode, and whether the blob is kept."""

    oid: bytes
    size: int
    mode: int = MODE_BLOB
    stored: bool = True


def to_bytes(content: str | bytes | bytearray | memoryview, what: str) -> bytes:
    """Text is stored as UTF-8; bytes as they are."""
    if isinstance(content, str):
        try:
            return content.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(
                f"{what} is not valid Unicode text; pass bytes to store it exactly"
            ) from None
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    raise InvalidInputError(f"{what} must be str or bytes, not {type(content).__name__}")


def state_from_bytes(sink: ObjectSink, data: bytes, max_bytes: int) -> State:
    """Store content as a blob (or only hash it when it is over the cap)."""
    if len(data) > max_bytes:
        return State(bytes(pygit2.hash(data).raw), len(data), stored=False)
    return State(sink.write(OBJ_BLOB, data), len(data))


def state_from_disk(
    repo: pygit2.Repository,
    sink: ObjectSink,
    path: str,
    max_bytes: int,
    transform: Callable[[bytes], bytes] | None = None,
) -> State | None:
    """Read a file's current state without following a final symlink; None if absent.

    A symlink is recorded as git records one (its target as the blob, mode 120000).
    Large files are hashed or streamed into a blob without being read into memory, unless
    ``transform`` (e.g. secret redaction) must see the content before it is stored.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidPathError(f"cannot read {path}: {exc.strerror}") from exc
    if stat.S_ISLNK(st.st_mode):
        target = os.fsencode(os.readlink(path))
        return State(sink.write(OBJ_BLOB, target), len(target), MODE_LINK)
    if not stat.S_ISREG(st.st_mode):
        raise InvalidPathError(f"{path} is not a regular file")
    mode = MODE_EXEC if st.st_mode & 0o111 else MODE_BLOB
    if st.st_size > max_bytes:
        return State(bytes(pygit2.hashfile(path).raw), st.st_size, mode, stored=False)
    if st.st_size > STREAM_THRESHOLD and transform is None:
        # libgit2 streams the file; the blob goes loose even during a batch.
        return State(bytes(repo.create_blob_fromdisk(path).raw), st.st_size, mode)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read()
    if transform is not None:
        data = transform(data)
    return State(sink.write(OBJ_BLOB, data), len(data), mode)


def placeholder(state: State) -> bytes:
    """What the tree holds in place of a state too large to keep."""
    return (
        f"[git-ledger: content not stored: {state.size} bytes, blob {state.oid.hex()}]\n"
    ).encode()
