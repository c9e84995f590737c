"""Session ids of captured entries: any agent's session name made valid, and the daily repo session.

Git hooks and agent adapters both name sessions from text they do not control; these turn
that text into a valid session id, the same one every time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from ledger._names import validate_session_id

DEFAULT_HOOK_AGENT = "git"

_SESSION_CHARS = re.compile(r"[^A-Za-z0-9._@+=-]+")


def session_id_from(text: str, max_len: int = 128) -> str:
    """Turn any text into a valid session id, deterministically.

    Characters a session id cannot hold become ``-``; when anything had to change, a short
    hash of the original is appended so that two different texts never share a session.
    """
    cleaned = _SESSION_CHARS.sub("-", text)
    cleaned = re.sub(r"\.{2,}", ".", cleaned).replace("@{", "@-")
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)
    while cleaned.endswith((".", ".lock")):
        cleaned = cleaned[:-5] if cleaned.endswith(".lock") else cleaned[:-1]
    if cleaned == text and 0 < len(cleaned) <= max_len:
        return validate_session_id(cleaned)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    stem = cleaned[: max_len - 9].rstrip(".-") or "session"
    return validate_session_id(f"{stem}-{digest}")


def repo_session(repo_name: str, when: dt.datetime) -> str:
    """The session of hook entries made outside an agent run: ``git-<repo>-<YYYYMMDD>``.

    The day is the UTC day of the event; the repository name is its work tree's folder name
    (or the bare repository's name without ``.git``).
    """
    day = when.astimezone(dt.UTC).strftime("%Y%m%d")
    return session_id_from(f"git-{repo_name}-{day}")
