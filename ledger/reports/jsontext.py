"""An audit report as JSON text: indented, with each listed item on a line of its own."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_ONE_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class RawJson(str):
    """A listed item that is already JSON text, written as it is.

    The SQL audit can hand over its commands and API calls as the text SQLite built (see
    ``reports.audit_sql``) to a caller that only writes the report as JSON: that text is
    what ``_ONE_LINE`` would write for the item, so neither parsing nor encoding is needed.
    """

    __slots__ = ()


def _item(value: Any) -> str:
    return value if type(value) is RawJson else _ONE_LINE.encode(value)


def audit_json(report: Mapping[str, Any]) -> str:
    """The report as indented JSON with each item of a list on one line of its own.

    Sections such as ``commands`` hold one item per entry of the period: written by the C
    encoder (compact) one item a line, they take a fraction of what ``indent=2`` (Python's
    encoder) takes at tens of thousands of entries, and they stay one ``grep`` line each.
    Items that are ``RawJson`` are written as they are.
    """
    if not report:
        return "{}\n"
    parts = []
    for key, value in report.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, list) and value:
            items = ",\n    ".join(map(_item, value))
            parts.append(f"  {name}: [\n    {items}\n  ]")
        else:  # JSON strings hold no raw newline: re-indenting by lines is exact
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            parts.append(f"  {name}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"
