"""Names of secrets: is a key (metadata, JSON, YAML, env, ini) named like a secret?

Keys are read in any naming style (camelCase, PascalCase, snake_case, SCREAMING_ENV,
kebab-case, dotted), so ``SecretAccessKey``, ``sessionToken``, ``PGPASSWORD``, ``DB_PASS``,
``x-api-key`` and ``client-key-data`` are all secret names, and ``max_tokens`` is not.
"""

from __future__ import annotations

import re

# Lower-case fragments one of which every secret name holds: the keyword pre-filter.
SECRET_WORDS: tuple[str, ...] = (
    "pass", "pwd", "secret", "token", "key", "auth", "credential", "creds", "cookie", "bearer",
)

# The name's last word alone makes it a secret name.
_LAST_WORDS = frozenset(
    {"password", "passwd", "passphrase", "passcode", "pwd", "pass", "secret", "token",
     "credential", "credentials", "creds", "auth", "authorization", "cookie", "bearer",
     "apikey"}
)
# The name, its words run together, ends with one of these.
_SUFFIXES = (
    "password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey", "secretkey",
    "privatekey", "signingkey", "authkey", "accountkey", "clientkey", "masterkey",
    "encryptionkey", "sharedkey", "keydata", "credentials", "secretaccesskey",
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

DEFAULT_SENSITIVE_KEY = (
    r"(?:^|_)(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|secret_?key"
    r"|private_?key|signing_?key|client_?secret|credentials?|authorization|auth|cookie"
    r"|bearer)$"
)


def words(name: str) -> list[str]:
    """The lower-case words of a name in any naming style."""
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """True for a key named like a secret: ``dbPassword``, ``AWS_SESSION_TOKEN``, ``x-api-key``."""
    parts = words(name)
    if not parts:
        return False
    if parts[-1] in _LAST_WORDS:
        return True
    return "".join(parts).endswith(_SUFFIXES)


def normal_key(key: str) -> str:
    """A key lower-cased with runs of other characters made ``_`` (what config regexes see)."""
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
