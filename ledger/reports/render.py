"""An audit report as text in the format asked for (JSON, Markdown or HTML), and its file.

``git ledger audit`` uses it; the report dict itself comes from LogQuery.generate_audit_report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ledger._outfile import write_output
from ledger.errors import InvalidInputError
from ledger.reports.html import render_audit_html
from ledger.reports.markdown import audit_markdown

AUDIT_FORMATS = ("json", "markdown", "html")
_ONE_LINE = json.JSONEncoder(ensure_ascii=False)


def audit_json(report: Mapping[str, Any]) -> str:
    """The report as indented JSON with each item of a list on one line of its own.

    Sections such as ``commands`` hold one item per entry of the period: written by the C
    encoder one item a line, they take a fraction of what ``indent=2`` (Python's encoder)
    takes at tens of thousands of entries, and they stay one ``grep`` line each.
    """
    if not report:
        return "{}\n"
    parts = []
    for key, value in report.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, list) and value:
            items = ",\n    ".join(map(_ONE_LINE.encode, value))
            parts.append(f"  {name}: [\n    {items}\n  ]")
        else:  # JSON strings hold no raw newline: re-indenting by lines is exact
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            parts.append(f"  {name}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def render_audit(report: Mapping[str, Any], fmt: str = "json") -> str:
    """The report as ``json`` (see ``audit_json``), ``markdown`` or ``html`` text, ending in
    a newline for JSON (Markdown and HTML as their renderers give them).

    Raises:
        InvalidInputError: an unknown format.
    """
    if fmt == "html":
        return render_audit_html(report)
    if fmt == "markdown":
        return audit_markdown(dict(report))
    if fmt == "json":
        return audit_json(report)
    raise InvalidInputError(f"unknown report format {fmt!r} ({', '.join(AUDIT_FORMATS)})")


def write_audit(
    report: Mapping[str, Any], output_file: str | os.PathLike[str], fmt: str = "json"
) -> str:
    """Render the report (see ``render_audit``) into ``output_file``; return the text."""
    text = render_audit(report, fmt)
    write_output(output_file, text)
    return text
