"""Unified diffs of recorded file states: the one place that builds unified-diff text.

``LogQuery.get_diff`` shows an entry's step; the HTML report shows the same lines, cut short.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ledger.entry import Entry
from ledger.read.index_rows import entry_file
from ledger.types import ChangeType

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_lines(
    old_text: str, new_text: str, old_name: str, new_name: str, context: int = 3
) -> list[str]:
    """The lines of a unified diff between two texts, as :func:`difflib.unified_diff` gives
    them (a last line without a newline stays without one)."""
    return list(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            old_name,
            new_name,
            n=context,
        )
    )


def join_lines(lines: Iterable[str]) -> str:
    """Diff lines as text, marking a last line without a newline the way git does."""
    return "".join(line if line.endswith("\n") else line + "\n" + NO_NEWLINE for line in lines)


def unified_diff(
    old_text: str, new_text: str, old_name: str, new_name: str, context: int = 3
) -> str:
    """The unified diff between two texts, git-style (``\\ No newline at end of file``)."""
    return join_lines(unified_lines(old_text, new_text, old_name, new_name, context))


def entry_diff(entry: Entry, context: int = 3) -> str:
    """The unified diff of a file change (``""`` for entries without file states)."""
    if entry.file_path is None or (
        entry.file_hash_before is None and entry.file_hash_after is None
    ):
        return ""
    name = entry_file(entry) or entry.file_path
    before = entry.before_bytes if entry.file_hash_before else None
    after = entry.after_bytes if entry.file_hash_after else None
    if entry.change_type is ChangeType.FILE_CREATE and before is None:
        old_name = "/dev/null"
    else:
        old_name = f"a/{name}"
    new_name = "/dev/null" if entry.change_type is ChangeType.FILE_DELETE else f"b/{name}"
    try:
        old_text = (before or b"").decode("utf-8")
        new_text = (after or b"").decode("utf-8")
    except UnicodeDecodeError:
        return f"Binary files {old_name} and {new_name} differ\n"
    return unified_diff(old_text, new_text, old_name, new_name, context)
