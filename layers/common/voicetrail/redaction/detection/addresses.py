"""Street addresses: from a street suffix back to the house number and on over unit, city, state and ZIP;
after an address cue; from a ZIP after a state back to the house number (military mail included); streets
without a suffix ("88 South Halsted"); a ZIP right after a state.
"""

from __future__ import annotations

import re

import voicetrail.redaction._names as _names
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
    COUNTRIES,
    DIRECTIONS,
    DIRECTIONS_LONG,
    MILITARY_POST,
    MILITARY_REGION,
    MILITARY_UNIT,
    NOT_LOWER_CODES,
    SECONDARY_UNITS,
    STATE_SECOND,
    STREET_PARTICLES,
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
# The only words the address cue lets follow its first word: the pattern is not tried at every "the".
_OWNER_NEXT = frozenset(
    {"home", "mailing", "billing", "street", "current", "new", "old", "shipping", "address"}
)
_ADDRESS_THEN = {
    **dict.fromkeys(("my", "the", "our", "his", "her", "their"), _OWNER_NEXT),
    **dict.fromkeys(
        ("i", "we", "they", "he", "she"), frozenset({"live", "lives", "living", "reside", "resides", "moved"})
    ),
    **dict.fromkeys(("send", "ship", "mail"), frozenset({"it", "them", "that"})),
    "residing": frozenset({"at"}),
}
_COUNTRY_FIRST = frozenset(words[0] for words in COUNTRIES)
# "we moved to a new street": words that describe a street, not name one
_NOT_A_STREET_NAME = frozenset(("new", "another", "different", "same", "other", "quiet", "busy", "next"))
_PO_BOX = re.compile(r"\bp\.?\s?o\.?\s+box\s+", re.IGNORECASE)


def _po_boxes(text: str) -> list[re.Match[str]]:
    """`_PO_BOX.finditer(text)`; every match holds "box", so an ASCII text without it in any case skips the
    scan (~20 ms a megabyte)."""
    if text.isascii() and "box" not in text.lower():
        return []
    return list(_PO_BOX.finditer(text))


def detect_addresses(text: str, tk: Tokens, runs: list[Run]) -> list[Span]:
    spans: list[Span] = []
    run_by_last = {r.last: r for r in runs}

    run_first = {r.first: r for r in runs}
    for s in tk.positions(STREET_SUFFIXES):
        if tk.types[s] != "W":
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
        end_tok = tail_end(tk, s + 1, run_first)
        spans.append((run.start, tk.ends[end_tok - 1], "address", 80))

    for m in _po_boxes(text):
        i = tk.index_at(m.end())
        if i in run_first:
            end = tail_end(tk, run_first[i].last + 1, run_first)
            spans.append((m.start(), tk.ends[end - 1], "address", 80))

    for m in anchored(tk, text, _ADDRESS_CUE, ADDRESS_FIRST, _ADDRESS_THEN):
        i = skip_leadin(tk, tk.index_at(m.end()))
        j = i
        first: int | None = None  # the span starts at the first evidence, not at the cue ("uh let me think")
        last_evidence = -1  # a spoken address has no punctuation: it ends at its last address token
        while j < tk.n and j - i < 16:
            low = tk.lows[j]
            if low in ("?", "!") or low in ADDRESS_STOP or newline_before(text, tk, j):
                break
            if _address_token(tk, j):
                last_evidence = j
            elif last_evidence >= 0 and _ends_street(tk, i, last_evidence) and j - last_evidence > 3:
                j = last_evidence + 1  # "... mason street your ticket is booked": the street ended
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
        if last_evidence >= 0 and j - 1 > last_evidence and _ends_street(tk, i, last_evidence):
            j = max(last_evidence + 1, tail_end(tk, last_evidence + 1, run_first))
        while j > i and tk.types[j - 1] == "P":
            j -= 1
        # a street named without a house number ("the address is harley brook lane independence oh ..."):
        # the cue's address starts at its first word when a street suffix follows within it
        suffix = next((k for k in range(i, j) if tk.lows[k] in STREET_SUFFIXES and tk.types[k] == "W"), None)
        if (
            suffix is not None
            and suffix > i
            and (first is None or first > suffix)
            and not any(
                tk.lows[k] in NAME_STOPWORDS or tk.lows[k] in _NOT_A_STREET_NAME for k in range(i, suffix)
            )
        ):
            first = i
        if first is not None and j > first:
            evidence = any(
                tk.lows[k] in STREET_SUFFIXES or tk.lows[k] in US_STATES or tk.raws[k] in US_STATE_CODES
                for k in range(first, j)
            )
            if evidence:
                spans.append((tk.starts[first], tk.ends[j - 1], "address", 75))
    spans += _detect_address_by_tail(text, tk, runs)
    spans += _detect_streets_without_suffix(text, tk, runs, run_first)
    spans += _detect_units(tk, run_first)
    return spans


def _address_token(tk: Tokens, k: int) -> bool:
    """A token only an address holds at its end: a number, a street suffix, a unit, a state, a ZIP digit."""
    low = tk.lows[k]
    return (
        tk.types[k] in ("N", "A")
        or low in UNITS
        or low in TEENS
        or low in TENS
        or low in STREET_SUFFIXES
        or low in UNIT_WORDS
        or low in US_STATES
        or tk.raws[k] in US_STATE_CODES
        or low in DIRECTIONS
    )


def _ends_street(tk: Tokens, first: int, k: int) -> bool:
    """A street suffix or a state has been seen by token k: what follows a gap is no longer the address."""
    return any(tk.lows[m] in STREET_SUFFIXES or tk.lows[m] in US_STATES for m in range(first, k + 1))


def tail_end(tk: Tokens, j: int, run_first: dict[int, Run]) -> int:
    """From token j (an exclusive end index just past a street), the end of the address: a direction, a
    unit ("Apt. 3B"), city words, then a state (name, code, or spoken "oh" before a spoken ZIP) and/or a
    country, then a ZIP."""
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
        if scan < tk.n and tk.lows[scan] in ("number", "#", "."):
            scan += 1
        if scan < tk.n and (
            tk.types[scan] in ("N", "A") or len(tk.raws[scan]) == 1 or tk.lows[scan] in UNITS
        ):
            scan += 1
            while scan < tk.n and (tk.types[scan] in ("N", "A") or tk.lows[scan] in UNITS):
                scan += 1
            end = scan
    # city words, then a state and/or a country, then an optional ZIP
    scan = end
    for _ in range(6):
        if scan < tk.n and tk.lows[scan] == ",":
            scan += 1
        if scan >= tk.n:
            break
        spoken_oh = _spoken_state_and_zip(tk, scan, run_first)
        if spoken_oh is not None:
            return spoken_oh
        after = _state_or_country_end(tk, scan, run_first)
        if after is not None:
            end = after
            scan = after
            if scan < tk.n and tk.lows[scan] == ",":
                scan += 1
            country = _country_end(tk, scan)
            if country is not None:
                end = scan = country
            if scan < tk.n and tk.lows[scan] == ",":
                scan += 1
            run = run_first.get(scan)
            if run is not None and not run.letters and run.digits in (5, 9):
                end = run.last + 1
            break
        low = tk.lows[scan]
        if tk.types[scan] == "W" and low not in ADDRESS_STOP and low not in NAME_STOPWORDS:
            scan += 1
            continue
        break
    return end


def _state_or_country_end(tk: Tokens, k: int, run_first: dict[int, Run]) -> int | None:
    """One past a state (name, code, two-word name) or a country starting at token k, else None. A lower-case
    two-letter code counts only with a ZIP right after it."""
    raw, low = tk.raws[k], tk.lows[k]
    if raw in US_STATE_CODES or low in US_STATES:
        return k + 1
    if low in ("new", "north", "south", "rhode") and k + 1 < tk.n and tk.lows[k + 1] in STATE_SECOND:
        return k + 2
    if len(raw) == 2 and raw.islower() and raw.upper() in US_STATE_CODES:
        run = run_first.get(k + 1)
        if run is not None and not run.letters and run.digits in (5, 9):
            return k + 1
    if (
        len(raw) == 1
        and k + 1 < tk.n
        and len(tk.raws[k + 1]) == 1
        and (raw + tk.raws[k + 1]).upper() in US_STATE_CODES
    ):
        # a state code spelled out ("dayton o h four five four five nine"): only with a ZIP right after
        run = run_first.get(k + 2)
        if run is not None and not run.letters and run.digits in (5, 9):
            return k + 2
    return _country_end(tk, k)


def _country_end(tk: Tokens, k: int) -> int | None:
    """One past a country name starting at token k ("United States", "USA", "U.S.", "France"), else None."""
    if k >= tk.n or tk.lows[k] not in _COUNTRY_FIRST:
        return None
    for words in COUNTRIES:
        n = len(words)
        if k + n <= tk.n and tuple(tk.lows[k : k + n]) == words:
            return k + n
    return None


def _spoken_state_and_zip(tk: Tokens, k: int, run_first: dict[int, Run]) -> int | None:
    """ "independence oh one six zero five zero": a spoken "oh" (Ohio) that opens the ZIP's number run."""
    run = run_first.get(k)
    if run is None or tk.lows[k] not in ("oh", "o") or run.letters:
        return None
    return run.last + 1 if len(run.value) - 1 in (5, 9) and run.value.startswith("0") else None


def _detect_units(tk: Tokens, run_first: dict[int, Run]) -> list[Span]:
    """A secondary unit on its own ("Apt. 414", "Suite 160", "apartment four one four", "Unit 4B")."""
    spans: list[Span] = []
    for k in tk.positions(SECONDARY_UNITS):
        low = tk.lows[k]
        if k + 1 >= tk.n or tk.types[k] != "W":
            continue
        if low == "unit" and tk.raws[k] != "Unit" and tk.types[k + 1] != "A":
            continue  # "10 units", "the unit 4 exam": only "Unit 12" or "unit 4B" is an address
        j = k + 1
        if tk.lows[j] in (".", "#", "number", "no") and j + 1 < tk.n:
            j += 1
            if tk.lows[j] in (".", "#") and j + 1 < tk.n:
                j += 1
        run = run_first.get(j)
        if run is not None and 1 <= len(run.value) <= 6:
            spans.append((tk.starts[k], run.end, "address", 76))
        elif tk.types[j] == "W" and len(tk.raws[j]) == 1 and tk.raws[j].isupper() and low != "unit":
            spans.append((tk.starts[k], tk.ends[j], "address", 76))  # "Apt B"
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
        if start is None and military:
            # a ship ("USS Nimitz (CVN 68), FPO AP 96620"), else at least the post office, region and ZIP
            start = state
            for m in range(state - 1, max(-1, state - 14), -1):
                if newline_before(text, tk, m + 1):
                    break
                if tk.raws[m] in ("USS", "USNS", "uss", "usns"):
                    start = m
                    break
        if start is not None:
            spans.append((tk.starts[start], zr.end, "address", 80))
    return spans


def _detect_streets_without_suffix(
    text: str, tk: Tokens, runs: list[Run], run_first: dict[int, Run]
) -> list[Span]:
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
        while k < tk.n and k - j <= 3 and tk.types[k] == "W":
            low, raw = tk.lows[k], tk.raws[k]
            # "22 Rue de Rivoli": a lower-case particle inside a capitalised street name
            particle = low in STREET_PARTICLES and k + 1 < tk.n and tk.raws[k + 1][:1].isupper()
            if low in ADDRESS_WALK_STOP and not particle:
                break
            if low in _names.NEVER_NAME or (cased and not raw[0].isupper() and not particle):
                break
            k += 1
        if k == j + 1:
            continue
        end = k
        if end < tk.n and tk.lows[end] in STREET_SUFFIXES:
            continue  # the suffix detector handles it
        end = max(end, tail_end(tk, end, run_first))
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
