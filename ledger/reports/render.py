"""An audit report as text in the format asked for (JSON, Markdown or HTML), and its file.

``git ledger audit`` uses it; the report dict itself comes from LogQuery.generate_audit_report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ledger._outfile import write_output
from ledger.errors import InvalidInputError
from ledger.reports.jsontext import audit_json

AUDIT_FORMATS = ("json", "markdown", "html")


def render_audit(report: Mapping[str, Any], fmt: str = "json") -> str:
    """The report as ``json`` (see ``audit_json``), ``markdown`` or ``html`` text, ending in
    a newline for JSON (Markdown and HTML as their renderers give them).

    Raises:
        InvalidInputError: an unknown format.
    """
    if fmt == "html":  # the renderers load when asked for: JSON is the common case
        from ledger.reports.html import render_audit_html

        return render_audit_html(report)
    if fmt == "markdown":
        from ledger.reports.markdown import audit_markdown

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
