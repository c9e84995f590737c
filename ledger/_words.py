"""Words for messages: counts with the right plural."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "body": "bodies", "policy": "policies", "is": "are"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 entry``, ``2 entries``, ``0 events``: the count and the word it takes."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {many or _IRREGULAR.get(word) or word + 's'}"


def percent(ratio: float) -> str:
    """A ratio as people read it: ``0.1111`` is ``11.1%``."""
    return f"{ratio * 100:.1f}%"
