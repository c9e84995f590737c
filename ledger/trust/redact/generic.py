"""Context rules: a secret known by what stands before it, gated on the value itself.

A key named like a secret (``password=``, ``"SecretAccessKey":``), a header, a URL's password
or a command's password option is only a secret when its value looks like one: long enough,
varied enough (Shannon entropy), no placeholder or template, not an identifier or code.
This is gitleaks' generic-rule design: ``password: str`` and ``token=token`` never match.
"""

from __future__ import annotations

import base64
import functools
import re
import urllib.parse
from collections.abc import Iterator

from ledger.trust.redact.keys import SECRET_WORDS, is_secret_name
from ledger.trust.redact.rules import Rule, code_shaped, placeholder, rule, secret_like

_NOT_MARKER = r"(?!\[REDACTED:)"
# A value: quoted, or bare up to the next space, quote or bracket; a bare value must end
# there (``a.b+c`` is an expression, and calls and subscripts must pass the code-shape gate).
_VALUE = (
    rf"(?:\"{_NOT_MARKER}([^\"\n]{{1,400}})\"|'{_NOT_MARKER}([^'\n]{{1,400}})'"
    rf"|`{_NOT_MARKER}([^`\n]{{1,400}})`"
    rf"|{_NOT_MARKER}([^\s\"'`,;&<>(){{}}\[\]]{{1,400}})(?=[\s\"'`,;&()}}\[\]]|\Z))"
)
# A key: an identifier in any naming style, ending at the operator (an optional closing quote
# between). ``==`` and ``!=`` are comparisons, not assignments.
_KEY = r"(?<![A-Za-z_$-])([A-Za-z_][\w.-]{0,80})[\"']?"
_OPERATOR = r"[ \t]*(?:=>|:=|\?=|(?<![=!<>])=(?!=)|:(?![:/]))[ \t]*"


@functools.lru_cache(maxsize=4096)
def _key_is_secret(key: str) -> bool:
    return is_secret_name(key)


def _assignment_value(value: str) -> bool:
    return secret_like(value, min_len=8)


class AssignmentRule(Rule):
    """``<secret-named key> <operator> <value>``, gated on the key's name and the value."""

    def _scan(self, text: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
        while (match := self.pattern.search(text, pos, endpos)) is not None:
            if match.end() == endpos < len(text):
                match = self.pattern.match(text, match.start()) or match
            # A rejected match may hide the real one in its value ("run: TOKEN=…"):
            # look again right after its key.
            pos = match.end(1)
            if not _key_is_secret(match.group(1)):
                continue
            group = next(i for i in range(2, 6) if match.group(i) is not None)
            start, end = match.span(group)
            if _assignment_value(text[start:end]):
                yield start, end
                pos = end


ASSIGNMENT = AssignmentRule(
    "password-assignment",
    re.compile(_KEY + _OPERATOR + _VALUE),
    tuple(SECRET_WORDS),
    window=512,
    back=80,
)


def _header_value(value: str) -> bool:
    basic = _basic_password(value)
    if basic is not None:
        return _url_password(basic)
    return secret_like(value, min_len=8)


def _basic_password(value: str) -> str | None:
    """The password of HTTP Basic credentials (base64 ``user:password``), else None."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon and decoded.isprintable() else None


_COOKIE_ATTRIBUTES = frozenset(
    {"expires", "max-age", "domain", "path", "samesite", "secure", "httponly", "priority",
     "partitioned", "version", "comment"}
)


def _cookie_value(value: str) -> bool:
    for part in value.split(";"):
        name, eq, item = part.strip().partition("=")
        if eq and name.lower() not in _COOKIE_ATTRIBUTES and secret_like(item.strip('"')):
            return True
    return False


def _url_password(value: str) -> bool:
    value = urllib.parse.unquote(value)
    return (
        len(value) >= 4
        and value.isprintable()
        and not any(c.isspace() for c in value)
        and not placeholder(value)
        and "pass" not in value.lower()
        and not all(p.lower() in _URL_STANDINS for p in value.split(":"))
    )


_URL_STANDINS = frozenset(
    {"pass", "passwd", "pwd", "pw", "secret", "token", "apikey", "api_key", "key",
     "xxx", "changeme", "hunter2", "s3cret", "s3cr3t", "1234", "12345", "123456", "pass123",
     "p4ssw0rd", "pa55word", "user", "guest", "admin", "root", "test", "pass1234", "bar", "baz",
     "foo", "qux", "letmein"}
)


def _cli_value(value: str) -> bool:
    return (
        len(value) >= 4
        and not placeholder(value)
        and not code_shaped(value)
        and not value.startswith("-")
    )


HEADER_RULES: tuple[Rule, ...] = (
    rule(
        "authorization-header",
        rf"(?i)(?<![A-Za-z])(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
        rf"(?:(?:bearer|basic|token|digest|negotiate|bot)\s+)?+{_NOT_MARKER}([^\s\"',;}}\]]+)",
        "authorization",
        accept=_header_value,
    ),
    rule(
        "cookie-header",
        rf"(?i)(?<![A-Za-z_])(?:set-)?cookie[\"']?\s*:\s*[\"']?{_NOT_MARKER}([^\r\n\"']+)",
        "cookie",
        accept=_cookie_value,
    ),
    rule(
        "api-key-header",
        rf"(?i)(?<![A-Za-z])x-(?:api|auth)-(?:key|token)[\"']?\s*[:=]\s*[\"']?"
        rf"{_NOT_MARKER}([^\s\"',;}}\]]+)",
        "x-api-",
        "x-auth-",
        accept=_header_value,
    ),
)

URL_RULES: tuple[Rule, ...] = (
    rule(
        "url-credentials",
        rf"[a-zA-Z][a-zA-Z0-9+.-]{{1,20}}://[^\s/:@\"'<>]*:{_NOT_MARKER}([^\s/@\"'<>]+)@",
        "://",
        accept=_url_password,
    ),
)

_CLI_VALUE = (
    rf"(?:\"{_NOT_MARKER}([^\"\n]+)\"|'{_NOT_MARKER}([^'\n]+)'|{_NOT_MARKER}([^\s\"';|&]+))"
)

COMMAND_RULES: tuple[Rule, ...] = (
    rule(
        "password-argument",
        r"(?i)(?<![\w-])--?(?:password|passwd|pass|token|secret|api-key|apikey|access-token"
        rf"|auth-token|client-secret)(?:=|\s+){_CLI_VALUE}",
        "-pass", "-token", "-secret", "-api", "-access", "-auth", "-client",
        accept=_cli_value,
    ),
    # mysql -pSECRET (glued), sshpass -p SECRET, docker login -p SECRET.
    rule(
        "password-argument",
        rf"(?<![\w-])(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n|;&]*?\s-p{_CLI_VALUE}",
        "mysql", "mariadb",
        accept=_cli_value,
    ),
    rule("password-argument", rf"(?<![\w-])sshpass\s+-p\s*{_CLI_VALUE}", "sshpass",
         accept=_cli_value),
    rule(
        "password-argument",
        rf"(?<![\w-])(?:docker|podman|buildah|skopeo|helm|oras|nerdctl)\s+(?:registry\s+)?login\b"
        rf"[^\n|;&]*?\s-p(?:=|\s+){_CLI_VALUE}",
        "login",
        accept=_cli_value,
    ),
    rule(
        "password-argument",
        r"(?<![\w-])(?:curl|wget|http|https)\b[^\n|;&]*?\s(?:-u|--user)(?:=|\s*)['\"]?"
        r"[^\s:'\"]*:([^\s'\"@]+)",
        "curl", "wget", "http",
        accept=_cli_value,
    ),
    # .netrc: machine HOST login USER password SECRET (on one line or several).
    rule(
        "password-assignment",
        r"(?<![\w-])machine\s+\S+(?:\s+(?:login|account)\s+\S+)*\s+password\s+(\S+)",
        "machine",
        accept=_cli_value,
    ),
)

CONTEXT_RULES: tuple[Rule, ...] = HEADER_RULES + URL_RULES + COMMAND_RULES + (ASSIGNMENT,)
