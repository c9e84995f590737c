"""The hooks' spool: events the git hooks queued, turned into ledger entries by a drainer.

A hook writes one event file (``ev-*``) and returns; the drainer reads the commit data from
the work repository with pygit2, writes the entries, and only then deletes the event, so
an event is never lost. One drainer per spool at a time (an ``flock`` that dies with it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pygit2

from ledger._background import start_worker
from ledger._layout import SPOOL_DIR
from ledger._names import check_path, to_tree_path
from ledger.capture.githooks import (
    DEFAULT_HOOK_AGENT,
    FAILED_DIR,
    FAILURE_LOG,
    repo_session,
    session_id_from,
)
from ledger.errors import (
    ConcurrentUpdateError,
    HookEventError,
    InvalidPathError,
    LedgerError,
    LedgerLocationError,
    LockTimeoutError,
    StorageError,
)
from ledger.location import resolve_ledger_dir
from ledger.types import ChangeType
from ledger.write.logger import ChangeLogger

EVENT_MAGIC = "git-ledger-event 1"
LOCK_NAME = ".drain.lock"
PID_NAME = ".drainer.pid"
LINGER_SECONDS = 2.0  # a detached drainer waits this long for more events before leaving
LINGER_POLL = 0.02
ENV_LINGER = "GIT_LEDGER_DRAIN_LINGER"
DRAINER_NICE = 10
ZERO = "0" * 40
MAX_FILE_ENTRIES = 500  # per commit; the rest is listed in the commit entry only
MAX_MESSAGE_CHARS = 100_000
RECENT_CHECK = 50  # entries of the session searched for an event already recorded
STALE_TMP_SECONDS = 3600
GITLINK = 0o160000

# Failures that say nothing about the event itself: keep it and try again next time.
TRANSIENT = (LedgerLocationError, StorageError, LockTimeoutError, ConcurrentUpdateError, OSError)


@dataclasses.dataclass(frozen=True)
class HookEvent:
    """One spooled hook event."""

    name: str
    hook: str
    time: dt.datetime
    fields: dict[str, str]
    args: list[str]
    stdin: str

    @property
    def git_dir(self) -> Path:
        return Path(self.fields["git_dir"])

    @property
    def common_dir(self) -> Path:
        return Path(self.fields.get("common_dir") or self.fields["git_dir"])

    @property
    def work_tree(self) -> Path | None:
        """The work tree the hook ran in (None for a bare repository)."""
        cwd = self.fields.get("cwd", "")
        if not cwd or Path(cwd) == self.git_dir or Path(cwd) == self.common_dir:
            return None
        return Path(cwd)

    @property
    def rebasing(self) -> str | None:
        """The branch a rebase in progress will update (HEAD is detached meanwhile)."""
        ref = self.fields.get("rebasing", "").strip()
        return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref or None

    @property
    def branch(self) -> str | None:
        """The branch HEAD named when the hook ran; None when HEAD was detached."""
        ref = self.fields.get("head_ref", "")
        if ref.startswith("ref: "):
            target = ref[5:].strip()
            return target[len("refs/heads/") :] if target.startswith("refs/heads/") else target
        return None

    def repo_name(self) -> str:
        if self.work_tree is not None:
            return self.work_tree.name
        base = self.common_dir.name
        return base[:-4] if base.endswith(".git") and len(base) > 4 else base


def parse_event(path: Path) -> HookEvent:
    """Read a spooled event file."""
    try:
        st = path.stat()
        raw = path.read_bytes()
    except OSError as exc:
        raise HookEventError(f"cannot read event {path.name}: {exc.strerror}") from exc
    text = raw.decode("utf-8", "surrogateescape")
    head, sep, stdin = text.partition("\nstdin\n")
    lines = head.split("\n")
    if not sep or not lines or lines[0] != EVENT_MAGIC:
        raise HookEventError(f"event {path.name} is not a git-ledger hook event")
    fields: dict[str, str] = {}
    args: list[str] = []
    for line in lines[1:]:
        key, _, value = line.partition(" ")
        if key == "arg":
            args.append(value)
        elif key:
            fields[key] = value
    if "hook" not in fields or "git_dir" not in fields:
        raise HookEventError(f"event {path.name} lacks its hook name or repository")
    when = dt.datetime.fromtimestamp(st.st_mtime_ns / 1e9, dt.UTC)
    return HookEvent(path.name, fields["hook"], when, fields, args, stdin.rstrip("\n"))


def strip_credentials(url: str) -> str:
    """A remote URL without passwords or tokens (``https://user:tok@host/x`` -> host only).

    For http(s) and other URLs with a scheme the whole user part goes (a token often sits
    in the user name); for ssh the user name stays and only a password goes.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    if parts.scheme in ("ssh", "git+ssh", "ssh+git"):
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    else:
        netloc = host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# -- recording ------------------------------------------------------------------------------
def _session_for(event: HookEvent) -> tuple[str, str]:
    session = event.fields.get("session", "").strip()
    agent = event.fields.get("agent", "").strip() or DEFAULT_HOOK_AGENT
    sid = session_id_from(session) if session else repo_session(event.repo_name(), event.time)
    return sid, agent


def _already_recorded(logger: ChangeLogger, event: HookEvent) -> bool:
    """True if a drainer wrote this event's entries but died before deleting the event."""
    if not logger.store.exists:
        return False
    for i, entry in enumerate(logger.store.walk_session(logger.session_id)):
        if entry.metadata.get("hook_event") == event.name:
            return True
        if i >= RECENT_CHECK or entry.timestamp < event.time - dt.timedelta(minutes=10):
            return False
    return False


def _stamp(logger: ChangeLogger, event: HookEvent) -> dt.datetime | None:
    """The event's time, unless the session already holds a later entry (then: now)."""
    if logger.store.exists:
        newest = next(iter(logger.store.walk_session(logger.session_id)), None)
        if newest is not None and newest.timestamp > event.time:
            return None
    return event.time


def _open_repo(event: HookEvent) -> pygit2.Repository:
    try:
        return pygit2.Repository(str(event.git_dir))
    except pygit2.GitError as exc:
        raise HookEventError(f"repository {event.git_dir} is gone: {exc}") from exc


def _person(sig: pygit2.Signature) -> dict[str, Any]:
    tz = dt.timezone(dt.timedelta(minutes=sig.offset))
    return {
        "name": sig.name,
        "email": sig.email,
        "time": dt.datetime.fromtimestamp(sig.time, tz).isoformat(),
    }


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS]


_STATUS = {
    pygit2.enums.DeltaStatus.ADDED: ("added", ChangeType.FILE_CREATE),
    pygit2.enums.DeltaStatus.DELETED: ("deleted", ChangeType.FILE_DELETE),
    pygit2.enums.DeltaStatus.MODIFIED: ("modified", ChangeType.FILE_UPDATE),
    pygit2.enums.DeltaStatus.TYPECHANGE: ("typechange", ChangeType.FILE_UPDATE),
}


def _record_commit(logger: ChangeLogger, event: HookEvent) -> int:
    head = event.fields.get("head", "")
    if not re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", head):
        raise HookEventError(f"event {event.name} has no commit id")
    repo = _open_repo(event)
    try:
        commit = repo[head]
    except (KeyError, ValueError) as exc:
        raise HookEventError(f"commit {head} is not in {event.git_dir}") from exc
    if not isinstance(commit, pygit2.Commit):
        raise HookEventError(f"{head} is not a commit")
    parents = [str(p) for p in commit.parent_ids]
    if commit.parents:
        diff = repo.diff(commit.parents[0].tree, commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    files: list[dict[str, Any]] = []
    changes: list[tuple[str, ChangeType, bytes | None, bytes | None]] = []
    for delta in diff.deltas:
        status, ctype = _STATUS.get(delta.status, (delta.status_char(), ChangeType.FILE_UPDATE))
        old, new = delta.old_file, delta.new_file
        path = new.path if ctype is not ChangeType.FILE_DELETE else old.path
        item: dict[str, Any] = {"path": path, "status": status}
        if ctype is not ChangeType.FILE_CREATE:
            item["blob_before"] = str(old.id)
        if ctype is not ChangeType.FILE_DELETE:
            item["blob_after"] = str(new.id)
        files.append(item)
        if GITLINK in (old.mode, new.mode):
            item["submodule"] = True
            continue
        try:
            to_tree_path(check_path(path), logger.workdir)
        except InvalidPathError as exc:
            # Git allows names the ledger cannot record (not UTF-8, too long): keep the
            # commit entry, name the file in a form JSON can hold, and skip its states.
            item["path"] = os.fsencode(path).decode("utf-8", "backslashreplace")
            item["not_recorded"] = str(exc)
            continue
        before = bytes(repo[old.id].data) if ctype is not ChangeType.FILE_CREATE else None
        after = bytes(repo[new.id].data) if ctype is not ChangeType.FILE_DELETE else None
        changes.append((path, ctype, before, after))
    short = str(commit.id)[:7]
    branch = event.branch
    rebasing = event.rebasing if branch is None else None
    where = (
        f"on {branch}"
        if branch
        else f"while rebasing {rebasing}"
        if rebasing
        else "on a detached HEAD"
    )
    subject = commit.message.strip().splitlines()[0] if commit.message.strip() else ""
    meta: dict[str, Any] = {
        "commit": str(commit.id),
        "branch": branch,
        "detached": branch is None,
        "rebasing": rebasing,
        "message": _bounded(commit.message),
        "author": _person(commit.author),
        "committer": _person(commit.committer),
        "parents": parents,
        "merge": len(parents) > 1,
        "root": not parents,
        "files": files,
        "repository": str(event.work_tree or event.common_dir),
        "hook": event.hook,
        "hook_event": event.name,
    }
    if len(changes) > MAX_FILE_ENTRIES:
        meta["file_entries_truncated"] = len(changes) - MAX_FILE_ENTRIES
        changes = changes[:MAX_FILE_ENTRIES]
    stamp = _stamp(logger, event)
    verbs = {
        ChangeType.FILE_CREATE: "Added",
        ChangeType.FILE_UPDATE: "Changed",
        ChangeType.FILE_DELETE: "Deleted",
    }
    with logger.batch():
        for path, ctype, before, after in changes:
            logger.log_file_change(
                path,
                ctype,
                before_content=before,
                after_content=after,
                description=f"{verbs[ctype]} {path} in commit {short}",
                metadata={"commit": str(commit.id), "branch": branch},
                timestamp=stamp,
            )
        logger.log(
            ChangeType.GIT_COMMIT,
            f"Commit {short} {where}: {subject}",
            meta,
            timestamp=stamp,
        )
    return len(changes) + 1


def _record_push(logger: ChangeLogger, event: HookEvent) -> int:
    # Pushing to a URL instead of a named remote gives git the URL as the remote's name too.
    remote = strip_credentials(event.args[0]) if event.args else ""
    url = strip_credentials(event.args[1]) if len(event.args) > 1 else ""
    repo = _open_repo(event)
    refs: list[dict[str, Any]] = []
    for line in event.stdin.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        local_ref, local_oid, remote_ref, remote_oid = parts
        item: dict[str, Any] = {
            "local_ref": None if local_ref == "(delete)" else local_ref,
            "remote_ref": remote_ref,
            "old": None if set(remote_oid) == {"0"} else remote_oid,
            "new": None if set(local_oid) == {"0"} else local_oid,
        }
        if item["new"] is None:
            item["action"] = "delete"
        elif item["old"] is None:
            item["action"] = "create"
            item["commits"] = _count(repo, item["new"], _remote_tips(repo, remote))
        else:
            item["action"] = "update"
            known = item["old"] in repo
            if known:
                fast = item["old"] == item["new"] or repo.descendant_of(item["new"], item["old"])
                item["forced"] = not fast
                item["commits"] = _count(repo, item["new"], [item["old"]])
        refs.append(item)
    summary = ", ".join(
        f"{_short_ref(r['remote_ref'])} "
        + (
            "deleted"
            if r["action"] == "delete"
            else f"{(r['old'] or 'new')[:7]}..{r['new'][:7]}"
            + (" (forced)" if r.get("forced") else "")
        )
        for r in refs
    )
    meta: dict[str, Any] = {
        "remote": remote,
        "url": url,
        "refs": refs,
        "repository": str(event.work_tree or event.common_dir),
        "branch": event.branch,
        "hook": event.hook,
        "hook_event": event.name,
        "note": "recorded by pre-push, before the transfer",
    }
    name = remote or url or "remote"
    logger.log(
        ChangeType.GIT_PUSH,
        f"Push to {name}: {summary or 'nothing'}",
        meta,
        timestamp=_stamp(logger, event),
    )
    return 1


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _remote_tips(repo: pygit2.Repository, remote: str) -> list[str]:
    prefix = f"refs/remotes/{remote}/"
    out = []
    for name in repo.references:
        if remote and name.startswith(prefix):
            with contextlib.suppress(pygit2.GitError, KeyError):
                out.append(str(repo.references[name].peel(pygit2.Commit).id))
    return out


def _count(repo: pygit2.Repository, new: str, hide: list[str], limit: int = 10_000) -> int | None:
    try:
        walker = repo.walk(pygit2.Oid(hex=new), pygit2.enums.SortMode.NONE)
        for oid in hide:
            with contextlib.suppress(pygit2.GitError, KeyError, ValueError):
                walker.hide(pygit2.Oid(hex=oid))
        n = 0
        for _commit in walker:
            n += 1
            if n >= limit:
                return None
        return n
    except (pygit2.GitError, KeyError, ValueError):
        return None


def _record_rewrite(logger: ChangeLogger, event: HookEvent) -> int:
    kind = event.args[0] if event.args else "rewrite"
    mappings = []
    for line in event.stdin.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            mappings.append({"old": parts[0], "new": parts[1]})
    if not mappings:
        return 0
    n = len(mappings)
    meta: dict[str, Any] = {
        "rewrite": kind,
        "mappings": mappings,
        "branch": event.branch,
        "repository": str(event.work_tree or event.common_dir),
        "hook": event.hook,
        "hook_event": event.name,
    }
    first = mappings[0]
    what = f"{first['old'][:7]} -> {first['new'][:7]}" if n == 1 else f"{n} commits"
    logger.log(
        ChangeType.GIT_COMMIT,
        f"Rewrote {what} ({kind})",
        meta,
        timestamp=_stamp(logger, event),
    )
    return 1


def _record_merge(logger: ChangeLogger, event: HookEvent) -> int:
    """A merge commit; fast-forwards and squashes make no commit here (0 entries)."""
    repo = _open_repo(event)
    try:
        commit = repo[event.fields.get("head", "")]
    except (KeyError, ValueError) as exc:
        head = event.fields.get("head")
        raise HookEventError(f"commit {head} is not in {event.git_dir}") from exc
    if not isinstance(commit, pygit2.Commit) or len(commit.parent_ids) < 2:
        return 0
    return _record_commit(logger, event)


_HANDLERS = {
    "post-commit": _record_commit,
    "post-merge": _record_merge,
    "post-applypatch": _record_commit,
    "pre-push": _record_push,
    "post-rewrite": _record_rewrite,
}


def record_event(ledger_dir: Path, event: HookEvent) -> int:
    """Write the entries for one event; return how many (0 if it was already recorded)."""
    handler = _HANDLERS.get(event.hook)
    if handler is None:
        raise HookEventError(f"event {event.name} is from an unknown hook {event.hook!r}")
    session, agent = _session_for(event)
    logger = ChangeLogger(
        ledger_dir=ledger_dir,
        agent_id=agent,
        session_id=session,
        workdir=event.work_tree or event.common_dir,
    )
    if _already_recorded(logger, event):
        return 0
    return handler(logger, event)


# -- draining -------------------------------------------------------------------------------
@dataclasses.dataclass
class DrainReport:
    """What one drain did."""

    events: int = 0
    entries: int = 0
    failed: int = 0
    kept: int = 0
    busy: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def note_failure(log_dir: Path, hook: str, message: str) -> None:
    """Append a line to a failure log (``hooks status`` shows the last ones)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = " ".join(f"{stamp} {hook} {message}".split())
    with contextlib.suppress(OSError), open(log_dir / FAILURE_LOG, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _events(spool: Path) -> list[Path]:
    found = []
    try:
        with os.scandir(spool) as it:
            for item in it:
                if item.name.startswith("ev-") and item.is_file(follow_symlinks=False):
                    found.append((item.stat().st_mtime_ns, item.name, Path(item.path)))
                elif item.name.startswith(".tmp-"):
                    # A hook killed between writing and renaming: nothing to recover.
                    with contextlib.suppress(OSError):
                        if time.time() - item.stat().st_mtime > STALE_TMP_SECONDS:
                            os.unlink(item.path)
    except OSError:  # no spool (yet), or not a folder: nothing to drain there
        return []
    found.sort()
    return [p for _, _, p in found]


@contextlib.contextmanager
def _spool_lock(spool: Path, wait: bool) -> Iterator[bool]:
    try:
        fd = os.open(spool / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                yield False
                return
            raise
        yield True
    finally:
        os.close(fd)  # releases the flock


def _set_aside(path: Path, spool: Path) -> None:
    with contextlib.suppress(OSError):
        (spool / FAILED_DIR).mkdir(exist_ok=True)
        os.replace(path, spool / FAILED_DIR / path.name)


def drain_spool(
    ledger_dir: Path, spool: Path, wait: bool = False, linger: float = 0.0
) -> DrainReport:
    """Turn every event in one spool into entries (one drainer per spool at a time).

    Args:
        ledger_dir: the ledger the entries go to.
        spool: the spool folder.
        wait: wait for a running drainer to finish instead of leaving the work to it.
        linger: seconds to stay for more events once the spool is empty, so that a burst
            of commits (a rebase) is drained by one process. While it runs the drainer
            keeps its pid in ``.drainer.pid``, and hooks do not start another.
    """
    report = DrainReport()
    kept: set[str] = set()
    while True:
        if not [p for p in _events(spool) if p.name not in kept]:
            return report
        with _spool_lock(spool, wait) as locked:
            if not locked:
                report.busy = True
                return report
            pidfile = spool / PID_NAME
            with contextlib.suppress(OSError):
                pidfile.write_text(f"{os.getpid()}\n")
            try:
                idle_until = time.monotonic() + linger
                while True:
                    todo = [p for p in _events(spool) if p.name not in kept]
                    if todo:
                        for path in todo:
                            if not _drain_one(ledger_dir, spool, path, report):
                                kept.add(path.name)
                        idle_until = time.monotonic() + linger
                    elif time.monotonic() >= idle_until:
                        break
                    else:
                        time.sleep(LINGER_POLL)
            finally:
                with contextlib.suppress(OSError):
                    pidfile.unlink()
        # A hook that saw our pid file did not start a drainer: look once more after
        # removing it, so that its event is not left behind.


def _drain_one(ledger_dir: Path, spool: Path, path: Path, report: DrainReport) -> bool:
    """Record one event; False when it must stay in the spool for a later try."""
    log_dir = spool.parent
    try:
        event = parse_event(path)
    except HookEventError as exc:
        if not path.exists():
            return True  # recorded by a drainer that held the lock before us
        report.failed += 1
        note_failure(log_dir, "drain", f"{exc}; set aside in {SPOOL_DIR}/{FAILED_DIR}")
        _set_aside(path, spool)
        return True
    if event.common_dir.is_dir():
        log_dir = event.common_dir
    try:
        report.entries += record_event(ledger_dir, event)
    except TRANSIENT as exc:
        report.kept += 1
        note_failure(log_dir, event.hook, f"not recorded yet (kept for the next try): {exc}")
        return False
    except Exception as exc:  # the event's fault, or a bug: set it aside, go on with the rest
        report.failed += 1
        what = str(exc) if isinstance(exc, LedgerError) else f"{type(exc).__name__}: {exc}"
        note_failure(
            log_dir, event.hook, f"cannot record {event.name}: {what}; set aside in {FAILED_DIR}"
        )
        _set_aside(path, spool)
        return True
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        # Recorded; the next drain sees the entry (hook_event) and only removes the event.
        note_failure(log_dir, event.hook, f"recorded, but cannot remove {event.name}: {exc}")
        return False
    report.events += 1
    return True


def drain(
    ledger_dir: str | os.PathLike[str],
    git_dir: str | os.PathLike[str] | None = None,
    wait: bool = False,
    linger: float = 0.0,
) -> DrainReport:
    """Drain the ledger's spool and, given a repository's git dir, that repository's own.

    Args:
        ledger_dir: the ledger the entries go to (created if missing).
        git_dir: a repository's common git dir whose fallback spool should be drained too.
        wait: wait for a running drainer instead of leaving the work to it.
        linger: seconds to wait for more events in the ledger's spool before returning.
    """
    ledger = Path(ledger_dir)
    total = DrainReport()
    spools = [ledger / SPOOL_DIR]
    if git_dir is not None:
        spools.append(Path(git_dir) / SPOOL_DIR)
    for i, spool in enumerate(spools):
        part = drain_spool(ledger, spool, wait, linger if i == 0 else 0.0)
        total.events += part.events
        total.entries += part.entries
        total.failed += part.failed
        total.kept += part.kept
        total.busy = total.busy or part.busy
    if total.entries:
        from ledger.sync.push import push_in_background  # deferred: most ledgers have no remote

        push_in_background(ledger)  # no-op unless ledger.autoPush names a remote
    return total


def linger_seconds() -> float:
    """How long a detached drainer waits for more events (``$GIT_LEDGER_DRAIN_LINGER``)."""
    try:
        return max(0.0, float(os.environ.get(ENV_LINGER, LINGER_SECONDS)))
    except ValueError:
        return LINGER_SECONDS


def detach() -> None:
    """Leave the terminal's session (closing it must not stop a background drainer), nicely."""
    with contextlib.suppress(OSError):
        os.setsid()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(DRAINER_NICE)  # background work yields the CPU to the user's git commands


def has_pending(ledger_dir: Path) -> bool:
    """True when the ledger's spool holds events (a cheap check: one directory listing)."""
    try:
        with os.scandir(ledger_dir / SPOOL_DIR) as it:
            return any(e.name.startswith("ev-") for e in it)
    except OSError:
        return False


def start_if_pending(explicit: str | os.PathLike[str] | None = None) -> None:
    """Start a background drainer when the ledger's spool holds leftover events.

    Called by every ``git ledger`` command, so events a hook queued are recorded even if
    their own drainer was killed. Never raises.
    """
    with contextlib.suppress(Exception):
        ledger = resolve_ledger_dir(explicit)
        if has_pending(ledger):
            start_drainer(ledger)


def start_drainer(ledger_dir: Path) -> None:
    """Start a detached drainer for the ledger's spool (leftovers of earlier hooks)."""
    start_worker("drain", str(ledger_dir))
