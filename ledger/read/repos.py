"""Which repository an entry belongs to, and the scope a query narrows to (``--repo``).

Capture records the repository as ``metadata["repository"]``: a dict ``{root, remote, head,
branch}`` from the agent hooks, the workspace root as a string from older git-hook entries
(with the remote beside it as ``metadata["remote"]``). A scope matches an entry when the
workspace root is the same folder or the remote is the same repository (``https://host/a/b``,
``git@host:a/b.git`` and ``ssh://git@host/a/b`` are one). Entries that name no repository
(the API without a git workspace, older ledgers) match only a lenient scope: the default scope
of path-taking commands run inside a repository, which leaves out what is known to belong
elsewhere, like ``git log -- PATH`` leaves out other repositories.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Mapping
from typing import Any

from ledger._repoid import identity, normalise_url, strip_credentials
from ledger.errors import InvalidInputError

_SCP = re.compile(r"^(?:[A-Za-z0-9._-]+@)?([^/:]{2,}):(.*)$")


def remote_key(url: str) -> str:
    """One spelling per repository: host and path, no user, scheme, ``.git`` or slashes."""
    text = strip_credentials(url.strip())
    found = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/]*@)?([^/]*)(/.*)?$", text)
    if text.startswith("file://"):
        host, path = "", text[7:]
    elif found:
        host, path = found.group(1).lower(), found.group(2) or ""
        host = re.sub(r":\d+$", "", host) if text.startswith(("ssh", "git+ssh")) else host
    elif (scp := _SCP.match(text)) and "/" not in text.split(":", 1)[0]:
        host, path = scp.group(1).lower(), "/" + scp.group(2).lstrip("/")
    else:
        host, path = "", text
    path = path.rstrip("/")
    path = path[:-4] if path.endswith(".git") else path
    return f"{host}{path}".rstrip("/")


def _root_forms(root: str) -> frozenset[str]:
    """The spellings of a folder a recorded root may use (as given, and symlinks resolved)."""
    forms = {os.path.normpath(root)}
    with contextlib.suppress(OSError, ValueError):
        forms.add(os.path.realpath(root))
    return frozenset(forms)


def entry_repo(metadata: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(workspace root, remote key) an entry's metadata names; None for what it does not."""
    if not isinstance(metadata, Mapping):
        return None, None
    value = metadata.get("repository")
    root: Any = None
    remote: Any = metadata.get("remote")
    if isinstance(value, Mapping):
        root, remote = value.get("root"), value.get("remote")
    elif isinstance(value, str):
        root = value
    root_text = os.path.normpath(root) if isinstance(root, str) and root else None
    remote_text = remote_key(remote) if isinstance(remote, str) and remote else None
    return root_text, remote_text or None


def repo_label(root: str | None, remote: str | None) -> str | None:
    """How reports name a repository: its remote (the same on every clone), else its root."""
    return remote or root


@dataclasses.dataclass(frozen=True)
class RepoScope:
    """The repositories a query keeps: these roots, or these remotes."""

    roots: frozenset[str]
    remotes: frozenset[str]
    lenient: bool = False
    label: str = ""

    def matches(self, root: str | None, remote: str | None) -> bool:
        if root is None and remote is None:
            return self.lenient
        if root is not None and (root in self.roots or os.path.realpath(root) in self.roots):
            return True
        return remote is not None and remote in self.remotes

    def entry_ok(self, metadata: Mapping[str, Any] | None) -> bool:
        return self.matches(*entry_repo(metadata))

    def sql(self) -> tuple[str, list[Any]]:
        """The index's condition for this scope (columns ``repo_root``, ``repo_remote``)."""
        parts: list[str] = []
        args: list[Any] = []
        for column, values in (("repo_root", self.roots), ("repo_remote", self.remotes)):
            if values:
                parts.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(sorted(values))
        if self.lenient:
            parts.append("(repo_root IS NULL AND repo_remote IS NULL)")
        if not parts:
            return "0", []
        return "(" + " OR ".join(parts) + ")", args


def scope_of_folder(folder: str, *, lenient: bool = False) -> RepoScope | None:
    """The scope of the git repository around ``folder`` (None outside one)."""
    found = identity(folder)
    if not found:
        return None
    remotes = frozenset({remote_key(found["remote"])}) if found.get("remote") else frozenset()
    return RepoScope(_root_forms(str(found["root"])), remotes, lenient, str(found["root"]))


def repo_scope(spec: str | os.PathLike[str]) -> RepoScope:
    """The scope ``--repo`` names: a folder (its repository's root and remote), a workspace
    root as recorded, or a remote URL in any of its spellings."""
    text = os.fspath(spec).strip()
    if not text:
        raise InvalidInputError("--repo is empty: give a repository folder or remote URL")
    if "\n" in text or "\0" in text:
        raise InvalidInputError(f"{text!r} cannot be a repository folder or URL")
    if os.path.isdir(text):
        scoped = scope_of_folder(text)
        if scoped is not None:
            return scoped
        return RepoScope(_root_forms(os.path.abspath(text)), frozenset(), label=text)
    if "://" in text or _SCP.match(text):
        return RepoScope(frozenset(), frozenset({remote_key(text)}), label=strip_credentials(text))
    absolute = normalise_url(text, os.getcwd())
    return RepoScope(
        _root_forms(absolute), frozenset({remote_key(absolute)}), label=absolute
    )


def path_in_scope(
    path: str, repo: str | None = None, *, all_repos: bool = False, cwd: str | None = None
) -> tuple[str, RepoScope | None]:
    """A path-taking command's path and scope, the way ``git log -- PATH`` reads them.

    ``--repo`` wins; ``--all-repos`` lifts the scope; otherwise, run inside a git repository,
    the scope is that repository (entries that name none are kept) and a relative PATH is
    read from the current folder, so ``docs/x.md`` and ``x.md`` inside ``docs/`` are one.
    """
    if repo is not None and all_repos:
        raise InvalidInputError("give --repo or --all-repos, not both")
    if repo is not None:
        return path, repo_scope(repo)
    if all_repos:
        return path, None
    here = os.path.abspath(cwd or os.getcwd())
    scope = scope_of_folder(here, lenient=True)
    if scope is None:
        return path, None
    root = scope.label
    if not os.path.isabs(path) and os.path.realpath(here) != os.path.realpath(root):
        inside = os.path.relpath(os.path.realpath(here), os.path.realpath(root))
        if not inside.startswith(".."):
            path = os.path.normpath(os.path.join(inside, path))
    return path, scope
