"""Secret redaction: secrets are replaced by markers before anything is hashed or written.

Provider token rules, context rules gated on the value, and names of secrets in any style.
"""

from ledger.trust.redact.config import CFG_ENABLED, CFG_KEY, CFG_PATH, CFG_RULE_SECTION
from ledger.trust.redact.engine import (
    MARKER_PREFIX,
    MARKER_RE,
    REDACTIONS_KEY,
    SENSITIVE_KEY_RULE,
    SENSITIVE_PATH_RULE,
    Redacted,
    Redactor,
    Span,
)
from ledger.trust.redact.keyfile import load_key
from ledger.trust.redact.keys import DEFAULT_SENSITIVE_KEY, is_secret_name
from ledger.trust.redact.rules import Rule, entropy
from ledger.trust.redact.ruleset import DEFAULT_RULES, DEFAULT_SENSITIVE_PATHS

__all__ = [
    "CFG_ENABLED",
    "CFG_KEY",
    "CFG_PATH",
    "CFG_RULE_SECTION",
    "DEFAULT_RULES",
    "DEFAULT_SENSITIVE_KEY",
    "DEFAULT_SENSITIVE_PATHS",
    "MARKER_PREFIX",
    "MARKER_RE",
    "REDACTIONS_KEY",
    "SENSITIVE_KEY_RULE",
    "SENSITIVE_PATH_RULE",
    "Redacted",
    "Redactor",
    "Rule",
    "Span",
    "entropy",
    "is_secret_name",
    "load_key",
]
