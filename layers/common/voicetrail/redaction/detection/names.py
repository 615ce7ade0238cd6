"""Person names: after cues ("my name is", "this is", "Mr."), and the glue around the learned tagger
(`voicetrail.redaction._names`), which tags one line at a time with the previous line as context.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from voicetrail.redaction import _names
from voicetrail.redaction.detection.tokens import Span, Tokens, anchored, capitalised, skip_leadin
from voicetrail.redaction.lexicon.dates import MONTHS
from voicetrail.redaction.lexicon.names import (
    COMMON_FIRST_NAMES,
    MEDIA_WORDS,
    NAME_FIRST,
    NAME_FOLLOWERS,
    NAME_STOPWORDS,
    TITLES,
)
from voicetrail.redaction.lexicon.numbers import TEENS, TENS, UNITS
from voicetrail.redaction.lexicon.places import US_STATE_CODES

_NEWLINE = re.compile("\n")
_NAME_STRONG = re.compile(
    r"(?<![\w'])(?:my\s+(?:full\s+|first\s+|last\s+|middle\s+|maiden\s+|legal\s+)?name(?:'s|\s+is)|"
    r"(?:first|last|full|middle|maiden|legal|sur)\s*name(?:'s|\s+is)?|name\s+is|name's|"
    r"name\s+on\s+the\s+(?:card|account|policy)\s+is|"
    r"(?:patient|caller|member|subscriber|cardholder|account\s+holder|policy\s+holder|his|her|their)(?:'s)?\s+name"
    r"(?:'s|\s+is)?|(?:it's\s+|that's\s+)?spelled|called|named|goes\s+by)(?![\w'])",
    re.IGNORECASE,
)
_NAME_WEAK = re.compile(
    r"(?<![\w'])(?:this\s+is|i'm|i\s+am|speaking\s+with|calling\s+for|on\s+behalf\s+of|ask(?:ing)?\s+for|"
    r"my\s+(?:wife|husband|son|daughter|mother|mom|father|dad|brother|sister|partner|friend|grandmother|"
    r"grandfather|grandma|grandpa|aunt|uncle|niece|nephew|child|kid|boss|caregiver|doctor|fiance|fiancee)|"
    r"(?:mr|mrs|ms|miss|dr|doctor)\.?)(?![\w'])",
    re.IGNORECASE,
)


def detect_names(text: str, tk: Tokens) -> list[Span]:
    spans: list[Span] = []
    mixed_case = False

    def take(i: int, strong: bool) -> int:
        """Index one past the last name token starting at i (i if none); i is past any lead-in."""
        j = i
        words = 0
        letters = 0
        while j < tk.n:
            low, raw, t = tk.lows[j], tk.raws[j], tk.types[j]
            if t == "W" and len(raw) == 1 and raw.isalpha() and (strong or letters or raw.isupper()):
                # spelled out: "s m i t h", "S-M-I-T-H"
                if low in ("i", "a") and not letters:
                    # "Mr., I don't know": a lone I or a is a word unless more letters follow ("A-N-A")
                    nxt = tk.raws[j + 1] if j + 1 < tk.n else ""
                    nxt2 = tk.raws[j + 2] if j + 2 < tk.n else ""
                    if not raw.isupper() or not (len(nxt) == 1 and (nxt.isalpha() or len(nxt2) == 1)):
                        break
                letters += 1
                j += 1
                continue
            if t == "P" and low in ("-", ",", ".") and (letters or words) and j + 1 < tk.n:
                nxt = tk.raws[j + 1]
                if tk.types[j + 1] == "W" and (len(nxt) == 1 or (low == "-" and words)):
                    j += 1
                    continue
                break
            if t != "W" or words >= 3 or letters:
                break
            if (
                low in NAME_STOPWORDS
                or low in _names.NEVER_NAME  # "I'm-I'm", "Mr., I"
                or low in MONTHS
                or low in UNITS
                or low in TEENS
                or low in TENS
            ):
                break
            if raw.startswith("[") or (not raw.isalpha() and "'" not in raw):
                break
            if mixed_case and not capitalised(raw):
                break
            if not strong and words == 0 and not mixed_case and low not in COMMON_FIRST_NAMES:
                nxt = tk.lows[j + 1] if j + 1 < tk.n else ""
                if nxt not in NAME_FOLLOWERS:
                    break
            words += 1
            j += 1
        while j > i and tk.types[j - 1] == "P":
            j -= 1
        return j

    # transcripts may be all lower case; judge capitalisation on the cue's own line only, once per line
    # (found by bisection: a search back from each cue would make one long line quadratic)
    newlines = [m.start() for m in _NEWLINE.finditer(text)]
    line_cased: dict[int, bool] = {}
    for regex, strong in ((_NAME_STRONG, True), (_NAME_WEAK, False)):
        for m in anchored(tk, text, regex, NAME_FIRST):
            k = bisect_left(newlines, m.start())
            if k not in line_cased:
                line = text[newlines[k - 1] + 1 if k else 0 : newlines[k] if k < len(newlines) else len(text)]
                line_cased[k] = any(ch.isupper() for ch in line) and any(ch.islower() for ch in line)
            mixed_case = line_cased[k]
            i = skip_leadin(tk, tk.index_at(m.end()))
            j = take(i, strong)
            if j > i:
                spans.append((tk.starts[i], tk.ends[j - 1], "name", 70))
    return spans


_SENTENCE_PUNCT = frozenset({".", "?", "!"})
# Inside a name only hyphens, apostrophes and the period of an initial ("J. R. Smith") may appear.
_NAME_BREAKS = frozenset(
    {",", ":", ";", "(", ")", '"', "/", "[", "]", "\u201c", "\u201d", "|", "&", "+", "="}
)


def detect_names_learned(text: str, tk: Tokens) -> list[Span]:
    """Names found by the CRF tagger, one line (turn) at a time, with the previous line as context."""
    if tk.n == 0:
        return []
    tagger: _names.NameTagger | None = None  # loaded on the first line worth tagging
    spans: list[Span] = []
    line_start, k = 0, 0
    previous: str | None = None
    while True:
        newline = text.find("\n", line_start)
        line_end = len(text) if newline < 0 else newline
        first = k
        while k < tk.n and tk.starts[k] < line_end:
            k += 1
        line = text[line_start:line_end]
        if k > first and "W" in tk.types[first:k] and not _machine_value(line):
            tagger = tagger or _names.tagger()
            if previous is None and " " not in line.strip() and not _known_names(tagger, tk, first, k):
                # one word alone, no question before it: "twilio", "inboundPhoneCall" are metadata values;
                # only a word the name lists know ("Maria") is taken for a name there
                line_start = newline + 1
                if newline < 0:
                    return spans
                continue
            cased = any(c.isupper() for c in line) and any(c.islower() for c in line)
            rows = tagger.emissions(
                tk.raws[first:k], tk.lows[first:k], tk.types[first:k], cased, _names.question_type(previous)
            )
            for a, b in tagger.spans(tagger.decode(rows)):
                spans.extend(_name_pieces(tk, first + a, first + b))
            previous = line
        if newline < 0:
            return spans
        line_start = newline + 1


def _known_names(tagger: _names.NameTagger, tk: Tokens, first: int, end: int) -> bool:
    words = [tk.lows[i] for i in range(first, end) if tk.types[i] == "W"]
    return all("F" in (f := tagger.flags(w)) or "L" in f for w in words)


_MACHINE_VALUE = re.compile(r"\S*[\d/:_@=]\S*|[a-z]{2}-[A-Z]{2}")  # ids, URLs, times; "en-US"


def _machine_value(line: str) -> bool:
    """One word with digits or URL/ID punctuation ("inboundPhoneCall" stays in, "wss://...", "CA79cb..."
    and "2026-11-25T14:00" are out): metadata fields of every webhook, never a person's name."""
    return _MACHINE_VALUE.fullmatch(line) is not None


def _name_pieces(tk: Tokens, i: int, j: int) -> list[Span]:
    """A tagged token range as spans: punctuation trimmed, split at a sentence end ("Ramirez. Thanks")."""
    out: list[Span] = []
    start = i
    for m in range(i, j + 1):
        boundary = (
            m == j
            or tk.types[m] in ("N", "A", "X")  # digits are never part of a name
            or tk.lows[m] in _NAME_BREAKS
            or tk.lows[m] in _names.NEVER_NAME
            or tk.raws[m] in US_STATE_CODES  # "Duluth, MN"
            or (
                tk.lows[m] in _SENTENCE_PUNCT and m > i and len(tk.raws[m - 1]) > 1 and tk.types[m - 1] == "W"
            )
        )
        if not boundary:
            continue
        a, b = start, m
        while a < b and tk.types[a] == "P":
            a += 1
        while b > a and tk.types[b - 1] == "P":
            b -= 1
        if a < b:
            # below the digit kinds (60): a number the tagger wrongly took keeps its own kind
            out.append((tk.starts[a], tk.ends[b - 1], "name", 58))
        start = m + 1
    return out


def media_title(tk: Tokens, start: int) -> bool:
    """A name right after a title after a media word is a title of a film or book ("watched Dr. Strangelove",
    "the movie Miss Congeniality"), not a person."""
    i = tk.index_at(start) - 1
    if i >= 0 and tk.lows[i] == ".":
        i -= 1
    if i < 1 or tk.lows[i] not in TITLES:
        return False
    j = i - 1
    if tk.lows[j] == "the" and j > 0:
        j -= 1
    return tk.lows[j] in MEDIA_WORDS or tk.lows[j] in ("'", '"', "“")
