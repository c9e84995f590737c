"""Redacted file states: where their markers are, and how the original comes back exactly.

A redacted state is recorded with its marks: each marker's byte range in the stored blob, the
rule and the secret's keyed fingerprint. The original is rebuilt only by filling every mark
with a secret from another copy of the file (the one on disk) whose fingerprint proves it is
the same secret; a state with a mark nothing can fill is never rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ledger.trust.redact.engine import MARKER_RE, SENSITIVE_PATH_RULE, Redacted, Redactor

MARKS_KEY = "redacted_states"  # entry metadata: {"before"|"after": [[start, end, rule, fp]]}

Mark = tuple[int, int, str, str]  # start, end (bytes of the stored blob), rule, fingerprint


def marks_of(result: Redacted) -> list[list[Any]]:
    """The marks of a redacted file content: each marker's place in ``result.value``."""
    stored = result.value
    assert isinstance(stored, bytes)
    if len(result.spans) == 1 and result.spans[0].rule == SENSITIVE_PATH_RULE:
        span = result.spans[0]
        return [[0, len(stored), span.rule, span.fingerprint]]
    marks: list[list[Any]] = []
    shift = 0
    for span in result.spans:
        size = len(f"[REDACTED:{span.rule}:hmac={span.fingerprint}]")
        start = span.start + shift
        marks.append([start, start + size, span.rule, span.fingerprint])
        shift += size - (span.end - span.start)
    return marks


def parse_marks(value: object) -> list[Mark] | None:
    """Marks as recorded in metadata, or None when they are not well formed."""
    if not isinstance(value, list):
        return None
    out: list[Mark] = []
    for item in value:
        if not (
            isinstance(item, list)
            and len(item) == 4
            and all(isinstance(x, int) and not isinstance(x, bool) for x in item[:2])
            and all(isinstance(x, str) for x in item[2:])
        ):
            return None
        out.append((item[0], item[1], item[2], item[3]))
    return out


def marker_marks(stored: bytes) -> list[Mark]:
    """Every marker found in a stored blob (for states recorded without their marks)."""
    text = stored.decode("utf-8", "surrogateescape")
    marks: list[Mark] = []
    for m in MARKER_RE.finditer(text):
        start = len(text[: m.start()].encode("utf-8", "surrogateescape"))
        end = start + len(m.group().encode("utf-8", "surrogateescape"))
        rule, fp = m.group()[len("[REDACTED:") : -1].rsplit(":hmac=", 1)
        marks.append((start, end, rule, fp))
    return marks


def secrets_in(redactor: Redactor, path: str, data: bytes) -> dict[str, bytes]:
    """The secrets the redactor finds in ``data``, by keyed fingerprint."""
    found = redactor.redact_file(path, data)
    return {s.fingerprint: data[s.start : s.end] for s in found.spans}


def fill(stored: bytes, marks: Sequence[Mark], secrets: dict[str, bytes]) -> bytes | None:
    """The original content: every mark replaced by its secret; None if one is missing."""
    out: list[bytes] = []
    pos = 0
    for start, end, _rule, fingerprint in sorted(marks):
        secret = secrets.get(fingerprint)
        if secret is None or start < pos or end > len(stored):
            return None
        out.append(stored[pos:start])
        out.append(secret)
        pos = end
    out.append(stored[pos:])
    return b"".join(out)


def fingerprints(marks: Iterable[Mark]) -> set[str]:
    return {m[3] for m in marks}
