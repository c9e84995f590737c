"""Which repository a piece of work belongs to, read from git's files without pygit2.

Every entry names its repository (the workspace root, the remote URL without credentials,
the HEAD commit), so that the same path in two projects is never mixed up. The agent hook's
fast path reads these too, so this module uses the standard library only.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def git_dirs(start: str) -> tuple[str, str, str] | None:
    """(work tree, git dir, common dir) of the repository around ``start``, read from files."""
    here = os.path.abspath(start)
    while True:
        dot = os.path.join(here, ".git")
        if os.path.isdir(dot):
            return here, dot, dot
        if os.path.isfile(dot):
            try:
                with open(dot, encoding="utf-8") as fh:
                    line = fh.readline().strip()
            except OSError:
                return None
            if not line.startswith("gitdir:"):
                return None
            gitdir = os.path.normpath(os.path.join(here, line[7:].strip()))
            common = gitdir
            try:
                with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as fh:
                    common = os.path.normpath(os.path.join(gitdir, fh.read().strip()))
            except OSError:
                pass
            return here, gitdir, common
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9.-]+)\s*(\"[^\"]*\")?\s*\]\s*$")


def config_value(config: str, section: str, key: str) -> str | bool | None:
    """A simple ``[section] key = value`` from a git config file; True when it cannot say."""
    try:
        with open(config, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    current, value = "", None
    for line in text.splitlines():
        found = _SECTION.match(line)
        if found:
            current = found.group(1).lower() + (found.group(2) or "")
            if current.startswith("include"):
                return True  # includes: let git itself answer
            continue
        name, sep, rest = line.partition("=")
        if sep and current == section and name.strip().lower() == key:
            value = rest.strip().strip('"')
    return value


def _read_ref(gitdir: str, common: str, ref: str) -> str | None:
    for base in (gitdir, common):
        try:
            with open(os.path.join(base, ref), encoding="utf-8") as fh:
                return fh.read().strip() or None
        except OSError:
            continue
    try:
        with open(os.path.join(common, "packed-refs"), encoding="utf-8") as fh:
            for line in fh:
                oid, _, name = line.strip().partition(" ")
                if name == ref:
                    return oid
    except OSError:
        pass
    return None


def repo_facts(cwd: str) -> dict[str, Any]:
    """The workspace root and HEAD commit of the repository around ``cwd`` ({} outside one)."""
    dirs = git_dirs(cwd)
    if dirs is None:
        return {}
    work, gitdir, common = dirs
    facts: dict[str, Any] = {"root": work, "git_dir": gitdir}
    try:
        with open(os.path.join(gitdir, "HEAD"), encoding="utf-8") as fh:
            head = fh.read().strip()
    except OSError:
        return facts
    if head.startswith("ref: "):
        ref = head[5:].strip()
        facts["branch"] = ref.removeprefix("refs/heads/")
        oid = _read_ref(gitdir, common, ref)
    else:
        oid = head
    if oid and re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", oid):
        facts["head"] = oid
    return facts


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


def normalise_url(url: str, base: str) -> str:
    """A remote URL fit to store: no credentials, a local path made absolute against ``base``."""
    url = url.strip()
    if not url:
        return url
    if "://" in url:
        return strip_credentials(url)
    if re.match(r"^[A-Za-z0-9._-]+@[^:/]+:", url) or re.match(r"^[^/:]{2,}:", url):
        return url  # scp-like ssh form: user@host:path or host:path
    if url.startswith("file:"):
        return url
    return os.path.normpath(os.path.join(base, os.path.expanduser(url)))


def remote_url(cwd: str, remote: str = "origin") -> str | None:
    """The normalised URL of ``remote`` of the repository around ``cwd`` (any remote if none)."""
    dirs = git_dirs(cwd)
    if dirs is None:
        return None
    work, _gitdir, common = dirs
    config = os.path.join(common, "config")
    value = config_value(config, f'remote"{remote}"', "url")
    if not isinstance(value, str):
        value = first_remote_url(config)
    return normalise_url(value, work) if value else None


def first_remote_url(config: str) -> str | None:
    try:
        with open(config, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    found = re.search(r'^\s*\[remote "[^"]*"\][^\[]*?^\s*url\s*=\s*(.+?)\s*$', text, re.M | re.S)
    return found.group(1).strip('"') if found else None


def identity(cwd: str, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"root", "remote", "head", "branch"}`` of the repository around ``cwd`` ({} outside).

    ``facts``: what the hook already read at event time (root, HEAD); the remote is added.
    """
    found = dict(facts) if facts else repo_facts(cwd)
    if not found.get("root"):
        return {}
    out: dict[str, Any] = {"root": found["root"]}
    url = remote_url(str(found["root"]))
    if url:
        out["remote"] = url
    for key in ("head", "branch"):
        if found.get(key):
            out[key] = found[key]
    return out
