"""The Redactor: finds secrets in text, metadata and file contents and puts markers in their place.

A redacted value becomes ``[REDACTED:<rule>:hmac=<12 hex>]``: the rule that caught it and a
keyed fingerprint (HMAC-SHA256 under a random per-ledger key kept in the ledger folder, never
in a git object), so one secret can be followed across entries without being stored.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pygit2

from ledger.trust.redact.config import ledger_settings
from ledger.trust.redact.gate import gate_for
from ledger.trust.redact.keyfile import load_key
from ledger.trust.redact.keys import DEFAULT_SENSITIVE_KEY, is_secret_name, normal_key
from ledger.trust.redact.rules import Rule
from ledger.trust.redact.ruleset import DEFAULT_RULES, DEFAULT_SENSITIVE_PATHS

MARKER_PREFIX = "[REDACTED:"
MARKER_RE = re.compile(r"\[REDACTED:[a-z0-9._-]+:hmac=[0-9a-f]{12}\]")
SENSITIVE_KEY_RULE = "sensitive-key"
SENSITIVE_PATH_RULE = "sensitive-path"
REDACTIONS_KEY = "redactions"  # the metadata key saying what was redacted, field by field

# Files with these names are often public (certificates): they are kept whole only when
# they hold a private key, and otherwise scanned like any text.
_CONTENT_GATED_PATHS = frozenset({"*.pem"})
_KEY_CACHE_SIZE = 4096


@dataclasses.dataclass(frozen=True)
class Span:
    """One redacted span: ``start``/``end`` in the original (characters of a text, bytes of
    a file's content), the rule that caught it and the secret's keyed fingerprint."""

    start: int
    end: int
    rule: str
    fingerprint: str


@dataclasses.dataclass(frozen=True)
class Redacted:
    """What a text or a file content became, and every span of the original it replaced."""

    value: str | bytes
    spans: tuple[Span, ...]

    @property
    def rules(self) -> list[str]:
        """The rules that fired, sorted, once each."""
        return sorted({s.rule for s in self.spans})


class Redactor:
    """Finds secrets in text, metadata and file contents, and replaces them with markers.

    Args:
        key: the per-ledger HMAC key.
        rules: text rules (default :data:`DEFAULT_RULES`).
        sensitive_paths: glob patterns of files stored as size and fingerprint only; a
            pattern without ``/`` matches the file name, one with ``/`` the whole path.
        sensitive_keys: regexes (case-insensitive, on the key with runs of other characters
            made ``_``) naming metadata keys whose values are always redacted, besides every
            key named like a secret in any naming style.
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
        self._gate = gate_for(self.rules)
        self._key_cache: dict[str, bool] = {}
        self._clean_keys: set[str] = set()

    @classmethod
    def for_ledger(cls, path: Path, repo: pygit2.Repository) -> Redactor:
        """The ledger's redactor: its key file (made on first use) and its config rules."""
        enabled, rules, paths, keys = ledger_settings(repo.config)
        return cls(load_key(path) if enabled else b"", rules, paths, keys, enabled=enabled)

    # -- primitives ---------------------------------------------------------------------
    def fingerprint(self, secret: str | bytes) -> str:
        """The keyed fingerprint of a secret: 12 hex digits of HMAC-SHA256."""
        data = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else secret
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:12]

    def marker(self, rule: str, secret: str | bytes) -> str:
        """What a redacted secret becomes."""
        return f"{MARKER_PREFIX}{rule}:hmac={self.fingerprint(secret)}]"

    def find(self, text: str) -> list[Span]:
        """The secrets in ``text``, in order, never overlapping (the longest at a place wins,
        then the earlier rule); text inside an existing marker is never a secret."""
        if not self.enabled or not text:
            return []
        lower = text.lower()
        found: list[tuple[int, int, int, str]] = []
        markers = [m.span() for m in MARKER_RE.finditer(text)] if MARKER_PREFIX in text else []
        rules = self.rules
        for order in self._gate.rules_for(text, lower):
            rule = rules[order]
            for start, end in rule.spans(text, lower, gated=True):
                if not any(start < m_end and m_start < end for m_start, m_end in markers):
                    found.append((start, -(end - start), order, rule.name))
        found.sort()
        spans: list[Span] = []
        pos = 0
        for start, neg_len, _order, name in found:
            if start >= pos:  # else it overlaps a secret already taken
                end = start - neg_len
                spans.append(Span(start, end, name, self.fingerprint(text[start:end])))
                pos = end
        return spans

    def redact(self, text: str) -> Redacted:
        """``text`` with every secret replaced by its marker, and the spans replaced."""
        spans = self.find(text)
        if not spans:
            return Redacted(text, ())
        out: list[str] = []
        pos = 0
        for span in spans:
            out.append(text[pos : span.start])
            out.append(f"{MARKER_PREFIX}{span.rule}:hmac={span.fingerprint}]")
            pos = span.end
        out.append(text[pos:])
        return Redacted("".join(out), tuple(spans))

    def text(self, text: str) -> tuple[str, list[str]]:
        """Redact secrets in text; return the new text and the rules that fired (sorted)."""
        result = self.redact(text)
        return str(result.value), result.rules

    def is_sensitive_key(self, key: str) -> bool:
        """True for a metadata key whose value is always redacted (password, token, ...)."""
        known = self._key_cache.get(key)
        if known is None:
            known = is_secret_name(key) or any(r.search(normal_key(key)) for r in self._key_res)
            if len(self._key_cache) < _KEY_CACHE_SIZE:  # metadata keys repeat: remember them
                self._key_cache[key] = known
        return known

    def is_sensitive_path(self, path: str) -> bool:
        """True for a file whose contents are stored as size and fingerprint only."""
        return bool(self._path_patterns(path))

    def _path_patterns(self, path: str) -> list[str]:
        norm = path.replace("\\", "/")
        base = norm.rsplit("/", 1)[-1].lower()
        hits = []
        for pattern in self.sensitive_paths:
            if "/" in pattern:
                if fnmatch.fnmatchcase(norm, pattern) or fnmatch.fnmatchcase(
                    norm, "*/" + pattern.lstrip("/")
                ):
                    hits.append(pattern)
            elif fnmatch.fnmatchcase(base, pattern.lower()):
                hits.append(pattern)
        return hits

    # -- entries --------------------------------------------------------------------------
    def value(self, value: Any, field: str, hits: dict[str, list[str]]) -> Any:
        """Redact a JSON-ready value (normalised metadata), recording hits by field."""
        if isinstance(value, str):
            new, fired = self.text(value)
            if fired:
                hits[field] = fired
            return new
        if isinstance(value, Mapping):
            return self._mapping(value, field, hits)
        if isinstance(value, list):
            return self._list(value, field, hits)
        return value

    def _hides(self, label: Any, item: Any) -> bool:
        """True when ``item``, named ``label``, is a value to redact whole."""
        return (
            self.enabled
            and isinstance(label, str)
            and item is not None
            and not isinstance(item, bool)
            and item not in ("", [], {})
            and not (isinstance(item, str) and MARKER_RE.fullmatch(item))
            and self.is_sensitive_key(label)
        )

    def _mapping(self, value: Mapping[str, Any], field: str, hits: dict[str, list[str]]) -> Any:
        label = value.get("name", value.get("key"))
        secret = value.get("value")
        if isinstance(secret, str) and self._hides(label, secret):
            # A header as HAR and many APIs write it: {"name": "Authorization", "value": …}.
            hits[f"{field}.value"] = [SENSITIVE_KEY_RULE]
            value = {**value, "value": self.marker(SENSITIVE_KEY_RULE, secret)}
        out: dict[str, Any] = {}
        for key, item in value.items():
            new_key, fired = self._key_text(key)
            if fired:  # a secret used as a key would be stored in the clear
                hits[f"{field}.{new_key}"] = fired
                key = new_key
            sub = f"{field}.{key}"
            if self._hides(key, item):
                raw = item if isinstance(item, str) else _canonical(item)
                out[key] = self.marker(SENSITIVE_KEY_RULE, raw)
                hits[sub] = [SENSITIVE_KEY_RULE]
            else:
                out[key] = self.value(item, sub, hits)
        return out

    def _key_text(self, key: str) -> tuple[str, list[str]]:
        """A metadata key redacted like any text; keys repeat, so clean ones are remembered."""
        if key in self._clean_keys:
            return key, []
        new_key, fired = self.text(key)
        if not fired and len(self._clean_keys) < _KEY_CACHE_SIZE:
            self._clean_keys.add(key)
        return new_key, fired

    def _list(self, value: list[Any], field: str, hits: dict[str, list[str]]) -> list[Any]:
        # A list of (name, value) pairs, as HTTP clients give headers:
        # [["Authorization", "…"], …]. A lone two-word list (tags) is no such pair.
        pairs = self.enabled and all(
            isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)
            for v in value
        )
        if self.enabled and len(value) > 1 and all(isinstance(v, str) for v in value):
            value = self._joined(value, field, hits)  # argv: "-p" "SECRET" spans two items
        out: list[Any] = []
        for i, v in enumerate(value):
            sub = f"{field}[{i}]"
            if pairs and self._hides(v[0], v[1]):
                hits[f"{sub}[1]"] = [SENSITIVE_KEY_RULE]
                out.append([v[0], self.marker(SENSITIVE_KEY_RULE, v[1])])
            else:
                out.append(self.value(v, sub, hits))
        return out

    def _joined(self, items: list[str], field: str, hits: dict[str, list[str]]) -> list[str]:
        """Items with every secret found in them joined by spaces put in markers, item by item
        (each piece of a secret that spans items becomes that piece's marker)."""
        starts = []
        pos = 0
        for item in items:
            starts.append(pos)
            pos += len(item) + 1
        cuts: list[list[tuple[int, int, str]]] = [[] for _ in items]
        for span in self.find(" ".join(items)):
            for i, first in enumerate(starts):
                lo, hi = max(span.start, first), min(span.end, first + len(items[i]))
                if lo < hi:
                    cuts[i].append((lo - first, hi - first, span.rule))
        out = []
        for i, (item, item_cuts) in enumerate(zip(items, cuts, strict=True)):
            if item_cuts:
                hits[f"{field}[{i}]"] = sorted({rule for _lo, _hi, rule in item_cuts})
            for lo, hi, rule in reversed(item_cuts):
                item = item[:lo] + self.marker(rule, item[lo:hi]) + item[hi:]
            out.append(item)
        return out

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
        if hits:
            meta[REDACTIONS_KEY] = dict(sorted(hits.items()))
        return desc, meta

    # -- files ------------------------------------------------------------------------------
    def redact_file(self, path: str, data: bytes) -> Redacted:
        """What to store of a file's content, with each replaced span's byte range.

        A sensitive path keeps only a line with its size and fingerprint (one span, the whole
        content); other content is scanned as text (bytes that are not UTF-8 pass through).
        """
        if not self.enabled:
            return Redacted(data, ())
        patterns = self._path_patterns(path) if data else []  # empty hides nothing
        if patterns and not (
            set(patterns) <= _CONTENT_GATED_PATHS and b"PRIVATE KEY" not in data
        ):
            span = Span(0, len(data), SENSITIVE_PATH_RULE, self.fingerprint(data))
            note = f"{self.marker(SENSITIVE_PATH_RULE, data)} {len(data)} bytes\n"
            return Redacted(note.encode("ascii"), (span,))
        text = data.decode("utf-8", "surrogateescape")
        result = self.redact(text)
        if not result.spans:
            return Redacted(data, ())
        return Redacted(
            str(result.value).encode("utf-8", "surrogateescape"), _byte_spans(text, result.spans)
        )

    def file_content(self, path: str, data: bytes) -> tuple[bytes, list[str]]:
        """What to store of a file's content, and the rules that fired."""
        result = self.redact_file(path, data)
        assert isinstance(result.value, bytes)
        return result.value, result.rules


def _byte_spans(text: str, spans: tuple[Span, ...]) -> tuple[Span, ...]:
    """Character spans of ``text`` as byte spans of its UTF-8 (surrogateescape) encoding."""
    if text.isascii():
        return spans
    out = []
    for s in spans:
        start = len(text[: s.start].encode("utf-8", "surrogateescape"))
        end = start + len(text[s.start : s.end].encode("utf-8", "surrogateescape"))
        out.append(dataclasses.replace(s, start=start, end=end))
    return tuple(out)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
