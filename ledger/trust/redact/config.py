"""Redaction settings from a ledger's own git config: on/off, user rules, paths and keys.

A rule that cannot be used stops every write (RedactionConfigError) before anything is written.
"""

from __future__ import annotations

import re

import pygit2

from ledger._config import config_bool
from ledger.errors import RedactionConfigError
from ledger.trust.redact.keys import DEFAULT_SENSITIVE_KEY
from ledger.trust.redact.rules import Rule
from ledger.trust.redact.ruleset import DEFAULT_RULES, DEFAULT_SENSITIVE_PATHS

# Config keys (in the ledger repository's own git config).
CFG_ENABLED = "ledger.redact"
CFG_PATH = "ledger.redactPath"
CFG_KEY = "ledger.redactKey"
CFG_RULE_SECTION = "ledger-redact"


def ledger_settings(config: pygit2.Config) -> tuple[bool, list[Rule], list[str], list[str]]:
    """Whether redaction is on, then its rules, sensitive paths and sensitive-key regexes."""
    enabled = config_bool(config, CFG_ENABLED, True, RedactionConfigError)
    paths = list(DEFAULT_SENSITIVE_PATHS)
    keys = [DEFAULT_SENSITIVE_KEY]
    user_rules: dict[str, dict[str, list[str]]] = {}
    for item in config:
        name = str(item.name)
        value = str(item.value) if item.value is not None else ""
        low = name.lower()
        if low == CFG_PATH.lower():
            paths.append(value)
        elif low == CFG_KEY.lower():
            keys.append(value)
        elif low.startswith(CFG_RULE_SECTION + "."):
            rule_name, _, field = name[len(CFG_RULE_SECTION) + 1 :].rpartition(".")
            user_rules.setdefault(rule_name, {}).setdefault(field.lower(), []).append(value)
    rules = [_user_rule(n, fields) for n, fields in sorted(user_rules.items())]
    rules.reverse()  # each user rule goes in front, as each was once inserted at 0
    for k in keys:
        try:
            re.compile(k)
        except re.error as exc:
            raise RedactionConfigError(f"{CFG_KEY} {k!r}: bad regex: {exc}") from None
    return enabled, [*rules, *DEFAULT_RULES], paths, keys


def _user_rule(rule_name: str, fields: dict[str, list[str]]) -> Rule:
    if not re.fullmatch(r"[a-z0-9._-]{1,64}", rule_name):
        raise RedactionConfigError(f"redaction rule name {rule_name!r}: use 1-64 of a-z 0-9 . _ -")
    regexes = fields.get("regex")
    if not regexes:
        raise RedactionConfigError(f"redaction rule {rule_name!r} has no regex")
    try:
        pattern = re.compile(regexes[-1])
    except re.error as exc:
        raise RedactionConfigError(f"redaction rule {rule_name!r}: bad regex: {exc}") from None
    keywords = tuple(k.lower() for k in fields.get("keyword", []))
    return Rule(rule_name, pattern, keywords)
