"""Talking to a remote: credentials, certificate checks, and the fetch under push and pull.

Every connection is an anonymous libgit2 remote, so only the refspecs passed in apply.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pygit2
from pygit2.ffi import ffi

from ledger._git import run_git
from ledger.errors import GitUnavailableError, SyncError
from ledger.sync.remotes import redact_text, redact_url


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


class Callbacks(pygit2.RemoteCallbacks):
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

    def connection(self) -> Callbacks:
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


def remote_messages(cb: Callbacks) -> str:
    """The last lines the remote sent on this connection, without credentials."""
    text = "".join(cb.remote_text)
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    return redact_text("; ".join(lines[-5:]), cb.url)


def anonymous_remote(repo: pygit2.Repository, url: str) -> pygit2.Remote:
    """A fresh, anonymous remote: only the refspecs we pass apply, none from the config."""
    return repo.remotes.create_anonymous(url)


def fetch_refs(
    repo: pygit2.Repository,
    name: str,
    url: str,
    cb: Callbacks,
    specs: list[str],
    prune: bool = False,
) -> None:
    """Fetch ``specs`` from ``url``; SyncError (without credentials) when it fails."""
    try:
        anonymous_remote(repo, url).fetch(
            specs,
            message=f"ledger: fetch {name}",
            callbacks=cb.connection(),
            prune=pygit2.enums.FetchPrune.PRUNE if prune else pygit2.enums.FetchPrune.NO_PRUNE,
        )
    except pygit2.GitError as exc:
        raise SyncError(redact_text(f"cannot fetch from {name} ({url}): {exc}", url)) from exc
    finally:
        # libgit2 records the URL, userinfo and all, in FETCH_HEAD; the ledger needs none of it.
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(repo.path, "FETCH_HEAD"))
