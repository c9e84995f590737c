"""The default rule set and the default sensitive file names, in the order rules are tried.

Provider tokens come first, so a more specific rule names a secret two rules both match.
"""

from __future__ import annotations

from ledger.trust.redact.generic import CONTEXT_RULES
from ledger.trust.redact.providers import PROVIDER_RULES
from ledger.trust.redact.rules import Rule

DEFAULT_RULES: tuple[Rule, ...] = PROVIDER_RULES + CONTEXT_RULES

DEFAULT_SENSITIVE_PATHS: tuple[str, ...] = (
    ".env*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "credentials",
    "credentials.json",
)
