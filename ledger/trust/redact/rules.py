"""The Rule type: a named pattern, the keywords that make it cheap, and an optional value gate.

Also the small value tests (entropy, placeholders, code-shaped values) the gated rules share.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import math
import re
from collections.abc import Callable, Iterator


@dataclasses.dataclass(frozen=True)
class Rule:
    """A named pattern; the secret is its first matching group (else the whole match).

    ``keywords`` make scanning cheap: the regex runs only when the text holds one of them
    (lower case, looked for in the lower-cased text, unless ``case_sensitive``) and, when
    ``window`` is set, only from ``back`` characters before each keyword to ``window``
    characters after it (a match reaching a window's end is retried without the limit, so a
    long secret is never cut short). ``accept``, when set, must return True for the secret
    found, else the match is dropped: how a rule asks that a value look like a secret.
    """

    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...] = ()
    window: int | None = None
    back: int = 32
    case_sensitive: bool = False
    accept: Callable[[str], bool] | None = None

    @functools.cached_property
    def _keyword_re(self) -> re.Pattern[str] | None:
        if not self.keywords:
            return None
        return re.compile("|".join(re.escape(k) for k in self.keywords))

    def spans(
        self,
        text: str,
        lower: str,
        seen: dict[tuple[bool, str], bool] | None = None,
        *,
        gated: bool = False,
    ) -> Iterator[tuple[int, int]]:
        """Start and end of each secret this rule finds in ``text``.

        ``seen`` caches, across the rules run over one text, which keywords it holds;
        ``gated`` says the caller already knows ``text`` holds one of them.
        """
        finder = self._keyword_re
        if finder is None:
            yield from self._scan(text, 0, len(text))
            return
        haystack = text if self.case_sensitive else lower
        if not gated and not self._holds_keyword(haystack, {} if seen is None else seen):
            return
        if self.window is None or len(lower) != len(text):
            yield from self._scan(text, 0, len(text))
            return
        windows: list[list[int]] = []
        for hit in finder.finditer(haystack):
            start = max(0, hit.start() - self.back)
            end = min(len(text), hit.end() + self.window)
            if windows and start <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], end)
            else:
                windows.append([start, end])
        for start, end in windows:
            yield from self._scan(text, start, end)

    def _holds_keyword(self, haystack: str, seen: dict[tuple[bool, str], bool]) -> bool:
        for k in self.keywords:
            held = seen.get((self.case_sensitive, k))
            if held is None:
                held = seen[(self.case_sensitive, k)] = k in haystack
            if held:
                return True
        return False

    def _scan(self, text: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
        for match in self.pattern.finditer(text, pos, endpos):
            if match.end() == endpos < len(text):
                match = self.pattern.match(text, match.start()) or match
            groups = [i for i in range(1, (self.pattern.groups or 0) + 1) if match.group(i)]
            start, end = match.span(groups[0]) if groups else match.span()
            if end > start and (self.accept is None or self.accept(text[start:end])):
                yield start, end


def rule(
    name: str,
    regex: str,
    *keywords: str,
    case_sensitive: bool = False,
    accept: Callable[[str], bool] | None = None,
) -> Rule:
    """A default rule: keywords (lower case unless ``case_sensitive``) and a 4 KiB window."""
    return Rule(name, re.compile(regex), tuple(keywords), 4096, 32, case_sensitive, accept)


# --- value tests -----------------------------------------------------------------------------


def entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in collections.Counter(value).values())


# Words that mark a value as an example, a placeholder or a template, never a live secret.
STOPWORDS = (
    "example",
    "sample",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "your_",
    "your-",
    "yourpass",
    "yoursecret",
    "yourtoken",
    "dummy",
    "insecure",
    "redacted",
    "password",
    "<",
    ">",
    "{{",
    "}}",
    "${",
    "%(",
    "%s",
    "#{",
    "$(",
    "://",
    "process.env",
    "os.environ",
    "getenv",
    "secrets.",
    "settings.",
    "config.",
)
_SEGMENT = r"_*[A-Za-z][a-z]*\d*|_*[A-Z]+\d*"
_WORDY = re.compile(r"[a-z]+(?:[A-Z][a-z]{2,})*|[A-Z]*(?:[A-Z][a-z]{2,})+|[A-Z]+|[a-z]+")
_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+(?:\(\))?")
_WORDS_JOINED = re.compile(rf"(?:{_SEGMENT})(?:[_-]+(?:{_SEGMENT}))*_*")
_REPEATS = re.compile(r"(.)\1{3,}")
_TEMPLATE = re.compile(r"\{[^}]*\}|\[\[|\]\]")
# A password hash (Django, passlib, crypt) is stored on purpose: it is not the password.
_HASHED = re.compile(
    r"(?:pbkdf2_\w+|argon2\w*|bcrypt\w*|scrypt|sha1|md5|crypt)\$|\$[0-9a-z]{1,2}\$"
)
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl")


def entropy_floor(length: int) -> float:
    """The entropy a random value of ``length`` characters clears: gitleaks' 3.5, eased for
    long values only (a random 18-character value rarely reaches 3.5 bits a character)."""
    if length < 16:
        return 3.5
    return min(3.5, 0.8 * math.log2(length))


_FILLER = re.compile(
    "|".join(
        re.escape(seq[i : i + 5]) + "".join(f"{re.escape(c)}?" for c in seq[i + 5 :])
        for seq in _SEQUENCES
        for i in range(len(seq) - 4)
    ),
    re.IGNORECASE,
)


def without_filler(value: str) -> str:
    """``value`` without runs (``aaaa``) and sequences (``abcde``, ``12345``): no randomness."""
    return _FILLER.sub("", _REPEATS.sub("", value.lower()))


def _mostly_filler(low: str) -> bool:
    """True when too little is left, once runs and sequences are cut out, to be a secret."""
    return len(without_filler(low)) < 8


def placeholder(value: str) -> bool:
    """True for a value that names, templates or stands in for a secret instead of being one."""
    low = value.lower()
    if value.startswith(("$", "%", "@", "&", "*", "!", "?")) or any(w in low for w in STOPWORDS):
        return True
    if _TEMPLATE.search(value) or _HASHED.match(value):
        return True
    return _mostly_filler(low)


def code_shaped(value: str) -> bool:
    """True for a value shaped like code: an identifier, a dotted path, words joined by _ or -.

    Random letters are not: they mix case with no word shape (``zQpLmRkT…``).
    """
    value = value.lstrip("+-!~")
    if value.isdigit() or _DOTTED.fullmatch(value):
        return True
    if value.isalpha():
        return bool(_WORDY.fullmatch(value))
    return bool(_WORDS_JOINED.fullmatch(value)) and not value.isalnum()


def secret_like(value: str, *, min_len: int = 8, min_entropy: float | None = None) -> bool:
    """A value that may be a secret: long enough, varied enough, not a placeholder or code."""
    if len(value) < min_len or not value.isprintable() or any(c.isspace() for c in value):
        return False
    if placeholder(value) or code_shaped(value):
        return False
    core = _core(value)
    floor = entropy_floor(len(core)) if min_entropy is None else min_entropy
    return entropy(core) >= floor


def _core(value: str) -> str:
    """``value`` with filler cut out, keeping the case of what is left."""
    return _FILLER.sub("", _REPEATS.sub("", value)) if value.isascii() else value


def alternatives(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """All keywords of several groups, once each, in order."""
    return tuple(dict.fromkeys(itertools.chain.from_iterable(groups)))
