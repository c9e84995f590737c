"""Credentials in remote URLs: found in any part of the URL and refused before it is stored.

A URL saved in the ledger's config is read by every process and printed by ``git remote -v``:
a password, a token given as the user name (``https://ghp_…@github.com/…``), a token in the
query (``?access_token=…``) or anywhere else the secret scanner recognises one never goes
there. A plain login name (``ssh://git@host``, ``git@host:path``, ``https://bot@host``) is no
secret and stays.
"""

from __future__ import annotations

import secrets
import urllib.parse

from ledger.errors import InvalidRemoteError
from ledger.trust.redact import Redactor, entropy, is_secret_name

HELPER_HINT = (
    "give it to a git credential helper instead (git config --global credential.helper "
    "<helper>; git asks it at push and pull) or use an SSH key"
)
_TOKEN_MIN = 20  # a user name this long and random is a token, not a login name
_TOKEN_ENTROPY = 3.5
# Query keys that carry a credential though not named like one (signed URLs, API keys).
_QUERY_KEYS = frozenset(
    {"sig", "signature", "key", "apikey", "api_key", "code", "x-amz-signature",
     "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential"}
)


def shown_url(url: str) -> str:
    """The URL safe to show: no userinfo, query or fragment (scp-like ``user@host:`` kept)."""
    if "://" not in url:  # scp-like: the user name is shown only when it is a login name
        _user, at, rest = url.partition("@")
        return url if not at or credential_in(url) is None else rest
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def credential_in(url: str) -> str | None:
    """Where ``url`` holds a credential ("a password", ...), or None when it holds none."""
    scanner = Redactor(secrets.token_bytes(32))
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        user = urllib.parse.unquote(userinfo.partition(":")[0])
        query, fragment = parts.query, parts.fragment
        rest = urllib.parse.unquote(parts.netloc.rpartition("@")[2] + parts.path)
    else:  # scp-like user@host:path
        userinfo = url.partition("@")[0] if "@" in url.partition(":")[0] else ""
        user, query, fragment, rest = userinfo, "", "", url[len(userinfo) :]
    if ":" in userinfo:
        return "a password in its user part"
    if user and (scanner.find(user) or _random_token(user)):
        return "a token as its user name"
    for key, value in urllib.parse.parse_qsl(query + "&" + fragment, keep_blank_values=True):
        if value and (
            key.lower() in _QUERY_KEYS
            or is_secret_name(key)
            or scanner.find(value)
            or scanner.find(key)
        ):
            return f"a credential in its query ({key})"
    if scanner.find(rest):
        return "a token in its path"
    return None


def _random_token(user: str) -> bool:
    return len(user) >= _TOKEN_MIN and entropy(user) >= _TOKEN_ENTROPY


def refuse_credentials(url: str) -> None:
    """Raise InvalidRemoteError (one line, no secret in it) when ``url`` holds a credential."""
    where = credential_in(url)
    if where is not None:
        raise InvalidRemoteError(
            f"refusing to store a credential in the ledger's config: the URL "
            f"{shown_url(url)} holds {where}; remove it and {HELPER_HINT}"
        )
