"""Cities, towns and counties tied to a person, emitted as `location` (only the PHI profile redacts it)."""

from __future__ import annotations

import re

import voicetrail.redaction._names as _names
from voicetrail.redaction.detection.tokens import Span, Tokens, anchored
from voicetrail.redaction.lexicon.dates import MONTHS, WEEKDAYS
from voicetrail.redaction.lexicon.names import NAME_STOPWORDS
from voicetrail.redaction.lexicon.places import (
    ADDRESS_WALK_STOP,
    LOCATION_FOLLOWERS,
    US_STATE_CODES,
    US_STATES,
)

# Words a location cue starts with: the cue is tried at these tokens only.
_LOCATION_FIRST = frozenset(
    {
        "i",
        "we",
        "he",
        "she",
        "they",
        "living",
        "moving",
        "moved",
        "relocated",
        "relocating",
        "based",
        "located",
    }
    | {"residing", "staying", "raised", "born", "grew", "city", "town", "county", "village", "borough"}
)
_PLACE_PREPOSITIONS = frozenset({"in", "from", "near", "outside"})
_PLACE_MARKS = LOCATION_FOLLOWERS | {","}
_LOCATION_CUE = re.compile(
    r"(?<![\w'])(?:(?:i|we|he|she|they)\s+(?:live|lives|lived|living|moved|reside|resides|stay|stays|grew\s+up)|"
    r"(?:living|moving|moved|relocated|relocating|based|located|residing|staying|raised|born|grew\s+up)|"
    r"(?:city|town|county|village|borough)\s+of)(?:\s+(?:in|to|near|outside(?:\s+of)?|around|at))?\s+",
    re.IGNORECASE,
)


# Priority of a place found only by a capital after "in/from/near": a name the tagger found there wins.
WEAK_LOCATION = 39


def detect_locations(text: str, tk: Tokens) -> list[Span]:
    """Cities, towns and counties tied to a person ("I live in Fresno", "we moved to Cedar Rapids",
    "Marin County", "Duluth, MN"). Emitted as `location`, which only the PHI profile redacts."""
    spans: list[Span] = []
    cased = any(c.isupper() for c in text) and any(c.islower() for c in text)

    def place_words(i: int) -> int:
        j = i
        while j < tk.n and j - i < 3 and tk.types[j] == "W":
            low, raw = tk.lows[j], tk.raws[j]
            if low in _names.NEVER_NAME or low in NAME_STOPWORDS or low in ADDRESS_WALK_STOP:
                break
            if cased and not raw[0].isupper():
                break
            j += 1
        return j

    for m in anchored(tk, text, _LOCATION_CUE, _LOCATION_FIRST):
        i = tk.index_at(m.end())
        j = place_words(i)
        if j > i:
            spans.append((tk.starts[i], tk.ends[j - 1], "location", 40))
    if cased:  # "nurse practitioner in Fresno": a capitalised place after a preposition, mid-sentence
        for k in tk.positions(_PLACE_PREPOSITIONS):
            if 1 <= k < tk.n - 1 and tk.raws[k].islower():
                i = k + 1
                if tk.lows[i] in MONTHS or tk.lows[i] in WEEKDAYS:
                    continue
                j = place_words(i)
                if j > i:
                    # weak evidence ("a text from Grace" is a person): below WEAK_LOCATION a name wins
                    spans.append((tk.starts[i], tk.ends[j - 1], "location", WEAK_LOCATION))
    for k in tk.positions(_PLACE_MARKS):
        if k < 1:
            continue
        low = tk.lows[k]
        if (
            low in LOCATION_FOLLOWERS
            and tk.types[k - 1] == "W"
            and (not cased or tk.raws[k - 1][0].isupper())
            and tk.lows[k - 1] not in _names.NEVER_NAME
            and tk.lows[k - 1] not in NAME_STOPWORDS
        ):
            spans.append((tk.starts[k - 1], tk.ends[k], "location", 40))
        elif (
            low == ","
            and k + 1 < tk.n
            and tk.types[k - 1] == "W"
            and (tk.raws[k + 1] in US_STATE_CODES or tk.lows[k + 1] in US_STATES)
        ):
            i = k - 1  # "Duluth, MN": the capitalised words before the comma
            while i > 0 and k - i < 3 and tk.types[i - 1] == "W" and tk.raws[i - 1][:1].isupper():
                i -= 1
            if tk.raws[i][:1].isupper():
                spans.append((tk.starts[i], tk.ends[k - 1], "location", 40))
    return spans
