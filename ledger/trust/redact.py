"""Secret redaction: secrets are replaced by markers before anything is hashed or written.

A redacted value becomes ``[REDACTED:<rule>:hmac=<12 hex>]``: the rule that caught it and a
keyed fingerprint (HMAC-SHA256 under a random per-ledger key kept in the ledger folder, never
in a git object), so one secret can be followed across entries without being stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pygit2

from ledger._layout import KEY_FILE
from ledger.errors import RedactionConfigError, StorageError

MARKER_PREFIX = "[REDACTED:"
MARKER_RE = re.compile(r"\[REDACTED:[a-z0-9._-]+:hmac=[0-9a-f]{12}\]")
SENSITIVE_KEY_RULE = "sensitive-key"
SENSITIVE_PATH_RULE = "sensitive-path"
REDACTIONS_KEY = "redactions"  # the metadata key saying what was redacted, field by field

# Config keys (in the ledger repository's own git config).
CFG_ENABLED = "ledger.trust.redact"
CFG_PATH = "ledger.redactPath"
CFG_KEY = "ledger.redactKey"
CFG_RULE_SECTION = "ledger-redact"

_NOT_MARKER = r"(?!\[REDACTED:)"
# Token prefixes must not sit inside a word ("task-..." is no "sk-" key), but a digit or
# punctuation glued on front does not hide a secret.
_START = r"(?<![A-Za-z])"
_VALUE = rf"(?:\"([^\"\n]+)\"|'([^'\n]+)'|{_NOT_MARKER}([^\s\"',;}}\])]+))"


@dataclasses.dataclass(frozen=True)
class Rule:
    """A named pattern; the secret is its first matching group (else the whole match).

    ``keywords`` (lower case) make scanning cheap: the regex runs only when the lower-cased
    text holds one of them, and, when ``window`` is set, only from ``back`` characters
    before each keyword to ``window`` characters after it (a match reaching a window's end
    is retried without the limit, so a long secret is never cut short).
    """

    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...] = ()
    window: int | None = None
    back: int = 32
    case_sensitive: bool = False  # keywords are looked for in the text as it is

    @functools.cached_property
    def _keyword_re(self) -> re.Pattern[str] | None:
        if not self.keywords:
            return None
        return re.compile("|".join(re.escape(k) for k in self.keywords))

    @functools.cached_property
    def _by_regex(self) -> bool:
        # A regex finds keywords that share a prefix fastest; str search wins otherwise.
        first = {k[:1] for k in self.keywords}
        return len(first) == 1 or len(self.keywords) < 3

    def spans(self, text: str, lower: str) -> Iterator[tuple[int, int]]:
        """Start and end of each secret this rule finds in ``text``."""
        finder = self._keyword_re
        if finder is None:
            yield from self._scan(text, 0, len(text))
            return
        haystack = text if self.case_sensitive else lower
        if self._by_regex:
            if finder.search(haystack) is None:
                return
        elif not any(k in haystack for k in self.keywords):
            return
        hits = finder.finditer(haystack)
        first = next(hits, None)
        if first is None:
            return
        if self.window is None or len(lower) != len(text):
            yield from self._scan(text, 0, len(text))
            return
        windows: list[list[int]] = []
        for hit in itertools.chain([first], hits):
            start = max(0, hit.start() - self.back)
            end = min(len(text), hit.end() + self.window)
            if windows and start <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], end)
            else:
                windows.append([start, end])
        for start, end in windows:
            yield from self._scan(text, start, end)

    def _scan(self, text: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
        for match in self.pattern.finditer(text, pos, endpos):
            if match.end() == endpos < len(text):
                match = self.pattern.match(text, match.start()) or match
            groups = [i for i in range(1, (self.pattern.groups or 0) + 1) if match.group(i)]
            start, end = match.span(groups[0]) if groups else match.span()
            if end > start:
                yield start, end


def _rule(name: str, regex: str, *keywords: str, case_sensitive: bool = False) -> Rule:
    return Rule(name, re.compile(regex), tuple(keywords), 4096, 32, case_sensitive)


# In the spirit of gitleaks' default rules; ordered so that a more specific rule names a
# secret that two rules both match at the same place.
DEFAULT_RULES: tuple[Rule, ...] = (
    _rule(
        "private-key",
        r"-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
        "private key",
    ),
    _rule(
        "aws-access-key",
        rf"{_START}(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)"
        r"[A-Z0-9]{16}",
        "AKIA",
        "ASIA",
        "ABIA",
        "ACCA",
        "A3T",
        "AGPA",
        "AIDA",
        "AROA",
        "AIPA",
        "ANPA",
        "ANVA",
        "APKA",
        case_sensitive=True,
    ),
    _rule(
        "aws-secret-key",
        r"(?i)aws.{0,20}?(?:secret|key).{0,20}?[\"'\s:=]+([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        "aws",
    ),
    _rule(
        "github-token",
        rf"{_START}(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{{36,255}}|github_pat_[A-Za-z0-9_]{{22,255}})",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
    ),
    _rule(
        "gitlab-token",
        rf"{_START}gl(?:pat|dt|ptt|rt|cbt|soat|ft|imt|agent)-[A-Za-z0-9_-]{{20,}}",
        "glpat-",
        "gldt-",
        "glptt-",
        "glrt-",
        "glcbt-",
        "glsoat-",
        "glft-",
        "glimt-",
        "glagent-",
    ),
    _rule("slack-token", rf"{_START}xox[abposr]-[A-Za-z0-9-]{{10,}}", "xox"),
    _rule(
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9+/]{20,}",
        "hooks.slack.com",
    ),
    _rule(
        "api-key",
        rf"{_START}(?:sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-)?[A-Za-z0-9_-]{{20,}}"
        r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,})",
        "sk-",
        "sk_live",
        "sk_test",
        "rk_live",
        "rk_test",
    ),
    _rule("google-api-key", rf"{_START}AIza[0-9A-Za-z_-]{{35}}", "aiza"),
    _rule("huggingface-token", rf"{_START}hf_[A-Za-z]{{34}}", "hf_"),
    _rule("npm-token", rf"{_START}npm_[A-Za-z0-9]{{36}}", "npm_"),
    _rule("jwt", rf"{_START}eyJ[A-Za-z0-9_-]{{8,}}\.eyJ[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]*", "eyj"),
    _rule(
        "authorization-header",
        rf"(?i){_START}(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
        rf"(?:(?:bearer|basic|token|digest|negotiate|bot)\s+)?+{_NOT_MARKER}([^\s\"',;}}\]]+)",
        "authorization",
    ),
    _rule(
        "cookie-header",
        rf"(?i){_START}(?:set-)?cookie[\"']?\s*[:=]\s*[\"']?{_NOT_MARKER}([^\r\n\"']+)",
        "cookie",
    ),
    _rule(
        "api-key-header",
        rf"(?i){_START}x-(?:api|auth)-(?:key|token)[\"']?\s*[:=]\s*[\"']?"
        rf"{_NOT_MARKER}([^\s\"',;}}\]]+)",
        "x-api-",
        "x-auth-",
    ),
    _rule(
        "url-credentials",
        rf"[a-zA-Z][a-zA-Z0-9+.-]{{1,20}}://[^\s/:@\"'<>]+:{_NOT_MARKER}([^\s/@\"'<>]+)@",
        "://",
    ),
    _rule(
        "password-argument",
        r"(?i)(?<![\w-])--?(?:password|passwd|pass|token|secret|api-key|apikey|access-token"
        rf"|auth-token|client-secret)(?:=|\s+){_VALUE}",
        "-pass",
        "-token",
        "-secret",
        "-api",
        "-access",
        "-auth",
        "-client",
    ),
    _rule(
        "password-assignment",
        r"(?i)(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
        rf"|private[_-]?key|secret[_-]?key|credentials?)[\"']?[ \t]*[:=][ \t]*{_VALUE}",
        "passw",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "access",
        "private",
        "credential",
    ),
)

DEFAULT_SENSITIVE_KEY = (
    r"(?:^|_)(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|secret_?key"
    r"|private_?key|signing_?key|client_?secret|credentials?|authorization|auth|cookie"
    r"|bearer)$"
)

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


def _normal_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


class Redactor:
    """Finds secrets in text, metadata and file contents, and replaces them with markers.

    Args:
        key: the per-ledger HMAC key.
        rules: text rules (default :data:`DEFAULT_RULES`).
        sensitive_paths: glob patterns of files stored as size and fingerprint only; a
            pattern without ``/`` matches the file name, one with ``/`` the whole path.
        sensitive_keys: regexes (case-insensitive, on the key with runs of other characters
            made ``_``) naming metadata keys whose values are always redacted.
        enabled: False stores everything as given.
    """

    def __init__(
        self,
        key: bytes,
        rules: Iterable[Rule] = DEFAULT_RULES,
        sensitive_paths: Iterable[str] = DEFAULT_SENSITIVE_PATHS,
        sensitive_keys: Iterable[str] = (DEFAULT_SENSITIVE_KEY,),
        *,
        enabled: bool = True,
    ) -> None:
        self._key = key
        self.rules = tuple(rules)
        self.sensitive_paths = tuple(sensitive_paths)
        self.enabled = enabled
        self._key_res = [re.compile(k, re.IGNORECASE) for k in sensitive_keys]

    # -- construction from a ledger ---------------------------------------------------
    @classmethod
    def for_ledger(cls, path: Path, repo: pygit2.Repository) -> Redactor:
        """The ledger's redactor: its key file (made on first use) and its config rules."""
        config = repo.config
        enabled = _config_bool(config, CFG_ENABLED, True)
        rules = list(DEFAULT_RULES)
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
        for rule_name, fields in sorted(user_rules.items()):
            if not re.fullmatch(r"[a-z0-9._-]{1,64}", rule_name):
                raise RedactionConfigError(
                    f"redaction rule name {rule_name!r}: use 1-64 of a-z 0-9 . _ -"
                )
            regexes = fields.get("regex")
            if not regexes:
                raise RedactionConfigError(f"redaction rule {rule_name!r} has no regex")
            try:
                pattern = re.compile(regexes[-1])
            except re.error as exc:
                raise RedactionConfigError(
                    f"redaction rule {rule_name!r}: bad regex: {exc}"
                ) from None
            keywords = tuple(k.lower() for k in fields.get("keyword", []))
            rules.insert(0, Rule(rule_name, pattern, keywords))
        for k in keys:
            try:
                re.compile(k)
            except re.error as exc:
                raise RedactionConfigError(f"{CFG_KEY} {k!r}: bad regex: {exc}") from None
        return cls(load_key(path) if enabled else b"", rules, paths, keys, enabled=enabled)

    # -- primitives ---------------------------------------------------------------------
    def fingerprint(self, secret: str | bytes) -> str:
        """The keyed fingerprint of a secret: 12 hex digits of HMAC-SHA256."""
        data = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else secret
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:12]

    def marker(self, rule: str, secret: str | bytes) -> str:
        """What a redacted secret becomes."""
        return f"{MARKER_PREFIX}{rule}:hmac={self.fingerprint(secret)}]"

    def text(self, text: str) -> tuple[str, list[str]]:
        """Redact secrets in text; return the new text and the rules that fired (sorted)."""
        if not self.enabled or not text:
            return text, []
        lower = text.lower()
        found: list[tuple[int, int, int, str]] = []
        markers = [m.span() for m in MARKER_RE.finditer(text)] if MARKER_PREFIX in text else []
        for order, rule in enumerate(self.rules):
            for start, end in rule.spans(text, lower):
                if not any(start < m_end and m_start < end for m_start, m_end in markers):
                    found.append((start, -(end - start), order, rule.name))
        if not found:
            return text, []
        found.sort()
        out: list[str] = []
        pos = 0
        fired: set[str] = set()
        for start, neg_len, _order, name in found:
            end = start - neg_len
            if start < pos:
                continue  # overlaps a secret already replaced
            out.append(text[pos:start])
            out.append(self.marker(name, text[start:end]))
            fired.add(name)
            pos = end
        out.append(text[pos:])
        return "".join(out), sorted(fired)

    def is_sensitive_key(self, key: str) -> bool:
        """True for a metadata key whose value is always redacted (password, token, ...)."""
        norm = _normal_key(key)
        return any(r.search(norm) for r in self._key_res)

    def is_sensitive_path(self, path: str) -> bool:
        """True for a file whose contents are stored as size and fingerprint only."""
        norm = path.replace("\\", "/")
        base = norm.rsplit("/", 1)[-1].lower()
        for pattern in self.sensitive_paths:
            if "/" in pattern:
                if fnmatch.fnmatchcase(norm, pattern) or fnmatch.fnmatchcase(
                    norm, "*/" + pattern.lstrip("/")
                ):
                    return True
            elif fnmatch.fnmatchcase(base, pattern.lower()):
                return True
        return False

    # -- entries --------------------------------------------------------------------------
    def value(self, value: Any, field: str, hits: dict[str, list[str]]) -> Any:
        """Redact a JSON-ready value (normalised metadata), recording hits by field."""
        if isinstance(value, str):
            new, fired = self.text(value)
            if fired:
                hits[field] = fired
            return new
        if isinstance(value, Mapping):
            label = value.get("name", value.get("key"))
            secret = value.get("value")
            if (
                self.enabled
                and isinstance(label, str)
                and isinstance(secret, str)
                and secret
                and not MARKER_RE.fullmatch(secret)
                and self.is_sensitive_key(label)
            ):
                # A header as HAR and many APIs write it: {"name": "Authorization", "value": …}.
                hits[f"{field}.value"] = [SENSITIVE_KEY_RULE]
                value = {**value, "value": self.marker(SENSITIVE_KEY_RULE, secret)}
            out: dict[str, Any] = {}
            for key, item in value.items():
                new_key, fired = self.text(key)
                if fired:  # a secret used as a key would be stored in the clear
                    hits[f"{field}.{new_key}"] = fired
                    key = new_key
                sub = f"{field}.{key}"
                if (
                    self.enabled
                    and self.is_sensitive_key(key)
                    and item is not None
                    and not isinstance(item, bool)
                    and item not in ("", [], {})
                    and not (isinstance(item, str) and MARKER_RE.fullmatch(item))
                ):
                    raw = item if isinstance(item, str) else _canonical(item)
                    out[key] = self.marker(SENSITIVE_KEY_RULE, raw)
                    hits[sub] = [SENSITIVE_KEY_RULE]
                else:
                    out[key] = self.value(item, sub, hits)
            return out
        if isinstance(value, list):
            # A list of (name, value) pairs, as HTTP clients give headers:
            # [["Authorization", "…"], …]. A lone two-word list (tags) is no such pair.
            pairs = self.enabled and all(
                isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)
                for v in value
            )
            out_list: list[Any] = []
            for i, v in enumerate(value):
                sub = f"{field}[{i}]"
                if pairs and v[1] and not MARKER_RE.fullmatch(v[1]) and self.is_sensitive_key(v[0]):
                    hits[f"{sub}[1]"] = [SENSITIVE_KEY_RULE]
                    out_list.append([v[0], self.marker(SENSITIVE_KEY_RULE, v[1])])
                else:
                    out_list.append(self.value(v, sub, hits))
            return out_list
        return value

    def entry_fields(
        self,
        description: str,
        metadata: dict[str, Any],
        file_notes: Mapping[str, list[str]] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Redact an entry's description and (normalised) metadata.

        When anything was redacted (here, or in file contents as ``file_notes`` says),
        metadata gains ``"redactions"``: each redacted field with the rules that fired.
        """
        if not self.enabled:
            return description, metadata
        hits: dict[str, list[str]] = dict(file_notes or {})
        desc, fired = self.text(description)
        if fired:
            hits["description"] = fired
        meta = self.value(metadata, "metadata", hits)
        for field in file_notes or {}:
            # The blob holds the redacted content, not the file's: restoring it must be
            # refused, as for a state kept only as a hash.
            meta[f"{field.split('_', 1)[0]}_stored"] = False
        if hits:
            meta[REDACTIONS_KEY] = dict(sorted(hits.items()))
        return desc, meta

    def file_content(self, path: str, data: bytes) -> tuple[bytes, list[str]]:
        """What to store of a file's content, and the rules that fired.

        A sensitive path keeps only a line with its size and fingerprint; other content is
        scanned as text (bytes that are not UTF-8 pass through unchanged).
        """
        if not self.enabled:
            return data, []
        if self.is_sensitive_path(path):
            note = f"{self.marker(SENSITIVE_PATH_RULE, data)} {len(data)} bytes\n"
            return note.encode("ascii"), [SENSITIVE_PATH_RULE]
        text = data.decode("utf-8", "surrogateescape")
        new, fired = self.text(text)
        if not fired:
            return data, []
        return new.encode("utf-8", "surrogateescape"), fired


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _config_bool(config: pygit2.Config, key: str, default: bool) -> bool:
    try:
        return bool(config.get_bool(key))
    except KeyError:
        return default
    except (pygit2.GitError, ValueError) as exc:
        raise RedactionConfigError(f"{key} must be true or false: {exc}") from None


def load_key(ledger: Path) -> bytes:
    """The ledger's HMAC key, created (32 random bytes, mode 0600) on first use.

    The key file sits in the ledger folder beside ``config``; git never stores it as an
    object, so clones and pushes do not carry it.
    """
    path = ledger / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    tmp = ledger / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # never replaces a key another writer made first
    except OSError as exc:
        raise StorageError(f"cannot create the redaction key {path}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise StorageError(f"redaction key {path} is damaged (expected 64 hex digits)")
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
    return key
