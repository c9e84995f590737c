"""The keyword gate: which rules can match a text, found with one scan for all rules.

Every default rule names keywords, one of which any text it matches holds (gitleaks'
keyword pre-filter). Instead of each rule looking for its own keywords, the gate looks for
every distinct keyword once and hands back only the rules whose keywords occur: most texts
an agent logs (commands, outputs, ordinary code) hold none, and then no regex runs at all.

Short texts are tested only for the keywords that begin with one of their two-character
pairs; long ones for every keyword (a substring search each, which is fast in C). The gate
is built once per rule set and process.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ledger.trust.redact.rules import Rule

# Up to this many characters, pairs are cheaper to gather than a search for every keyword.
_SHORT = 400


class KeywordGate:
    """The rules of a rule set, indexed by keyword. Build with :func:`gate_for`."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.always = tuple(i for i, r in enumerate(rules) if not r.keywords)
        owners: dict[tuple[bool, str], set[int]] = {}
        for i, r in enumerate(rules):
            for k in r.keywords:
                owners.setdefault((r.case_sensitive, k), set()).add(i)
        # (case-sensitive, keyword, the rules it gates)
        self.keywords = tuple((cs, k, frozenset(ix)) for (cs, k), ix in owners.items())
        # By case (False: looked for in the lower-cased text), the keywords by first pair.
        self._pairs: tuple[dict[str, list[tuple[str, frozenset[int]]]], ...] = ({}, {})
        self._tiny: list[tuple[bool, str, frozenset[int]]] = []
        for cs, k, ix in self.keywords:
            if len(k) < 2:
                self._tiny.append((cs, k, ix))
            else:
                self._pairs[cs].setdefault(k[:2], []).append((k, ix))
        self._pair_sets = tuple(frozenset(p) for p in self._pairs)

    def rules_for(self, text: str, lower: str) -> list[int]:
        """Indices, in rule order, of the rules whose keywords ``text`` holds (and of those
        without keywords); ``lower`` is ``text.lower()``."""
        chosen: set[int] = set(self.always)
        if len(text) <= _SHORT:
            self._short_scan(text, lower, chosen)
        else:
            for cs, k, ix in self.keywords:
                if k in (text if cs else lower):
                    chosen |= ix
        return sorted(chosen)

    def _short_scan(self, text: str, lower: str, chosen: set[int]) -> None:
        lower_pairs = set(map(str.__add__, lower, lower[1:]))
        text_pairs = lower_pairs if text == lower else set(map(str.__add__, text, text[1:]))
        for cs, hay, pairs in ((False, lower, lower_pairs), (True, text, text_pairs)):
            by_pair = self._pairs[cs]
            for pair in pairs & self._pair_sets[cs]:
                for k, ix in by_pair[pair]:
                    if k in hay:
                        chosen |= ix
        for cs, k, ix in self._tiny:
            if k in (text if cs else lower):
                chosen |= ix


@functools.lru_cache(maxsize=16)
def gate_for(rules: tuple[Rule, ...]) -> KeywordGate:
    """The gate of a rule set, built once per process."""
    return KeywordGate(rules)
