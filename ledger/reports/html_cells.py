"""Small HTML pieces of the audit page: escaping, table cells, times and diff markup.

Every value from the ledger goes through :func:`esc` before it reaches the page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from ledger.reports.details import parse_time


def esc(value: Any) -> str:
    """HTML-escape anything (None shows as an empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    """A table of rows of ready cells, or the ``empty`` note when there are none."""
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    if not body:
        return f'<p class="muted">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def td(value: Any, cls: str = "") -> str:
    """A cell holding the escaped value."""
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{esc(value)}</td>"


def code(value: Any) -> str:
    """A cell holding the escaped value as code."""
    return f"<td><code>{esc(value)}</code></td>"


def pill(text: Any, kind: str) -> str:
    """A cell holding a coloured label (``kind`` picks the colour)."""
    return f'<td><span class="pill {esc(kind)}">{esc(text)}</span></td>'


def short(entry_id: Any) -> str:
    """The first 12 hex digits of an id."""
    return str(entry_id or "")[:12]


def when(text: Any) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM:SS UTC`` (anything else as it is)."""
    stamp = parse_time(text) if isinstance(text, str) else None
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC") if stamp else str(text or "")


def diff_html(text: str) -> str:
    """A unified diff as a block with added, removed and hunk lines marked."""
    out = []
    for line in text.splitlines():
        cls = ""
        if line.startswith("+") and not line.startswith("+++"):
            cls = "add"
        elif line.startswith("-") and not line.startswith("---"):
            cls = "del"
        elif line.startswith("@@"):
            cls = "hunk"
        out.append(f'<span class="{cls}">{esc(line)}</span>' if cls else esc(line) + "\n")
    return '<pre class="diff">' + "".join(out) + "</pre>"
