"""Tokens of a transcript and the span type every detector returns.

The text is tokenised once; each token keeps its offsets, its lower-case form and a type (N ascii digits,
W word, A letters and digits, P punctuation, X a protected machine value such as a clock time or a UUID).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import accumulate, compress
from operator import itemgetter, sub

from voicetrail.redaction.lexicon.numbers import JOIN_WORDS

# (start, end, kind, priority)
Span = tuple[int, int, str, int]
TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_")
# Each token with the white space before it: one pass gives the tokens and their offsets (see `Tokens`).
_SPACED_TOKEN_RE = re.compile(r"\s*(?:" + TOKEN_RE.pattern + ")")
ORDINAL_RE = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)
_HEX_WORD = re.compile(r"[0-9a-f]{8}", re.IGNORECASE)
# Machine values that look numeric but are never caller PII: clock times, timestamps, UUIDs, hex ids.
_PROTECTED_RE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\b"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    # hex ids: machines write them in lower case, or at 16 characters and more (a Twilio SID), with letters
    # among the digits. An upper-case 12-15 character value is a member or account id ("ABC123456789"), and
    # letters only in front are a cue typed onto a number ("cc5235766904284454"), never protected.
    r"|\b(?-i:(?=[0-9a-f]*[0-9][a-f]+[0-9])[0-9a-f]{12,})\b"
    r"|\b(?=[0-9a-f]*[0-9][a-f]+[0-9])[0-9a-f]{16,}\b",
    re.IGNORECASE,
)


class LazyPattern:
    """A pattern compiled on first use: the cold start pays only for the patterns every text needs, not
    for those a rare shape needs (spoken e-mails, phone extensions, non-ASCII text)."""

    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source, self._flags)
        return self._compiled


def anchored(
    tk: Tokens,
    text: str,
    regex: re.Pattern[str],
    first: frozenset[str],
    then: Mapping[str, frozenset[str]] | None = None,
) -> list[re.Match[str]]:
    """Matches of `regex` starting at tokens whose lower-case form is in `first`, left to right without
    overlap. Much faster than finditer for big alternations: most positions are never tried. `then` maps a
    common first word to the only words the pattern lets follow it ("the" -> "pin", "code")."""
    out: list[re.Match[str]] = []
    starts, lows, n = tk.starts, tk.lows, tk.n
    done = -1
    for i in tk.positions(first):
        if starts[i] < done:
            continue
        if then is not None and lows[i] in then and (i + 1 >= n or lows[i + 1] not in then[lows[i]]):
            continue
        m = regex.match(text, starts[i])
        if m is not None:
            out.append(m)
            done = m.end()
    return out


def alt(words: Sequence[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


class _TokenCache(dict[str, tuple[str, str]]):
    """raw -> `classify_token(raw)`, computed on first use: `map(cache.__getitem__, raws)` looks the known
    tokens up in C, and only a token seen for the first time runs Python."""

    __slots__ = ()

    def __missing__(self, raw: str) -> tuple[str, str]:
        info = self[raw] = classify_token(raw)
        return info


_TOKEN_CACHE = _TokenCache()
_LOW = itemgetter(0)
_TYPE = itemgetter(1)
_NUMERIC_TYPES = frozenset(("N", "A"))


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


class Tokens:
    __slots__ = ("_index", "ends", "lows", "n", "numeric", "raws", "starts", "types")

    def __init__(self, text: str) -> None:
        cache = _TOKEN_CACHE
        if len(cache) > 50_000:  # bounded: transcripts reuse a small vocabulary
            cache.clear()
        # findall and running sums are twice as fast as match objects, and one pass of the pattern with the
        # white space before each token is faster than two (the tokens, then `split` for the gaps): every
        # character that is not white space belongs to some token, so what precedes a token since the last
        # one is white space only, `\s` and `str.lstrip` agree on what white space is (`str.isspace`), and
        # no token starts with it. The running sum of the pieces' lengths is each token's end.
        pieces = _SPACED_TOKEN_RE.findall(text)
        raws = list(map(str.lstrip, pieces))  # the piece itself when nothing precedes the token
        ends = list(accumulate(map(len, pieces)))
        starts = list(map(sub, ends, map(len, raws)))
        infos = list(map(cache.__getitem__, raws))
        lows = list(map(_LOW, infos))
        types = list(map(_TYPE, infos))
        self.starts = starts
        self.ends = ends
        self.raws = raws
        self.lows = lows
        self.types = types
        self.n = n = len(starts)
        # Protected machine values start at a token with a digit (or a hex word opening a UUID): the pattern
        # is tried there only, not at every position of the text.
        self._index: dict[str, list[int]] | None = None
        self.numeric = numeric = list(compress(range(n), map(_NUMERIC_TYPES.__contains__, types)))
        candidates = numeric
        # a UUID whose first group has no digit ("deadbeef-...") starts at a word token before a hyphen
        if any(
            k > 0 and types[k - 1] == "W" and _HEX_WORD.fullmatch(raws[k - 1]) for k in self.positions({"-"})
        ):
            candidates = [k for k in range(n) if types[k] in ("N", "A") or _HEX_WORD.fullmatch(raws[k])]
        done = -1
        for k in candidates:
            if starts[k] < done:
                continue
            m = _PROTECTED_RE.match(text, starts[k])
            if m is None:
                continue
            done = m.end()
            j = k
            while j < n and starts[j] < done:
                types[j] = "X"
                j += 1

    def positions(self, words: frozenset[str] | set[str]) -> list[int]:
        """Indices of the tokens whose lower-case form is in `words`, in order. The detectors visit these
        instead of every token: one index per text, built on first use."""
        index = self._index
        if index is None:
            # each token's index appended to its word's list in C, not in a Python loop over the tokens:
            # `list.append(index[low], i)` for every token in order, `any` driving the map (append gives None)
            grouped: defaultdict[str, list[int]] = defaultdict(list)
            any(map(list.append, map(grouped.__getitem__, self.lows), range(self.n)))
            index = self._index = dict(grouped)
        out: list[int] = []
        for word in words:
            found = index.get(word)
            if found is not None:
                out.extend(found)
        out.sort()
        return out

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
