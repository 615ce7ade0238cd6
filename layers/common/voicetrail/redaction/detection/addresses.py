"""Street addresses: from a street suffix back to the house number and on over unit, city, state and ZIP;
after an address cue; from a ZIP after a state back to the house number (military mail included); streets
without a suffix ("88 South Halsted"); a ZIP right after a state.
"""

from __future__ import annotations

import re

from voicetrail.redaction import _names
from voicetrail.redaction.detection.runs import Run
from voicetrail.redaction.detection.tokens import (
    ORDINAL_RE,
    Span,
    Tokens,
    anchored,
    newline_before,
    skip_leadin,
)
from voicetrail.redaction.lexicon.names import NAME_STOPWORDS
from voicetrail.redaction.lexicon.numbers import TEENS, TENS, UNITS
from voicetrail.redaction.lexicon.places import (
    ADDRESS_FIRST,
    ADDRESS_STOP,
    ADDRESS_WALK_STOP,
    DIRECTIONS,
    DIRECTIONS_LONG,
    MILITARY_POST,
    MILITARY_REGION,
    MILITARY_UNIT,
    NOT_LOWER_CODES,
    STATE_SECOND,
    STREET_PREFIXES,
    STREET_SUFFIXES,
    UNIT_WORDS,
    US_STATE_CODES,
    US_STATES,
)

_ADDRESS_CUE = re.compile(
    r"(?<![\w'])(?:(?:my|the|our|his|her|their)\s+(?:home\s+|mailing\s+|billing\s+|street\s+|current\s+|new\s+|"
    r"old\s+|shipping\s+)?address(?:\s+on\s+file)?(?:\s+is|'s)?|(?:i|we|they|he|she)\s+(?:live|lives|living|reside|"
    r"resides|moved)\s+(?:at|on|to)|(?:send|ship|mail)\s+(?:it|them|that)\s+to|residing\s+at)(?![\w'])",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\bp\.?\s?o\.?\s+box\s+", re.IGNORECASE)


def detect_addresses(text: str, tk: Tokens, runs: list[Run]) -> list[Span]:
    spans: list[Span] = []
    run_by_last = {r.last: r for r in runs}

    def extend_tail(j: int) -> int:
        """From token j (exclusive end index), absorb unit, city, state and ZIP."""
        k = j
        if k < tk.n and tk.lows[k] == ".":
            k += 1
        if k < tk.n and tk.lows[k] in DIRECTIONS:
            k += 1
        end = k
        scan = k
        if scan < tk.n and tk.lows[scan] == ",":
            scan += 1
        if scan < tk.n and tk.lows[scan] in UNIT_WORDS:
            scan += 1
            if scan < tk.n and tk.lows[scan] in ("number", "#"):
                scan += 1
            if scan < tk.n and (
                tk.types[scan] in ("N", "A") or len(tk.raws[scan]) == 1 or tk.lows[scan] in UNITS
            ):
                scan += 1
                while scan < tk.n and (tk.types[scan] in ("N", "A") or tk.lows[scan] in UNITS):
                    scan += 1
                end = scan
        # city words then a state (name or code), then an optional ZIP
        scan2 = end
        for _ in range(5):
            if scan2 < tk.n and tk.lows[scan2] == ",":
                scan2 += 1
            if scan2 >= tk.n:
                break
            low, raw = tk.lows[scan2], tk.raws[scan2]
            if low in US_STATES or raw in US_STATE_CODES:
                scan2 += 1
                end = scan2
                if scan2 < tk.n and tk.lows[scan2] == ",":
                    scan2 += 1
                if scan2 in run_first and run_first[scan2].digits in (5, 9):
                    end = run_first[scan2].last + 1
                break
            if tk.types[scan2] == "W" and low not in ADDRESS_STOP and low not in NAME_STOPWORDS:
                scan2 += 1
                continue
            break
        return end

    run_first = {r.first: r for r in runs}
    for s in range(tk.n):
        if tk.lows[s] not in STREET_SUFFIXES or tk.types[s] != "W":
            continue
        # walk back over the street name (1-4 words or an ordinal) to a house number run
        k = s - 1
        words = 0
        while k >= 0 and words < 4 and (tk.types[k] == "W" or ORDINAL_RE.fullmatch(tk.lows[k])):
            if tk.lows[k] in ("the", "is", "at", "on", "my", "and", "a", "of", "in") or k in run_by_last:
                break
            words += 1
            k -= 1
        if words == 0 or k < 0 or k not in run_by_last:
            continue
        run = run_by_last[k]
        if run.digits > 6 or run.letters:
            continue
        end_tok = extend_tail(s + 1)
        spans.append((run.start, tk.ends[end_tok - 1], "address", 80))

    for m in _PO_BOX.finditer(text):
        i = tk.index_at(m.end())
        if i in run_first:
            spans.append((m.start(), run_first[i].end, "address", 80))

    for m in anchored(tk, text, _ADDRESS_CUE, ADDRESS_FIRST):
        i = skip_leadin(tk, tk.index_at(m.end()))
        j = i
        first: int | None = None  # the span starts at the first evidence, not at the cue ("uh let me think")
        while j < tk.n and j - i < 16:
            low = tk.lows[j]
            if low in ("?", "!") or low in ADDRESS_STOP or newline_before(text, tk, j):
                break
            if low == "." and (j + 1 >= tk.n or tk.starts[j + 1] > tk.ends[j]):
                # "Oak St. Apt 4" goes on; "Oak St. Maria will be there" is a new sentence
                if (
                    j > i
                    and tk.lows[j - 1] in STREET_SUFFIXES
                    and j + 1 < tk.n
                    and _address_goes_on(tk, j + 1)
                ):
                    j += 1
                    continue
                break
            if first is None and (
                (tk.types[j] in ("N", "A") and tk.types[j] != "X")
                or (low in UNITS and low not in ("o", "oh"))
                or low in TEENS
                or low in TENS
            ):
                first = j
            j += 1
        while j > i and tk.types[j - 1] == "P":
            j -= 1
        if first is not None and j > first:
            evidence = any(
                tk.lows[k] in STREET_SUFFIXES or tk.lows[k] in US_STATES or tk.raws[k] in US_STATE_CODES
                for k in range(first, j)
            )
            if evidence:
                spans.append((tk.starts[first], tk.ends[j - 1], "address", 75))
    spans += _detect_address_by_tail(text, tk, runs)
    spans += _detect_streets_without_suffix(text, tk, runs)
    return spans


def _address_goes_on(tk: Tokens, j: int) -> bool:
    raw, low = tk.raws[j], tk.lows[j]
    return (
        tk.types[j] in ("N", "A")
        or low in (",", "#")
        or low in UNIT_WORDS
        or raw in US_STATE_CODES
        or low in US_STATES
        or raw[:1].islower()
    )


def _state_at(tk: Tokens, k: int) -> int | None:
    """Index of the first token of a US state (name or code) ending at token k, else None."""
    raw, low = tk.raws[k], tk.lows[k]
    if raw in US_STATE_CODES or low in US_STATES:
        return k
    if len(raw) == 2 and raw.islower() and raw.upper() in US_STATE_CODES and low not in NOT_LOWER_CODES:
        return k
    if low in STATE_SECOND and k > 0 and tk.lows[k - 1] in ("new", "north", "south", "rhode"):
        return k - 1
    return None


def _detect_address_by_tail(text: str, tk: Tokens, runs: list[Run]) -> list[Span]:
    """Whole addresses found from their end: a ZIP after a state (or after APO/FPO/DPO AA/AE/AP), walked
    back over city, unit and street words to the house number (or to Unit/PSC/CMR for military mail).
    Works without a street suffix ("1861 North Kettering, Yonkers, NY 10701")."""
    spans: list[Span] = []
    run_last = {r.last: r for r in runs}
    for zr in runs:
        if zr.letters or zr.digits not in (5, 9) or zr.first == 0:
            continue
        k = zr.first - 1
        if tk.lows[k] == "," and k > 0:
            k -= 1
        military = tk.lows[k] in MILITARY_REGION and k > 0 and tk.lows[k - 1] in MILITARY_POST
        state = k - 1 if military else _state_at(tk, k)
        if state is None:
            continue
        j, words, start = state - 1, 0, None
        while j >= 0 and words < 10 and not newline_before(text, tk, j + 1):
            low = tk.lows[j]
            run = run_last.get(j)
            if run is not None:
                before = tk.lows[run.first - 1] if run.first > 0 else ""
                if military and before in MILITARY_UNIT:
                    start = run.first - 1
                    break
                if before in UNIT_WORDS or before in ("box", "#") or (military and before in ("unit", "box")):
                    j = run.first - 1
                    continue
                if not run.letters and run.digits <= 6 and not military:
                    start = run.first
                break
            if low in (",", "#", "-") or (low == "." and j > 0 and tk.lows[j - 1] in STREET_SUFFIXES):
                j -= 1
                continue
            if tk.types[j] != "W" or low in ADDRESS_WALK_STOP or low in ("?", "!"):
                break
            words += 1
            j -= 1
        if start is not None:
            spans.append((tk.starts[start], zr.end, "address", 80))
    return spans


def _detect_streets_without_suffix(text: str, tk: Tokens, runs: list[Run]) -> list[Span]:
    """ "88 South Halsted", "1200 Avenida Real": a house number, a direction or a Spanish/French street
    word, then a name (capitalised when the text is cased)."""
    spans: list[Span] = []
    cased = any(c.isupper() for c in text) and any(c.islower() for c in text)
    for run in runs:
        if run.letters or not 1 <= run.digits <= 6:
            continue
        j = run.last + 1
        if j + 1 >= tk.n or (tk.lows[j] not in DIRECTIONS_LONG and tk.lows[j] not in STREET_PREFIXES):
            continue
        if tk.lows[j] == "via" and not tk.raws[j][0].isupper():
            continue
        k = j + 1
        while k < tk.n and k - j <= 2 and tk.types[k] == "W":
            low, raw = tk.lows[k], tk.raws[k]
            if low in ADDRESS_WALK_STOP or low in _names.NEVER_NAME or (cased and not raw[0].isupper()):
                break
            k += 1
        if k == j + 1:
            continue
        end = k
        if end < tk.n and tk.lows[end] in STREET_SUFFIXES:
            continue  # the suffix detector handles it
        spans.append((run.start, tk.ends[end - 1], "address", 78))
    return spans


def detect_zip_after_state(tk: Tokens, runs: list[Run]) -> list[Span]:
    spans: list[Span] = []
    for run in runs:
        if run.letters or run.digits not in (5, 9) or run.first == 0:
            continue
        k = run.first - 1
        if tk.lows[k] == "," and k > 0:
            k -= 1
        if _state_at(tk, k) is not None:
            spans.append((run.start, run.end, "zip", 55))
    return spans
