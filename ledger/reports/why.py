"""``git ledger why FILE:LINE`` and ``why COMMIT``: which agent session wrote this, and why.

From ``git blame`` in the code repository to the commit, then to the ledger entries of that
repository that produced the line: the agent file edit whose after-state holds the line more
often than its before-state did (it introduced that content), recorded no later than the
commit; its session, agent and the prompt the session was given last before the edit. When
no agent edit introduced the line, a person wrote it and the answer says "no agent entry".
For a commit: the git-hook entry that recorded it, and the agent edits of the commit's files
between its parent and it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from typing import Any

from ledger._git import git_env, git_executable, run_git
from ledger.entry import Entry
from ledger.errors import InvalidInputError, NotARepositoryError
from ledger.read.query import LogQuery
from ledger.read.repos import RepoScope, scope_of_folder
from ledger.types import ChangeType

NO_AGENT = "no agent entry"
_ZERO = re.compile(r"^0{40}(0{24})?$")
_FILE_TYPES = (ChangeType.FILE_CREATE, ChangeType.FILE_UPDATE)
_SLACK = dt.timedelta(seconds=2)  # a commit's time has whole seconds


def _git(cwd: str, *args: str) -> str:
    proc = run_git(None, *args, cwd=cwd, check=False)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["git failed"])[0]
        raise InvalidInputError(f"git {args[0]}: {first}")
    return proc.stdout


def _repo_of(folder: str) -> tuple[str, RepoScope]:
    scope = scope_of_folder(folder)
    if scope is None:
        raise NotARepositoryError(f"{folder} is not inside a git repository")
    top = _git(folder, "rev-parse", "--show-toplevel").strip()
    return top, scope


def split_target(target: str) -> tuple[str, int] | None:
    """``FILE:LINE`` as (file, line); None when the target names no line (a commit)."""
    found = re.fullmatch(r"(.+):(\d+)", target)
    if found is None:
        return None
    line = int(found.group(2))
    if line < 1:
        raise InvalidInputError(f"line numbers start at 1, not {line}")
    return found.group(1), line


def _blame(top: str, rel: str, line: int) -> dict[str, Any]:
    out = _git(top, "blame", "--porcelain", "-L", f"{line},{line}", "--", rel)
    lines = out.splitlines()
    sha = lines[0].split()[0]
    info: dict[str, Any] = {"commit": None if _ZERO.match(sha) else sha}
    for item in lines[1:]:
        if item.startswith("\t"):
            info["text"] = item[1:]
        else:
            key, _, value = item.partition(" ")
            if key in ("author", "author-mail", "author-time", "summary", "filename"):
                info[key] = value
    if info["commit"] is None:
        info["author"] = None
    return info


def _count(data: bytes | None, line: bytes) -> int:
    if not data:
        return 0
    return sum(1 for item in data.splitlines() if item.rstrip(b"\r") == line)


def _added_lines(after: bytes | None, before: bytes | None) -> set[bytes]:
    """The non-blank lines ``after`` holds more often than ``before``."""
    counts: dict[bytes, int] = {}
    for item in (after or b"").splitlines():
        counts[item.rstrip(b"\r")] = counts.get(item.rstrip(b"\r"), 0) + 1
    return {k for k, n in counts.items() if k.strip() and n > _count(before, k)}


def _blob(top: str, rev: str | None, path: str) -> bytes | None:
    """A file's bytes at a commit (None when it is not there)."""
    if rev is None:
        return None
    proc = subprocess.run(
        [git_executable(), "cat-file", "blob", f"{rev}:{path}"],
        cwd=top, env=git_env(), capture_output=True, check=False,
    )
    return proc.stdout if proc.returncode == 0 else None


def _is_agent_edit(entry: Entry) -> bool:
    meta = entry.metadata or {}
    return (
        entry.change_type in _FILE_TYPES
        and "commit" not in meta  # the git hooks' record of a commit's files
        and "undo_kind" not in meta
    )


def _history(query: LogQuery, paths: list[str], scope: RepoScope) -> list[Entry]:
    """The entries of any of ``paths`` (relative and absolute forms) in the scope, oldest first."""
    seen: dict[str, Entry] = {}
    for path in paths:
        for entry in query.get_file_history(path, repo=scope):
            seen.setdefault(entry.id, entry)
    return sorted(seen.values(), key=lambda e: e.timestamp)


def _prompt(query: LogQuery, entry: Entry) -> str | None:
    """The last prompt the entry's session was given before it."""
    for item in reversed(query.get_session_logs(entry.session_id)):
        if item.timestamp > entry.timestamp:
            continue
        prompt = (item.metadata or {}).get("prompt")
        if isinstance(prompt, str):
            return prompt
    return None


def entry_row(query: LogQuery, entry: Entry) -> dict[str, Any]:
    meta = entry.metadata or {}
    return {
        "entry": entry.id,
        "session_id": entry.session_id,
        "agent_id": entry.agent_id,
        "timestamp": entry.timestamp.isoformat(),
        "change_type": entry.change_type.value,
        "file_path": entry.file_path,
        "description": entry.description,
        "tool_name": meta.get("tool_name"),
        "prompt": _prompt(query, entry),
    }


def why_line(query: LogQuery, path: str, line: int) -> dict[str, Any]:
    """What wrote line ``line`` of ``path`` (keys in docs/cli.md, ``why``)."""
    full = os.path.abspath(path)
    top, scope = _repo_of(os.path.dirname(full) or ".")
    rel = os.path.relpath(os.path.realpath(full), os.path.realpath(top))
    blame = _blame(top, rel, line)
    text = blame.get("text", "")
    wanted = text.encode("utf-8", "surrogateescape")
    committed = blame["commit"]
    until = None
    if committed is not None and blame.get("author-time"):
        until = dt.datetime.fromtimestamp(int(blame["author-time"]), dt.UTC)
        commit_time = _git(top, "show", "-s", "--format=%ct", committed).strip()
        until = max(until, dt.datetime.fromtimestamp(int(commit_time), dt.UTC)) + _SLACK
    found: list[Entry] = []
    for entry in _history(query, [rel, os.path.join(top, rel)], scope):
        if not _is_agent_edit(entry) or (until is not None and entry.timestamp > until):
            continue
        if _count(entry.after_bytes, wanted) > _count(entry.before_bytes, wanted):
            found.append(entry)
    rows = [entry_row(query, e) for e in found[-1:]]
    return {
        "target": f"{rel}:{line}",
        "repository": scope.label,
        "file": rel,
        "line": line,
        "text": text,
        "commit": _commit_row(blame),
        "entries": rows,
        "written_by": "agent" if rows else "person",
        "answer": _line_answer(rows, blame),
    }


def _commit_row(blame: dict[str, Any]) -> dict[str, Any] | None:
    if blame["commit"] is None:
        return None
    when = blame.get("author-time")
    return {
        "commit": blame["commit"],
        "author": blame.get("author"),
        "email": (blame.get("author-mail") or "").strip("<>") or None,
        "time": dt.datetime.fromtimestamp(int(when), dt.UTC).isoformat() if when else None,
        "summary": blame.get("summary"),
    }


def _line_answer(rows: list[dict[str, Any]], blame: dict[str, Any]) -> str:
    where = f"commit {blame['commit'][:10]}" if blame["commit"] else "not committed yet"
    if not rows:
        who = f" by {blame['author']}" if blame.get("author") else ""
        return f"{NO_AGENT}: written{who} ({where})"
    row = rows[0]
    return f"written by agent {row['agent_id']} in session {row['session_id']} ({where})"


def why_commit(query: LogQuery, rev: str, folder: str | None = None) -> dict[str, Any]:
    """The git-hook entry of a commit and the agent edits of its files before it."""
    top, scope = _repo_of(os.path.abspath(folder or os.getcwd()))
    if rev.startswith("-"):
        raise InvalidInputError(f"{rev!r} is not a commit")
    sha = _git(top, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").strip()
    fields = _git(top, "show", "-s", "--format=%ct%x00%P%x00%an%x00%s", sha).rstrip("\n")
    ctime, parents, author, subject = fields.split("\x00")
    until = dt.datetime.fromtimestamp(int(ctime), dt.UTC) + _SLACK
    parent = parents.split()[0] if parents.split() else None
    files = [f for f in _git(top, "diff-tree", "--no-commit-id", "--name-only", "-r",
                             "--root", "-z", sha).split("\x00") if f]
    hook = [e for e in query.query(change_types=ChangeType.GIT_COMMIT, search_text=sha,
                                   repo=scope) if (e.metadata or {}).get("commit") == sha]
    edits: list[Entry] = []
    for name in files:
        added = _added_lines(_blob(top, sha, name), _blob(top, parent, name))
        for entry in _history(query, [name, os.path.join(top, name)], scope):
            if (_is_agent_edit(entry) and entry.timestamp <= until
                    and _added_lines(entry.after_bytes, entry.before_bytes) & added):
                edits.append(entry)
    edits.sort(key=lambda e: e.timestamp)
    rows = [entry_row(query, e) for e in edits]
    sessions = sorted({r["session_id"] for r in rows})
    answer = (f"edits by session {', '.join(sessions)}" if sessions
              else f"{NO_AGENT}: no agent edited its files before it")
    return {
        "target": sha,
        "repository": scope.label,
        "commit": {"commit": sha, "author": author, "summary": subject,
                   "time": dt.datetime.fromtimestamp(int(ctime), dt.UTC).isoformat(),
                   "files": files},
        "hook_entry": hook[0].id if hook else None,
        "hook_session": hook[0].session_id if hook else None,
        "entries": rows,
        "written_by": "agent" if rows else "person",
        "answer": answer,
    }


def why(query: LogQuery, target: str) -> dict[str, Any]:
    """``FILE:LINE`` or a commit, answered from the repository around the current folder."""
    spec = split_target(target)
    if spec is not None and os.path.isfile(spec[0]):
        return why_line(query, spec[0], spec[1])
    if spec is not None:
        raise InvalidInputError(f"no file {spec[0]!r}")
    return why_commit(query, target)
