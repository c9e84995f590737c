"""The ledger's remotes: add, list and remove them, pick one, and name this machine.

URLs are checked before they are stored (no credential in any part of them, see
``ledger.sync.urlcheck``) and shown without their userinfo.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
import urllib.parse
from typing import Any

import pygit2

from ledger._layout import STAGING_PREFIX
from ledger._store import LedgerStore
from ledger.errors import InvalidRemoteError, SyncError
from ledger.location import resolve_ledger_dir
from ledger.sync.refs import fetch_specs
from ledger.sync.urlcheck import refuse_credentials

AUTO_PUSH_KEY = "ledger.autoPush"
MACHINE_KEY = "ledger.machine"
_REMOTE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def redact_url(url: str) -> str:
    """The URL without its userinfo (``https://user:token@host/x`` -> ``https://host/x``)."""
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        if "@" in parts.netloc:
            host = parts.netloc.rpartition("@")[2]
            return urllib.parse.urlunsplit(parts._replace(netloc=host))
        return url
    return url  # scp-like "user@host:path" carries a login name, never a secret


def redact_text(text: str, *urls: str) -> str:
    """``text`` with every URL in it shown without its userinfo."""
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
    refuse_credentials(url)  # a password, a token as user name or in the query: never stored
    return url


def machine_name(repo: pygit2.Repository) -> str:
    """This machine's name in divergent copies: ``ledger.machine``, else the host name."""
    try:
        raw = str(repo.config[MACHINE_KEY])
    except KeyError:
        raw = socket.gethostname().split(".")[0]
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-_")[:40]
    return name or "machine"


@dataclasses.dataclass(frozen=True)
class RemoteInfo:
    """A remote of the ledger, as ``git ledger remote list`` shows it."""

    name: str
    url: str  # without userinfo
    auto_push: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def open_store(ledger_dir: str | os.PathLike[str] | None) -> LedgerStore:
    """The existing ledger (resolved as everywhere)."""
    return LedgerStore(resolve_ledger_dir(ledger_dir))


def add_remote(
    ledger_dir: str | os.PathLike[str] | None, name: str, url: str, *, auto_push: bool = False
) -> RemoteInfo:
    """Add a remote whose fetch and push refspecs cover only the ledger's refs.

    Raises:
        InvalidRemoteError: a bad name, a name already in use, or a URL with a password.
    """
    validate_remote_name(name)
    url = absolute_local_url(_check_url(url))
    store = LedgerStore(resolve_ledger_dir(ledger_dir), create=True, durable=False)
    repo = store.repo
    if name in _names(repo):
        raise InvalidRemoteError(f"remote {name} already exists")
    specs = fetch_specs(name)
    try:
        repo.remotes.create(name, url, specs[0])
        repo.remotes.add_fetch(name, specs[1])
        # No remote.<name>.push refspecs: libgit2's fetch also applies those, in reverse,
        # and would force-update local session refs. Pushes name their refspecs instead.
        if auto_push:
            repo.config[AUTO_PUSH_KEY] = name
    except pygit2.GitError as exc:
        raise InvalidRemoteError(redact_text(f"cannot add remote {name}: {exc}", url)) from exc
    return RemoteInfo(name, redact_url(url), auto_push)


def list_remotes(ledger_dir: str | os.PathLike[str] | None = None) -> list[RemoteInfo]:
    """The ledger's remotes, sorted by name."""
    repo = open_store(ledger_dir).repo
    auto = config_value(repo, AUTO_PUSH_KEY)
    out = []
    for name in sorted(_names(repo)):
        url = repo.remotes[name].url or ""
        out.append(RemoteInfo(name, redact_url(url), name == auto))
    return out


def remove_remote(ledger_dir: str | os.PathLike[str] | None, name: str) -> None:
    """Remove a remote and its staging refs; sessions pulled from it stay."""
    repo = open_store(ledger_dir).repo
    remote_url(repo, name)
    try:
        repo.remotes.delete(name)
    except pygit2.GitError as exc:
        raise SyncError(f"cannot remove remote {name}: {redact_text(str(exc))}") from exc
    for ref in list(repo.references):
        if ref.startswith(f"{STAGING_PREFIX}{name}/"):
            with contextlib.suppress(KeyError, pygit2.GitError):
                repo.references.delete(ref)
    if config_value(repo, AUTO_PUSH_KEY) == name:
        del repo.config[AUTO_PUSH_KEY]


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


def _names(repo: pygit2.Repository) -> list[str]:
    return sorted(n for n in repo.remotes.names() if n)


def config_value(repo: pygit2.Repository, key: str) -> str | None:
    """A key of the repository's config, or None when it is not set."""
    try:
        return str(repo.config[key])
    except KeyError:
        return None


def remote_url(repo: pygit2.Repository, name: str) -> str:
    """The URL pushes to remote ``name`` go to; InvalidRemoteError for an unknown name."""
    validate_remote_name(name)
    if name not in _names(repo):
        known = ", ".join(sorted(_names(repo))) or "none"
        raise InvalidRemoteError(f"no remote named {name} (known: {known})")
    remote = repo.remotes[name]
    return str(remote.push_url or remote.url or "")


def fetch_url(repo: pygit2.Repository, name: str) -> str:
    """The URL fetches from remote ``name`` come from."""
    return str(repo.remotes[name].url or "")


def absolute_local_url(url: str) -> str:
    """A local path given relative (``./central.git``, ``~/l.git``) made absolute.

    Stored relative, it would mean another folder for every command run elsewhere (and a
    background push at a session's end would fail quietly).
    """
    if not is_local_url(url) or url.startswith("file://"):
        return url
    return os.path.abspath(os.path.expanduser(url))


def is_local_url(url: str) -> bool:
    """True for a remote on this machine's file system (a path or ``file://``)."""
    return url.startswith("file://") or (
        "://" not in url and (url.startswith(("/", ".", "~")) or ":" not in url)
    )


def pick_remote(repo: pygit2.Repository, name: str | None) -> str:
    """``name``, else ``ledger.autoPush``, the only remote, or origin; else raise."""
    if name:
        return name
    names = sorted(_names(repo))
    auto = config_value(repo, AUTO_PUSH_KEY)
    if auto in names:
        return str(auto)
    if len(names) == 1:
        return names[0]
    if "origin" in names:
        return "origin"
    if not names:
        raise InvalidRemoteError("the ledger has no remote: git ledger remote add NAME URL")
    raise InvalidRemoteError(f"name the remote: one of {', '.join(names)}")
