"""Many machines, one ledger: push and pull sessions through ordinary git remotes.

Only the ledger's refs travel (``refs/heads/sessions/*`` and ``refs/ledger/*``), never by
force. A session id that two machines wrote with different histories is kept under a
distinct name on the receiving side, and a central ledger refuses rewrites with a guard hook.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import os
import re
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pygit2
from pygit2.ffi import ffi

from ledger._background import start_worker
from ledger._git import run_git
from ledger._layout import (
    LEDGER_REF_PREFIX,
    LOCK_FOLDER,
    PUSH_LOCK,
    PUSH_PENDING,
    SESSION_REF_PREFIX,
    STAGING_PREFIX,
    SYNC_LOG,
)
from ledger._names import validate_session_id
from ledger._resources import hooks_folder
from ledger._store import LedgerStore, enable_fsync, sync_filesystem
from ledger.errors import (
    GitUnavailableError,
    InvalidRemoteError,
    LedgerError,
    LedgerLocationError,
    LockTimeoutError,
    SyncError,
)
from ledger.location import LEDGER_CONFIG, ensure_ledger, is_ledger, resolve_ledger_dir

AUTO_PUSH_KEY = "ledger.autoPush"
MACHINE_KEY = "ledger.machine"
GUARD_MARK = "git-ledger pre-receive guard"
GUARD_CHAINED = "pre-receive.before-ledger"
DEFAULT_BATCH = 500
SYNC_LOG_MAX_BYTES = 1 << 20
# What a central ledger needs on top of a ledger's own settings: refuse rewrites and
# deletions even where the guard hook does not run, and check every object received.
CENTRAL_CONFIG = {
    "receive.denyNonFastForwards": "true",
    "receive.denyDeletes": "true",
    "receive.fsckObjects": "true",
}
_REMOTE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


# -- URLs and names ------------------------------------------------------------------------
def redact_url(url: str) -> str:
    """The URL without its userinfo (``https://user:token@host/x`` -> ``https://host/x``)."""
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        if "@" in parts.netloc:
            host = parts.netloc.rpartition("@")[2]
            return urllib.parse.urlunsplit(parts._replace(netloc=host))
        return url
    return url  # scp-like "user@host:path" carries a login name, never a secret


def _redact_text(text: str, *urls: str) -> str:
    for url in urls:
        if url:
            text = text.replace(url, redact_url(url))
    # Anything else that looks like scheme://userinfo@ loses its userinfo too.
    return re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@", r"\1", text)


def validate_remote_name(name: object) -> str:
    """Return the remote name if usable (1-40 of ``A-Z a-z 0-9 _ . -``), else raise."""
    if (
        not isinstance(name, str)
        or not _REMOTE_RE.fullmatch(name)
        or ".." in name
        or name.endswith((".", ".lock"))
    ):
        raise InvalidRemoteError(
            f"invalid remote name {name!r}: use 1-40 of A-Z a-z 0-9 _ . -, "
            "starting with a letter or digit"
        )
    return name


def _check_url(url: str) -> str:
    if not isinstance(url, str) or not url.strip() or any(c in url for c in "\0\n\r"):
        raise InvalidRemoteError("the remote URL is empty or holds control characters")
    if "://" in url:
        netloc = urllib.parse.urlsplit(url).netloc
        userinfo = netloc.rpartition("@")[0]
        if ":" in userinfo:
            raise InvalidRemoteError(
                f"refusing to store a password in the ledger's config ({redact_url(url)}): "
                "use an SSH key or a git credential helper"
            )
    return url


def machine_name(repo: pygit2.Repository) -> str:
    """This machine's name in divergent copies: ``ledger.machine``, else the host name."""
    try:
        raw = str(repo.config[MACHINE_KEY])
    except KeyError:
        raw = socket.gethostname().split(".")[0]
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-_")[:40]
    return name or "machine"


def _copy_name(ref: str, origin: str, tip: bytes) -> str:
    """Where ``origin``'s divergent history of ``ref`` is kept: ``<ref>--from-<origin>-<tip>``."""
    suffix = f"--from-{origin}-{tip.hex()[:8]}"
    if ref.startswith(SESSION_REF_PREFIX):
        sid = ref[len(SESSION_REF_PREFIX) :]
        sid = sid[: 128 - len(suffix)].rstrip(".")
        return SESSION_REF_PREFIX + validate_session_id(sid + suffix)
    return ref + suffix


def _copy_prefix(ref: str, origin: str) -> str:
    if ref.startswith(SESSION_REF_PREFIX):
        suffix = f"--from-{origin}-"
        sid = ref[len(SESSION_REF_PREFIX) :]
        return SESSION_REF_PREFIX + sid[: 128 - len(suffix) - 8].rstrip(".") + suffix
    return ref + f"--from-{origin}-"


def _is_ledger_ref(name: str) -> bool:
    return name.startswith(SESSION_REF_PREFIX) or name.startswith(LEDGER_REF_PREFIX)


# -- remotes -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RemoteInfo:
    """A remote of the ledger, as ``git ledger remote list`` shows it."""

    name: str
    url: str  # without userinfo
    auto_push: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _open(ledger_dir: str | os.PathLike[str] | None) -> LedgerStore:
    return LedgerStore(resolve_ledger_dir(ledger_dir))


def _fetch_specs(name: str) -> list[str]:
    # The staging namespace mirrors the remote like refs/remotes/* does, so it follows the
    # remote even if the remote was rewound; ledger refs themselves are never forced.
    stage = f"{STAGING_PREFIX}{name}/"
    return [
        f"+{SESSION_REF_PREFIX}*:{stage}sessions/*",
        f"+{LEDGER_REF_PREFIX}*:{stage}ledger/*",
    ]


def add_remote(
    ledger_dir: str | os.PathLike[str] | None, name: str, url: str, *, auto_push: bool = False
) -> RemoteInfo:
    """Add a remote whose fetch and push refspecs cover only the ledger's refs.

    Raises:
        InvalidRemoteError: a bad name, a name already in use, or a URL with a password.
    """
    validate_remote_name(name)
    _check_url(url)
    store = LedgerStore(resolve_ledger_dir(ledger_dir), create=True, durable=False)
    repo = store.repo
    if name in _names(repo):
        raise InvalidRemoteError(f"remote {name} already exists")
    specs = _fetch_specs(name)
    try:
        repo.remotes.create(name, url, specs[0])
        repo.remotes.add_fetch(name, specs[1])
        # No remote.<name>.push refspecs: libgit2's fetch also applies those, in reverse,
        # and would force-update local session refs. Pushes name their refspecs instead.
        if auto_push:
            repo.config[AUTO_PUSH_KEY] = name
    except pygit2.GitError as exc:
        raise InvalidRemoteError(_redact_text(f"cannot add remote {name}: {exc}", url)) from exc
    return RemoteInfo(name, redact_url(url), auto_push)


def list_remotes(ledger_dir: str | os.PathLike[str] | None = None) -> list[RemoteInfo]:
    """The ledger's remotes, sorted by name."""
    repo = _open(ledger_dir).repo
    auto = _config(repo, AUTO_PUSH_KEY)
    out = []
    for name in sorted(_names(repo)):
        url = repo.remotes[name].url or ""
        out.append(RemoteInfo(name, redact_url(url), name == auto))
    return out


def remove_remote(ledger_dir: str | os.PathLike[str] | None, name: str) -> None:
    """Remove a remote and its staging refs; sessions pulled from it stay."""
    repo = _open(ledger_dir).repo
    _remote_url(repo, name)
    try:
        repo.remotes.delete(name)
    except pygit2.GitError as exc:
        raise SyncError(f"cannot remove remote {name}: {_redact_text(str(exc))}") from exc
    for ref in list(repo.references):
        if ref.startswith(f"{STAGING_PREFIX}{name}/"):
            with contextlib.suppress(KeyError, pygit2.GitError):
                repo.references.delete(ref)
    if _config(repo, AUTO_PUSH_KEY) == name:
        del repo.config[AUTO_PUSH_KEY]


def _names(repo: pygit2.Repository) -> list[str]:
    return sorted(n for n in repo.remotes.names() if n)


def _target(ref: pygit2.Reference) -> bytes:
    target = ref.resolve().target
    return bytes.fromhex(target) if isinstance(target, str) else bytes(target.raw)


def _config(repo: pygit2.Repository, key: str) -> str | None:
    try:
        return str(repo.config[key])
    except KeyError:
        return None


def _remote_url(repo: pygit2.Repository, name: str) -> str:
    validate_remote_name(name)
    if name not in _names(repo):
        known = ", ".join(sorted(_names(repo))) or "none"
        raise InvalidRemoteError(f"no remote named {name} (known: {known})")
    remote = repo.remotes[name]
    return str(remote.push_url or remote.url or "")


def _fetch_url(repo: pygit2.Repository, name: str) -> str:
    return str(repo.remotes[name].url or "")


def _is_local(url: str) -> bool:
    return url.startswith("file://") or (
        "://" not in url and (url.startswith(("/", ".", "~")) or ":" not in url)
    )


def _transport(repo: pygit2.Repository, url: str) -> pygit2.Remote:
    """A fresh, anonymous remote: only the refspecs we pass apply, none from the config."""
    return repo.remotes.create_anonymous(url)


def _pick_remote(repo: pygit2.Repository, name: str | None) -> str:
    if name:
        return name
    names = sorted(_names(repo))
    auto = _config(repo, AUTO_PUSH_KEY)
    if auto in names:
        return str(auto)
    if len(names) == 1:
        return names[0]
    if "origin" in names:
        return "origin"
    if not names:
        raise InvalidRemoteError("the ledger has no remote: git ledger remote add NAME URL")
    raise InvalidRemoteError(f"name the remote: one of {', '.join(names)}")


# -- credentials and transport callbacks ---------------------------------------------------
def _credential(action: str, fields: dict[str, str], interactive: bool) -> dict[str, str]:
    """Run ``git credential <action>``; an empty dict when git or the helper has nothing."""
    text = "".join(f"{k}={v}\n" for k, v in fields.items()) + "\n"
    try:
        proc = run_git(
            None,
            "credential",
            action,
            input=text,
            check=False,
            interactive=interactive,
            timeout=120 if interactive else 20,
        )
    except (GitUnavailableError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode != 0:
        return {}
    out = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


class _Callbacks(pygit2.RemoteCallbacks):
    """Credentials from the usual places, per-ref push status, remote messages."""

    def __init__(self, url: str, interactive: bool) -> None:
        super().__init__()
        self.url = url
        self.interactive = interactive
        self.updates: dict[str, str | None] = {}
        self.remote_text: list[str] = []
        self.helper: dict[str, str] = {}
        self._ssh_tries = 0
        self._pass_tries = 0

    def credentials(self, url: str, username_from_url: str | None, allowed_types: Any) -> Any:
        kinds = pygit2.enums.CredentialType
        user = username_from_url or "git"
        if allowed_types & kinds.USERNAME:
            return pygit2.Username(user)
        if allowed_types & kinds.SSH_KEY:
            self._ssh_tries += 1
            if self._ssh_tries == 1 and os.environ.get("SSH_AUTH_SOCK"):
                return pygit2.KeypairFromAgent(user)
            keys = _ssh_keys()
            index = self._ssh_tries - (2 if os.environ.get("SSH_AUTH_SOCK") else 1)
            if 0 <= index < len(keys):
                private = keys[index]
                return pygit2.Keypair(user, f"{private}.pub", str(private), "")
            raise SyncError(f"SSH authentication to {redact_url(url)} failed (agent and keys)")
        if allowed_types & kinds.USERPASS_PLAINTEXT:
            self._pass_tries += 1
            if self._pass_tries > 1:
                if self.helper:
                    _credential("reject", self.helper, self.interactive)
                    self.helper = {}
                raise SyncError(f"authentication to {redact_url(url)} failed")
            if self.helper:  # what worked for the previous connection of this operation
                return pygit2.UserPass(self.helper["username"], self.helper["password"])
            fields = {"url": url}
            if username_from_url:
                fields["username"] = username_from_url
            got = _credential("fill", fields, self.interactive)
            if "username" in got and "password" in got:
                self.helper = got
                return pygit2.UserPass(got["username"], got["password"])
            raise SyncError(
                f"{redact_url(url)} asks for a login and no git credential helper gave one"
            )
        raise SyncError(f"{redact_url(url)} asks for credentials git-ledger cannot provide")

    def __setattr__(self, name: str, value: Any) -> None:
        # pygit2 plugs in a certificate callback that, passed through, accepts any SSH host
        # key. Unplugged, libgit2 checks for itself: the CA store for HTTPS, and
        # ~/.ssh/known_hosts for SSH, refusing a host that is unknown or changed its key.
        if name == "remote_callbacks":
            value.certificate_check = ffi.NULL
        elif name in ("push_options", "fetch_options"):
            value.callbacks.certificate_check = ffi.NULL
        super().__setattr__(name, value)

    def connection(self) -> _Callbacks:
        """Start counting authentication attempts afresh for a new connection."""
        self._ssh_tries = 0
        self._pass_tries = 0
        return self

    def push_update_reference(self, refname: str, message: str | None) -> None:
        self.updates[refname] = message

    def sideband_progress(self, string: str) -> None:
        self.remote_text.append(string)

    def approve(self) -> None:
        """Tell the credential helper that what it gave worked."""
        if self.helper:
            _credential("approve", self.helper, self.interactive)


def _ssh_keys() -> list[Path]:
    home = Path(os.path.expanduser("~")) / ".ssh"
    names = ("id_ed25519", "id_ecdsa", "id_rsa")
    return [home / n for n in names if (home / n).is_file() and (home / f"{n}.pub").is_file()]


def _remote_messages(cb: _Callbacks) -> str:
    text = "".join(cb.remote_text)
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    return _redact_text("; ".join(lines[-5:]), cb.url)


# -- push ----------------------------------------------------------------------------------
@dataclasses.dataclass
class PushResult:
    """What a push did, ref by ref (ref names are the remote's)."""

    remote: str
    url: str
    pushed: list[str] = dataclasses.field(default_factory=list)
    up_to_date: int = 0
    remote_ahead: list[str] = dataclasses.field(default_factory=list)
    diverged: dict[str, str] = dataclasses.field(default_factory=dict)
    rejected: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the remote accepted every update that was sent."""
        return not self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


def _local_refs(repo: pygit2.Repository, exclude_origin: str | None) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    marker = f"--from-{exclude_origin}-" if exclude_origin else None
    for ref in repo.references.iterator():
        name = ref.name
        if not _is_ledger_ref(name):
            continue
        if marker and marker in name:
            continue  # a copy of what that remote holds: never sent back to it
        try:
            out[name] = _target(ref)
        except (pygit2.GitError, KeyError):
            continue
    return out


def _descends(repo: pygit2.Repository, new: bytes, old: bytes) -> bool:
    """True when ``new`` has ``old`` in its history (both must be here)."""
    try:
        return bool(repo.descendant_of(pygit2.Oid(raw=new), pygit2.Oid(raw=old)))
    except (pygit2.GitError, KeyError, ValueError):
        return False


def _has(repo: pygit2.Repository, oid: bytes) -> bool:
    return pygit2.Oid(raw=oid) in repo.odb


def _unsendable(repo: pygit2.Repository, ref: str, oid: bytes) -> str | None:
    if not ref.startswith(SESSION_REF_PREFIX):
        return None
    try:
        validate_session_id(ref[len(SESSION_REF_PREFIX) :])
    except LedgerError:
        return "not a valid session id"
    obj = repo.get(pygit2.Oid(raw=oid))
    if not isinstance(obj, pygit2.Commit):
        return "does not point at a commit"
    return None


def _plan_push(
    repo: pygit2.Repository,
    local: dict[str, bytes],
    theirs: dict[str, bytes],
    origin: str,
    result: PushResult,
) -> list[tuple[str, str]]:
    plan: list[tuple[str, str]] = []
    for ref in sorted(local):
        mine = local[ref]
        there = theirs.get(ref)
        if there == mine:
            result.up_to_date += 1
            continue
        why = _unsendable(repo, ref, mine)
        if why:
            result.skipped[ref] = why  # would make the guard refuse its whole batch
        elif there is None or _descends(repo, mine, there):
            plan.append((ref, ref))
        elif _has(repo, there) and _descends(repo, there, mine):
            result.remote_ahead.append(ref)
        else:
            # Same name, different history: send ours beside theirs under a name of its
            # own, continuing an earlier copy of ours if the remote already has one.
            prefix = _copy_prefix(ref, origin)
            target = None
            for name, oid in theirs.items():
                if name.startswith(prefix) and (oid == mine or _descends(repo, mine, oid)):
                    target = name
                    break
            target = target or _copy_name(ref, origin, mine)
            result.diverged[ref] = target
            if theirs.get(target) == mine:
                result.up_to_date += 1
            else:
                plan.append((ref, target))
    return plan


def push(
    ledger_dir: str | os.PathLike[str] | None = None,
    remote: str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
    interactive: bool = True,
) -> PushResult:
    """Send every session (and ``refs/ledger/*``) the remote lacks, in batches.

    Refs the remote already has are skipped, so a push that failed part-way is finished by
    the next one; each batch is one pack and lands whole or not at all. Nothing is forced:
    a ref whose remote history differs from ours is sent under a name of its own
    (``<ref>--from-<machine>-<tip>``) and listed in ``diverged``.

    Args:
        ledger_dir: the ledger (resolved as everywhere).
        remote: the remote's name (default: ``ledger.autoPush``, the only remote, or origin).
        batch_size: refs per pack sent; smaller batches lose less to an interruption.
        progress: called with (refs sent, refs to send) after each batch.
        interactive: allow a credential helper to prompt on the terminal.

    Raises:
        InvalidRemoteError: no such remote.
        SyncError: the remote cannot be reached, or a batch failed (what was sent before
            it stays valid on the remote).
    """
    if batch_size < 1:
        raise InvalidRemoteError("batch size must be at least 1")
    store = _open(ledger_dir)
    repo = store.repo
    name = _pick_remote(repo, remote)
    url = _remote_url(repo, name)
    result = PushResult(name, redact_url(url))
    if _is_local(url):
        # libgit2 writes a local remote from this process, objects and refs interleaved:
        # fsync each write as a git server would, rather than flush afterwards.
        enable_fsync()
    cb = _Callbacks(url, interactive)
    try:
        heads = _transport(repo, url).list_heads(callbacks=cb.connection())
    except pygit2.GitError as exc:
        raise SyncError(_redact_text(f"cannot reach {name} ({url}): {exc}", url)) from exc
    theirs = {h.name: bytes(h.oid.raw) for h in heads if h.name and _is_ledger_ref(h.name)}
    local = _local_refs(repo, exclude_origin=name)
    unknown = [
        r for r in local if r in theirs and theirs[r] != local[r] and not _has(repo, theirs[r])
    ]
    if unknown:
        # The remote holds history of ours that we have never seen: fetch it (into staging
        # only) to tell "the remote is ahead" from "the histories diverged".
        _fetch(
            repo,
            name,
            _fetch_url(repo, name),
            cb,
            _fetch_specs(name)
            if len(unknown) > 100
            else [spec for ref in unknown for spec in _specs_for(name, ref)],
        )
    plan = _plan_push(repo, local, theirs, machine_name(repo), result)
    done = 0
    for start in range(0, len(plan), batch_size):
        chunk = plan[start : start + batch_size]
        cb.updates.clear()
        cb.remote_text.clear()
        try:
            # A fresh Remote per batch: libgit2 will not push on a connection opened to list.
            _transport(repo, url).push(
                [f"{src}:{dst}" for src, dst in chunk], callbacks=cb.connection()
            )
        except pygit2.GitError as exc:
            said = _remote_messages(cb)
            raise SyncError(
                _redact_text(
                    f"push to {name} ({url}) failed after {done} of {len(plan)} refs: {exc}"
                    + (f" (remote: {said})" if said else "")
                    + "; what was sent is kept, push again to finish",
                    url,
                )
            ) from exc
        for _src, dst in chunk:
            if dst not in cb.updates:
                result.rejected[dst] = "no status from the remote"
            elif cb.updates[dst] is None:
                result.pushed.append(dst)
            else:
                result.rejected[dst] = _redact_text(str(cb.updates[dst]), url)
        if any(dst in result.rejected for _s, dst in chunk):
            said = _remote_messages(cb)
            if said:
                for _s, dst in chunk:
                    if dst in result.rejected:
                        result.rejected[dst] += f" (remote: {said})"
        done += len(chunk)
        if progress is not None:
            progress(done, len(plan))
    cb.approve()
    return result


# -- pull ----------------------------------------------------------------------------------
@dataclasses.dataclass
class PullResult:
    """What a pull did to the local ledger, ref by ref."""

    remote: str
    url: str
    created: list[str] = dataclasses.field(default_factory=list)
    fast_forwarded: list[str] = dataclasses.field(default_factory=list)
    up_to_date: int = 0
    local_ahead: list[str] = dataclasses.field(default_factory=list)
    diverged: dict[str, str] = dataclasses.field(default_factory=dict)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every incoming ref was taken in (skipped ones are retried next pull)."""
        return not self.skipped

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


def _specs_for(name: str, ref: str) -> list[str]:
    """The refspec fetching one ledger ref into the remote's staging namespace."""
    stage = f"{STAGING_PREFIX}{name}/"
    if ref.startswith(SESSION_REF_PREFIX):
        return [f"+{ref}:{stage}sessions/{ref[len(SESSION_REF_PREFIX) :]}"]
    return [f"+{ref}:{stage}ledger/{ref[len(LEDGER_REF_PREFIX) :]}"]


def _fetch(
    repo: pygit2.Repository,
    name: str,
    url: str,
    cb: _Callbacks,
    specs: list[str],
    prune: bool = False,
) -> None:
    try:
        _transport(repo, url).fetch(
            specs,
            message=f"ledger: fetch {name}",
            callbacks=cb.connection(),
            prune=pygit2.enums.FetchPrune.PRUNE if prune else pygit2.enums.FetchPrune.NO_PRUNE,
        )
    except pygit2.GitError as exc:
        raise SyncError(_redact_text(f"cannot fetch from {name} ({url}): {exc}", url)) from exc
    finally:
        # libgit2 records the URL, userinfo and all, in FETCH_HEAD; the ledger needs none of it.
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(repo.path, "FETCH_HEAD"))


class _RefMoved(Exception):
    pass


def _cas_ref(
    repo: pygit2.Repository, ref: str, new: bytes, expected: bytes | None, msg: str
) -> bool:
    """Compare-and-swap any ref inside a libgit2 transaction (refs without a session lock)."""
    try:
        with repo.transaction() as tx:
            tx.lock_ref(ref)
            current = repo.references.get(ref)
            now = _target(current) if current is not None else None
            if now != expected:
                raise _RefMoved
            tx.set_target(ref, pygit2.Oid(raw=new), None, msg)
    except _RefMoved:
        return False
    except pygit2.GitError as exc:
        raise SyncError(f"cannot update {ref}: {exc}") from exc
    return True


class _Puller:
    def __init__(self, store: LedgerStore, name: str, result: PullResult, timeout: float):
        self.store = store
        self.repo = store.repo
        self.name = name
        self.result = result
        self.timeout = timeout
        self.msg = f"ledger: pull {name}"
        self.local = _local_refs(self.repo, exclude_origin=None)

    @contextlib.contextmanager
    def _locked(self, ref: str) -> Iterator[None]:
        if ref.startswith(SESSION_REF_PREFIX):
            with self.store.session_lock(ref[len(SESSION_REF_PREFIX) :], self.timeout):
                yield
        else:
            yield

    def _tip(self, ref: str) -> bytes | None:
        found = self.repo.references.get(ref)
        return _target(found) if found is not None else None

    def _swap(self, ref: str, new: bytes, expected: bytes | None) -> bool:
        if ref.startswith(SESSION_REF_PREFIX):
            sid = ref[len(SESSION_REF_PREFIX) :]
            return self.store.compare_and_swap(sid, new, expected, self.msg)
        return _cas_ref(self.repo, ref, new, expected, self.msg)

    def take(self, ref: str, theirs: bytes) -> None:
        """Bring one incoming ref into the ledger without moving any ref backwards."""
        result = self.result
        if self.local.get(ref) == theirs:
            # Already here; a writer can only have moved it forward since. No lock needed.
            result.up_to_date += 1
            return
        try:
            with self._locked(ref):
                mine = self._tip(ref)
                if mine == theirs:
                    result.up_to_date += 1
                    return
                if mine is None or _descends(self.repo, theirs, mine):
                    if not self._swap(ref, theirs, mine):
                        result.skipped[ref] = "moved by a local writer during the pull"
                    elif mine is None:
                        result.created.append(ref)
                    else:
                        result.fast_forwarded.append(ref)
                    return
                if _descends(self.repo, mine, theirs):
                    result.local_ahead.append(ref)
                    return
            self._keep_copy(ref, theirs)
        except LockTimeoutError:
            result.skipped[ref] = "a local writer holds the session; pull again later"

    def _keep_copy(self, ref: str, theirs: bytes) -> None:
        prefix = _copy_prefix(ref, self.name)
        target = None
        for name, oid in self.local.items():
            if name.startswith(prefix) and (oid == theirs or _descends(self.repo, theirs, oid)):
                target = name
                break
        target = target or _copy_name(ref, self.name, theirs)
        self.result.diverged[ref] = target
        with self._locked(target):
            mine = self._tip(target)
            if mine == theirs:
                return
            if mine is not None and not _descends(self.repo, theirs, mine):
                self.result.skipped[ref] = f"{target} exists with other history"
                return
            if self._swap(target, theirs, mine):
                self.local[target] = theirs
            else:
                self.result.skipped[ref] = f"{target} moved during the pull"


def pull(
    ledger_dir: str | os.PathLike[str] | None = None,
    remote: str | None = None,
    *,
    lock_timeout: float = 10.0,
    interactive: bool = True,
) -> PullResult:
    """Fetch the remote's ledger refs into staging, then fast-forward local ones.

    Incoming refs are fetched to ``refs/ledger-remotes/<remote>/``; each local session ref
    then moves only forward, by compare-and-swap under the session's writer lock. A session
    whose local and remote histories differ keeps both: the remote's goes to
    ``<id>--from-<remote>-<tip>`` (listed in ``diverged``).

    Raises:
        InvalidRemoteError: no such remote.
        SyncError: the remote cannot be reached or the fetch failed.
    """
    store = _open(ledger_dir)
    repo = store.repo
    name = _pick_remote(repo, remote)
    url = _remote_url(repo, name)
    result = PullResult(name, redact_url(url))
    cb = _Callbacks(url, interactive)
    _fetch(repo, name, _fetch_url(repo, name), cb, _fetch_specs(name), prune=True)
    cb.approve()
    # The fetched objects (and staging refs) reach the disk before any session ref of
    # ours points at them.
    sync_filesystem(store.path)
    stage = f"{STAGING_PREFIX}{name}/"
    puller = _Puller(store, name, result, lock_timeout)
    machine = machine_name(repo)
    incoming: list[tuple[str, bytes]] = []
    for ref in repo.references.iterator():
        if not ref.name.startswith(stage):
            continue
        rest = ref.name[len(stage) :]
        if rest.startswith("sessions/"):
            local_name = SESSION_REF_PREFIX + rest[len("sessions/") :]
        elif rest.startswith("ledger/"):
            local_name = LEDGER_REF_PREFIX + rest[len("ledger/") :]
        else:
            continue
        incoming.append((local_name, _target(ref)))
    for local_name, theirs in sorted(incoming):
        if local_name.startswith(SESSION_REF_PREFIX):
            try:
                validate_session_id(local_name[len(SESSION_REF_PREFIX) :])
            except LedgerError:
                result.skipped[local_name] = "not a valid session id"
                continue
        if _own_copy(repo, local_name, theirs, machine):
            result.up_to_date += 1  # our own diverged session, as we pushed it
            continue
        puller.take(local_name, theirs)
    if result.created or result.fast_forwarded or result.diverged:
        sync_filesystem(store.path)
    return result


def _own_copy(repo: pygit2.Repository, ref: str, theirs: bytes, machine: str) -> bool:
    """True for ``<ref>--from-<this machine>-*`` holding history our ``<ref>`` has."""
    base, sep, _tip = ref.rpartition(f"--from-{machine}-")
    if not sep:
        return False
    found = repo.references.get(base)
    if found is None:
        return False
    mine = _target(found)
    return mine == theirs or _descends(repo, mine, theirs)


# -- a central ledger and its guard --------------------------------------------------------
def guard_script() -> str:
    """The text of the pre-receive guard shipped in ``hooks/pre-receive``."""
    folder = hooks_folder("pre-receive")
    if folder is not None:
        return (folder / "pre-receive").read_text(encoding="utf-8")
    raise SyncError("the pre-receive guard is missing from this installation of git-ledger")


def _hooks_dir(repo: pygit2.Repository) -> Path:
    base = Path(repo.path)
    configured = _config(repo, "core.hooksPath")
    if configured:
        path = Path(os.path.expanduser(configured))
        return path if path.is_absolute() else (Path(repo.workdir) if repo.workdir else base) / path
    return base / "hooks"


def install_guard(repo_path: str | os.PathLike[str]) -> Path:
    """Install the pre-receive guard in a (central) repository; return the hook's path.

    A pre-receive hook already there that is not ours is moved to
    ``pre-receive.before-ledger`` and still runs after the guard accepts a push.
    Re-installing replaces an older guard.
    """
    try:
        repo = pygit2.Repository(os.fspath(repo_path))
    except pygit2.GitError as exc:
        raise LedgerLocationError(f"{repo_path} is not a git repository") from exc
    hooks = _hooks_dir(repo)
    text = guard_script()
    target = hooks / "pre-receive"
    try:
        hooks.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            current = target.read_text(encoding="utf-8", errors="replace")
            if GUARD_MARK not in current:
                aside = hooks / GUARD_CHAINED
                if aside.exists():
                    raise SyncError(
                        f"both {target} and {aside} exist; move one away and install again"
                    )
                os.rename(target, aside)
        fd, tmp = tempfile.mkstemp(prefix=".pre-receive.", dir=hooks)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    except OSError as exc:
        raise SyncError(f"cannot install the guard in {hooks}: {exc}") from exc
    return target


def init_central(path: str | os.PathLike[str]) -> Path:
    """Create (or convert) a bare repository at ``path`` to be a central ledger.

    It gets the ledger's settings, refuses non-fast-forwards and deletions in git itself
    (``receive.denyNonFastForwards``, ``receive.denyDeletes``), checks every object it
    receives, and has the pre-receive guard installed. Idempotent.
    """
    target = Path(os.path.expanduser(os.fspath(path))).absolute()
    if target.exists() and any(target.iterdir()) and not is_ledger(target):
        try:
            repo = pygit2.Repository(str(target))
        except pygit2.GitError as exc:
            raise LedgerLocationError(f"{target} exists and is not a git repository") from exc
        if not repo.is_bare:
            raise LedgerLocationError(f"{target} is not a bare repository")
        for key, value in LEDGER_CONFIG.items():
            repo.config[key] = value
    else:
        ensure_ledger(target)
        repo = pygit2.Repository(str(target))
    for key, value in CENTRAL_CONFIG.items():
        repo.config[key] = value
    install_guard(target)
    return target


# -- automatic background push -------------------------------------------------------------
def auto_push_remote(ledger_dir: str | os.PathLike[str] | None = None) -> str | None:
    """The remote named by ``ledger.autoPush`` in the ledger's config, if any."""
    path = resolve_ledger_dir(ledger_dir)
    config = path / "config"
    if not config.is_file():
        return None
    try:
        value = pygit2.Config(str(config))[AUTO_PUSH_KEY]
    except (KeyError, pygit2.GitError):
        return None
    return str(value) or None


def _lock_path(ledger: Path, name: str) -> Path:
    folder = ledger / LOCK_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / name


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def push_in_background(
    ledger_dir: str | os.PathLike[str] | None = None, remote: str | None = None
) -> bool:
    """Start a detached push to ``remote`` (default ``ledger.autoPush``) and return at once.

    Single-flight: a push already running for this ledger takes the request over (it runs
    once more when it finishes) instead of a second one starting. The worker holds an
    ``flock`` that dies with it. Results and errors go to ``<ledger>/ledger-sync.log``.
    Never raises; returns True when a push was started or queued, False when no remote is
    configured or the ledger does not exist.
    """
    try:
        path = resolve_ledger_dir(ledger_dir)
        name = remote or auto_push_remote(path)
        if not name or not is_ledger(path):
            return False
        validate_remote_name(name)
        _lock_path(path, PUSH_PENDING).touch()
        fd = _try_lock(_lock_path(path, PUSH_LOCK))
        if fd is None:
            return True  # the running push will see the pending mark
        os.close(fd)
        return start_worker("push", str(path), name)
    except Exception:  # never let a background push break the caller
        return False


def _log_line(path: Path, text: str) -> None:
    log = path / SYNC_LOG
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with contextlib.suppress(OSError):
        if log.exists() and log.stat().st_size > SYNC_LOG_MAX_BYTES:
            os.replace(log, path / (SYNC_LOG + ".1"))
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} pid={os.getpid()} {text}\n")


def background_push(path: Path, name: str) -> int:
    """The worker of :func:`push_in_background`: push while pushes are pending."""
    lock = _lock_path(path, PUSH_LOCK)
    pending = _lock_path(path, PUSH_PENDING)
    code = 0
    while True:
        fd = _try_lock(lock)
        if fd is None:
            return code  # another worker runs and will see the pending mark
        try:
            with contextlib.suppress(OSError):  # who holds it, for people and tests
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            rounds = 0
            while pending.exists() and rounds < 10:
                rounds += 1
                with contextlib.suppress(FileNotFoundError):
                    pending.unlink()
                try:
                    res = push(path, name, interactive=False)
                    _log_line(
                        path,
                        f"push {name}: {len(res.pushed)} sent, {res.up_to_date} up to date, "
                        f"{len(res.diverged)} diverged, {len(res.rejected)} rejected",
                    )
                    code = 0 if res.ok else 1
                except LedgerError as exc:
                    _log_line(path, f"push {name} failed: {_redact_text(str(exc))}")
                    code = 1
        finally:
            os.close(fd)
        # A request that arrived after our last check but before the unlock finds the lock
        # taken and leaves only its mark: take the lock again for it.
        if not pending.exists():
            return code
