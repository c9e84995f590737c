"""Git objects by hand: tree and commit bytes, a nested tree editor, and a pack writer.

The ledger serialises its own trees and commits so that one code path can send objects
either to libgit2's loose object store (one entry at a time) or into a single pack file
(batches), with ids computed the same way git computes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import pygit2

from ledger.errors import StorageError

OBJ_COMMIT = 1
OBJ_TREE = 2
OBJ_BLOB = 3
TYPE_NAMES = {OBJ_COMMIT: b"commit", OBJ_TREE: b"tree", OBJ_BLOB: b"blob"}

MODE_TREE = 0o040000
MODE_BLOB = 0o100644
MODE_EXEC = 0o100755
MODE_LINK = 0o120000

TreeEntries = dict[str, tuple[int, bytes]]


def object_id(obj_type: int, data: bytes) -> bytes:
    """The 20-byte SHA-1 id git gives an object of this type and content."""
    h = hashlib.sha1(TYPE_NAMES[obj_type] + b" %d\0" % len(data))
    h.update(data)
    return h.digest()


def parse_tree(data: bytes) -> TreeEntries:
    """Parse raw tree bytes into ``{name: (mode, oid)}``."""
    out: TreeEntries = {}
    pos, end = 0, len(data)
    while pos < end:
        sp = data.index(b" ", pos)
        nul = data.index(b"\0", sp)
        mode = int(data[pos:sp], 8)
        name = data[sp + 1 : nul].decode("utf-8", "surrogateescape")
        out[name] = (mode, data[nul + 1 : nul + 21])
        pos = nul + 21
    return out


def _tree_sort_key(item: tuple[bytes, int]) -> bytes:
    name, mode = item
    return name + b"/" if mode == MODE_TREE else name


def tree_bytes(entries: TreeEntries) -> bytes:
    """Serialise tree entries in git's canonical order."""
    encoded = [(n.encode("utf-8", "surrogateescape"), m, o) for n, (m, o) in entries.items()]
    encoded.sort(key=lambda e: _tree_sort_key((e[0], e[1])))
    return b"".join(b"%o %s\0%s" % (m, n, o) for n, m, o in encoded)


def commit_bytes(
    tree: bytes,
    parents: Iterable[bytes],
    name: str,
    email: str,
    when: int,
    message: str,
) -> bytes:
    """Serialise a commit; author and committer are the same identity at the same time."""
    ident = f"{name} <{email}> {when} +0000".encode()
    lines = [b"tree " + tree.hex().encode()]
    lines += [b"parent " + p.hex().encode() for p in parents]
    lines += [b"author " + ident, b"committer " + ident]
    return b"\n".join(lines) + b"\n\n" + message.encode("utf-8")


class ObjectSink(Protocol):
    """Where new objects go, and where objects are read back from."""

    def write(self, obj_type: int, data: bytes) -> bytes: ...

    def read(self, oid: bytes) -> tuple[int, bytes]: ...


class LooseSink:
    """Objects written one by one into the repository's loose object store."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo

    def write(self, obj_type: int, data: bytes) -> bytes:
        try:
            return bytes(self.repo.odb.write(obj_type, data).raw)
        except (pygit2.GitError, OSError) as exc:
            # libgit2 may report a stale, unrelated error here (seen on ENOSPC): say why.
            raise StorageError(write_failure(Path(self.repo.path), exc)) from exc

    def read(self, oid: bytes) -> tuple[int, bytes]:
        obj_type, data = self.repo.odb.read(pygit2.Oid(raw=oid))
        return int(obj_type), bytes(data)


def write_failure(path: Path, exc: BaseException) -> str:
    """A one-line reason for a failed write into the repository at ``path``."""
    try:
        fs = os.statvfs(path)
        if fs.f_bavail * fs.f_frsize < 64 * 1024 or (fs.f_files and fs.f_favail == 0):
            return f"cannot write to the ledger at {path}: no space left on the device"
    except OSError:
        pass
    if not os.access(path, os.W_OK):
        return f"cannot write to the ledger at {path}: it is read-only"
    return f"cannot write to the ledger at {path}: {exc}"


class PackSink:
    """Objects collected in memory and written as one pack (plus index) on flush."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.pending: dict[bytes, tuple[int, bytes]] = {}

    def write(self, obj_type: int, data: bytes) -> bytes:
        oid = object_id(obj_type, data)
        self.pending.setdefault(oid, (obj_type, data))
        return oid

    def read(self, oid: bytes) -> tuple[int, bytes]:
        if oid in self.pending:
            return self.pending[oid]
        obj_type, data = self.repo.odb.read(pygit2.Oid(raw=oid))
        return int(obj_type), bytes(data)

    def flush(self, objects_dir: Path, durable: bool) -> Path | None:
        """Write the collected objects as one pack; return the pack's path (None if empty)."""
        if not self.pending:
            return None
        path = write_pack(objects_dir / "pack", self.pending.items(), durable)
        self.pending = {}
        return path


def _pack_header(obj_type: int, size: int) -> bytes:
    byte = (obj_type << 4) | (size & 0x0F)
    size >>= 4
    out = bytearray()
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def write_pack(
    pack_dir: Path, objects: Iterable[tuple[bytes, tuple[int, bytes]]], durable: bool
) -> Path:
    """Write objects (no deltas) as ``pack-<hash>.pack`` with its v2 ``.idx``.

    Both files are written under temporary names and renamed into place, the pack before
    its index, so readers never see an index without its pack.
    """
    items = list(objects)
    pack_dir.mkdir(parents=True, exist_ok=True)
    records: list[tuple[bytes, int, int]] = []  # oid, crc32, offset
    pack_hash = hashlib.sha1()
    fd, tmp_pack = tempfile.mkstemp(prefix="tmp_pack_", dir=pack_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            head = b"PACK" + struct.pack(">II", 2, len(items))
            out.write(head)
            pack_hash.update(head)
            offset = len(head)
            for oid, (obj_type, data) in items:
                chunk = _pack_header(obj_type, len(data)) + zlib.compress(data, 1)
                out.write(chunk)
                pack_hash.update(chunk)
                records.append((oid, zlib.crc32(chunk), offset))
                offset += len(chunk)
            digest = pack_hash.digest()
            out.write(digest)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        idx = _index_bytes(records, digest)
        fd2, tmp_idx = tempfile.mkstemp(prefix="tmp_idx_", dir=pack_dir)
        try:
            with os.fdopen(fd2, "wb") as out:
                out.write(idx)
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            os.chmod(tmp_pack, 0o444)
            os.chmod(tmp_idx, 0o444)
            final = pack_dir / f"pack-{digest.hex()}.pack"
            os.replace(tmp_pack, final)
            os.replace(tmp_idx, final.with_suffix(".idx"))
        except BaseException:
            _unlink(tmp_idx)
            raise
    except BaseException:
        _unlink(tmp_pack)
        raise
    if durable:
        fsync_dir(pack_dir)
    return final


def _index_bytes(records: list[tuple[bytes, int, int]], pack_digest: bytes) -> bytes:
    records.sort(key=lambda r: r[0])
    fanout = [0] * 256
    for oid, _, _ in records:
        fanout[oid[0]] += 1
    running = 0
    for i in range(256):
        running += fanout[i]
        fanout[i] = running
    small: list[int] = []
    large: list[int] = []
    for _, _, off in records:
        if off < 0x80000000:
            small.append(off)
        else:
            small.append(0x80000000 | len(large))
            large.append(off)
    parts = [
        b"\xfftOc",
        struct.pack(">I", 2),
        struct.pack(">256I", *fanout),
        b"".join(r[0] for r in records),
        struct.pack(f">{len(records)}I", *(r[1] for r in records)),
        struct.pack(f">{len(small)}I", *small),
        struct.pack(f">{len(large)}Q", *large),
        pack_digest,
    ]
    body = b"".join(parts)
    return body + hashlib.sha1(body).digest()


def fsync_dir(path: Path) -> None:
    """Make a directory's new entries durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class _Node:
    __slots__ = ("entries", "kids")

    def __init__(self, entries: TreeEntries) -> None:
        self.entries = dict(entries)
        self.kids: dict[str, _Node] = {}


class TreeCache:
    """Parsed trees by id, shared by the editors of one writer (bounded)."""

    def __init__(self, limit: int = 20000) -> None:
        self.limit = limit
        self.trees: dict[bytes, TreeEntries] = {}

    def get(self, sink: ObjectSink, oid: bytes) -> TreeEntries:
        found = self.trees.get(oid)
        if found is None:
            obj_type, data = sink.read(oid)
            if obj_type != OBJ_TREE:
                raise ValueError(f"object {oid.hex()} is not a tree")
            found = parse_tree(data)
            self.put(oid, found)
        return found

    def put(self, oid: bytes, entries: TreeEntries) -> None:
        if len(self.trees) >= self.limit:
            self.trees.clear()
        self.trees[oid] = entries


class TreeEditor:
    """Edit nested paths of a tree, then write only the trees that changed."""

    def __init__(self, sink: ObjectSink, cache: TreeCache, base: bytes | None) -> None:
        self.sink = sink
        self.cache = cache
        self.root = _Node(cache.get(sink, base) if base else {})

    def _walk(self, parts: list[str], create: bool) -> _Node | None:
        node = self.root
        for part in parts:
            kid = node.kids.get(part)
            if kid is None:
                found = node.entries.get(part)
                if found is not None and found[0] == MODE_TREE:
                    kid = _Node(self.cache.get(self.sink, found[1]))
                elif create:
                    kid = _Node({})
                    node.entries.pop(part, None)  # a file in the way becomes a folder
                else:
                    return None
                node.kids[part] = kid
            node = kid
        return node

    def get(self, path: str) -> tuple[int, bytes] | None:
        """The (mode, oid) at a path, or None."""
        *dirs, name = path.split("/")
        node = self._walk(dirs, create=False)
        if node is None or name in node.kids:
            return None
        return node.entries.get(name)

    def set(self, path: str, oid: bytes, mode: int = MODE_BLOB) -> None:
        """Put a blob at a path, creating folders as needed."""
        *dirs, name = path.split("/")
        node = self._walk(dirs, create=True)
        assert node is not None
        node.kids.pop(name, None)
        node.entries[name] = (mode, oid)

    def remove(self, path: str) -> None:
        """Remove whatever is at a path; empty folders disappear."""
        *dirs, name = path.split("/")
        node = self._walk(dirs, create=False)
        if node is not None:
            node.kids.pop(name, None)
            node.entries.pop(name, None)

    def write(self) -> bytes:
        """Write changed trees bottom-up and return the root tree id."""
        oid = self._write(self.root)
        return oid if oid is not None else self._store({})

    def _write(self, node: _Node) -> bytes | None:
        for name, kid in node.kids.items():
            oid = self._write(kid)
            if oid is None:
                node.entries.pop(name, None)
            else:
                node.entries[name] = (MODE_TREE, oid)
        node.kids = {}
        if not node.entries:
            return None
        return self._store(node.entries)

    def _store(self, entries: TreeEntries) -> bytes:
        oid = self.sink.write(OBJ_TREE, tree_bytes(entries))
        self.cache.put(oid, dict(entries))
        return oid
