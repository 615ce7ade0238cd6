"""Tokens of a transcript and the span type every detector returns.

The text is tokenised once; each token keeps its offsets, its lower-case form and a type (N ascii digits,
W word, A letters and digits, P punctuation, X a protected machine value such as a clock time or a UUID).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from voicetrail.redaction.lexicon.numbers import JOIN_WORDS

# (start, end, kind, priority)
Span = tuple[int, int, str, int]
TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_")
ORDINAL_RE = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)
# Machine values that look numeric but are never caller PII: clock times, timestamps, UUIDs, hex ids.
_PROTECTED_RE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\b"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{12,}\b",
    re.IGNORECASE,
)


def anchored(tk: Tokens, text: str, regex: re.Pattern[str], first: frozenset[str]) -> list[re.Match[str]]:
    """Matches of `regex` starting at tokens whose lower-case form is in `first`, left to right without
    overlap. Much faster than finditer for big alternations: most positions are never tried."""
    out: list[re.Match[str]] = []
    lows, starts = tk.lows, tk.starts
    done = -1
    for i in range(tk.n):
        if starts[i] < done or lows[i] not in first:
            continue
        m = regex.match(text, starts[i])
        if m is not None:
            out.append(m)
            done = m.end()
    return out


def alt(words: Sequence[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_TOKEN_CACHE: dict[str, tuple[str, str]] = {}


def classify_token(raw: str) -> tuple[str, str]:
    """(lower-case form, type): N ascii digits, W word, A letters+digits, P punctuation."""
    low = raw.lower().replace("\u2019", "'")
    if raw.isascii() and raw.isdecimal():
        return low, "N"
    if raw.isalpha():
        return low, "W"
    if raw[0].isalnum() or raw[0] == "_":
        return low, "A" if raw.isascii() and any(c.isdigit() for c in raw) else "W"
    return low, "P"


def _cache_token(raw: str) -> tuple[str, str]:
    info = _TOKEN_CACHE[raw] = classify_token(raw)
    return info


class Tokens:
    __slots__ = ("ends", "lows", "n", "raws", "starts", "types")

    def __init__(self, text: str) -> None:
        cache = _TOKEN_CACHE
        if len(cache) > 50_000:  # bounded: transcripts reuse a small vocabulary
            cache.clear()
        matches = list(TOKEN_RE.finditer(text))
        raws = [m.group() for m in matches]
        starts = [m.start() for m in matches]
        ends = [m.end() for m in matches]
        infos = [cache.get(raw) or _cache_token(raw) for raw in raws]
        lows = [info[0] for info in infos]
        types = [info[1] for info in infos]
        self.starts = starts
        self.ends = ends
        self.raws = raws
        self.lows = lows
        self.types = types
        self.n = len(starts)
        if any(c.isdigit() for c in text):
            for m in _PROTECTED_RE.finditer(text):
                k = bisect_left(starts, m.start())
                while k < self.n and starts[k] < m.end():
                    types[k] = "X"
                    k += 1

    def index_at(self, pos: int) -> int:
        """Index of the first token starting at or after `pos`."""
        return bisect_left(self.starts, pos)


def crosses(breaks: Sequence[int], a: int, b: int) -> bool:
    if not breaks:
        return False
    k = bisect_left(breaks, a)
    return k < len(breaks) and breaks[k] < b


def skip_leadin(tk: Tokens, i: int) -> int:
    while i < tk.n and (
        (tk.types[i] == "P" and tk.lows[i] in (":", ",", "-", "'")) or tk.lows[i] in JOIN_WORDS
    ):
        i += 1
    return i


def capitalised(raw: str) -> bool:
    return (raw[:1].isupper() and not raw.isupper()) or (len(raw) > 1 and raw.isupper())


def newline_before(text: str, tk: Tokens, j: int) -> bool:
    return j > 0 and "\n" in text[tk.ends[j - 1] : tk.starts[j]]
