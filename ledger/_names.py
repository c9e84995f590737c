"""Validation and mapping of outside names: session ids, agent ids and file paths.

Everything a caller hands us that ends up in a ref name, a commit header or a tree path
passes through here first, so that the ledger never writes an invalid or escaping name.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from pathlib import PurePosixPath

from ledger._layout import FILES_DIR, SESSION_REF_PREFIX
from ledger.errors import InvalidAgentIdError, InvalidPathError, InvalidSessionIdError

ABSOLUTE_MARK = "%2F"
MAX_PATH_BYTES = 4096
MAX_PATH_DEPTH = 256
"""Names in a recorded path at most: deeper ones are refused (trees are walked level by
level, with a descriptor or a stack frame per level)."""
MAX_COMPONENT_BYTES = 255

_SESSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,127}")


def validate_session_id(session_id: object) -> str:
    """Return the session id if it can be the last part of a ref name, else raise.

    Allowed: 1-128 characters of ``A-Z a-z 0-9 . _ @ + = -``, starting with a letter or
    digit, without ``..``, not ending in ``.`` or ``.lock``. This excludes every form git
    refuses or that could escape ``refs/heads/sessions/`` (``/``, ``..``, NUL, spaces).
    """
    if not isinstance(session_id, str):
        raise InvalidSessionIdError(f"session id must be a string, not {type(session_id).__name__}")
    if not _SESSION_RE.fullmatch(session_id):
        raise InvalidSessionIdError(
            f"invalid session id {session_id!r}: use 1-128 of A-Z a-z 0-9 . _ @ + = -, "
            "starting with a letter or digit"
        )
    if ".." in session_id or session_id.endswith((".", ".lock")) or "@{" in session_id:
        raise InvalidSessionIdError(
            f"invalid session id {session_id!r}: no '..', and no trailing '.' or '.lock'"
        )
    return session_id


def session_ref(session_id: str) -> str:
    """The branch that holds a session's entries."""
    return SESSION_REF_PREFIX + validate_session_id(session_id)


def validate_agent_id(agent_id: object) -> str:
    """Return the agent id if it can name a commit author, else raise."""
    if not isinstance(agent_id, str):
        raise InvalidAgentIdError(f"agent id must be a string, not {type(agent_id).__name__}")
    if not agent_id.strip() or len(agent_id) > 128:
        raise InvalidAgentIdError(f"invalid agent id {agent_id!r}: 1-128 characters")
    if agent_id != agent_id.strip() or any(
        c in "<>" or (unicodedata.category(c)[0] in "CZ" and c != " ") for c in agent_id
    ):
        raise InvalidAgentIdError(
            f"invalid agent id {agent_id!r}: no control characters, '<', '>' "
            "or surrounding whitespace"
        )
    return agent_id


def agent_email(agent_id: str) -> str:
    """A stable, valid e-mail address for an agent's commits."""
    local = re.sub(r"[^A-Za-z0-9._+-]+", "-", agent_id).strip("-.") or "agent"
    return f"{local}@git-ledger.invalid"


# Characters git's fsck treats as invisible when it compares names with ".git" on HFS+.
_HFS_IGNORABLE = set(
    "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
)
# Encoded so that no tree name can look like .git on NTFS/HFS or hold a control character.
_ENCODE = set("%~:\\") | _HFS_IGNORABLE | {chr(c) for c in range(0x20)} | {"\x7f"}


def _is_dotgit(name: str) -> bool:
    folded = "".join(c for c in name if c not in _HFS_IGNORABLE).lower().rstrip(" .")
    return folded == ".git" or re.fullmatch(r"git~\d+", folded) is not None


def _encode_component(name: str) -> str:
    out = "".join(
        "".join(f"%{b:02X}" for b in c.encode("utf-8")) if c in _ENCODE else c for c in name
    )
    # fsck parses .gitmodules / .gitattributes blobs; keep ours from being read as such.
    if out.lower().startswith((".gitmodules", ".gitattributes")):
        out = "%2E" + out[1:]
    return out


def _decode_component(name: str) -> str:
    raw = bytearray()
    i = 0
    data = name.encode("utf-8")
    while i < len(data):
        if data[i] == 0x25:  # "%"
            raw.append(int(data[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.append(data[i])
            i += 1
    return raw.decode("utf-8")


def check_path(path: object) -> str:
    """Return the path as a str if it is safe to record, else raise InvalidPathError."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if isinstance(path, bytes):
        try:
            path = path.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidPathError(f"path {path!r} is not valid UTF-8") from None
    if not isinstance(path, str):
        raise InvalidPathError(f"path must be str, bytes or PathLike, not {type(path).__name__}")
    if not path:
        raise InvalidPathError("path is empty")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidPathError(f"path {path!r} is not valid UTF-8") from None
    if "\0" in path:
        raise InvalidPathError(f"path {path!r} contains a NUL byte")
    if size > MAX_PATH_BYTES:
        raise InvalidPathError(f"path is {size} bytes long (at most {MAX_PATH_BYTES})")
    depth = sum(1 for part in path.split("/") if part not in ("", "."))
    if depth > MAX_PATH_DEPTH:
        raise InvalidPathError(f"path has {depth} levels of folders (at most {MAX_PATH_DEPTH})")
    for part in path.split("/"):
        if part == "..":
            raise InvalidPathError(f"path {path!r} contains a '..' component")
        if _is_dotgit(part):
            raise InvalidPathError(f"path {path!r} contains a '.git' component")
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise InvalidPathError(
                f"path {path[:60]!r}... has a name longer than {MAX_COMPONENT_BYTES} bytes"
            )
    return path


def to_tree_path(path: object, workdir: str | os.PathLike[str] | None) -> str:
    """Map a file path to its place in the ledger tree: ``files/<path>``.

    A path inside ``workdir`` (or relative) maps to ``files/<relative path>``; an absolute
    path outside it maps to ``files/%2F/<path without the leading slash>``. Each name has
    ``% ~ : \\``, control and HFS-invisible characters percent-encoded, and a leading
    ``.gitmodules``/``.gitattributes`` dot encoded, so the mapping is injective and
    :func:`from_tree_path` inverts it.
    """
    text = check_path(path)
    p = PurePosixPath(text)
    if p.is_absolute() and workdir is not None:
        base = PurePosixPath(os.path.abspath(os.fspath(workdir)))
        with contextlib.suppress(ValueError):
            p = p.relative_to(base)
    parts = [c for c in p.parts[1 if p.is_absolute() else 0 :] if c not in ("", ".")]
    if not parts:
        raise InvalidPathError(f"path {text!r} names no file")
    encoded = [_encode_component(c) for c in parts]
    if p.is_absolute():
        encoded.insert(0, ABSOLUTE_MARK)
    return "/".join([FILES_DIR, *encoded])


def from_tree_path(tree_path: str) -> str:
    """Invert :func:`to_tree_path`: ``files/a/b`` -> ``a/b``; ``files/%2F/etc/x`` -> ``/etc/x``."""
    parts = tree_path.split("/")
    if not parts or parts[0] != FILES_DIR:
        raise InvalidPathError(f"{tree_path!r} is not under {FILES_DIR}/")
    parts = parts[1:]
    if parts and parts[0] == ABSOLUTE_MARK:
        return "/" + "/".join(_decode_component(c) for c in parts[1:])
    return "/".join(_decode_component(c) for c in parts)
