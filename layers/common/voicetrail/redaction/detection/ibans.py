"""International bank account numbers (ISO 13616): a country code, two check digits and 11 to 30 letters
or digits, accepted only with its country's length and when the mod-97 check holds, so no ordinary text
is taken for one.

Typed ("DE89 3704 0044 0532 0130 00"), regrouped or spaced one by one ("D E 8 9 3 7 ...", "DE8.937.040"),
and spoken ("d e eight nine three seven oh four ...", the digits as a number run after a spelled country
code). Labelled `account`.
"""

from __future__ import annotations

import re

from voicetrail.redaction.detection.runs import Run
from voicetrail.redaction.detection.tokens import Span, Tokens
from voicetrail.redaction.lexicon.banking import IBAN_LENGTHS

# Separators a typed IBAN may carry between any two characters: one space, dot, dash or slash.
_SEP = r"[ .\-/]?"
_SEPARATORS = frozenset(" .-/")
_IBAN_PATTERN = rf"(?<![A-Za-z0-9])[A-Z]{_SEP}[A-Z]{_SEP}\d{_SEP}\d(?:{_SEP}[A-Z0-9]){{11,30}}(?![A-Za-z0-9])"
# How every match of the pattern begins: two letters and a digit, separators allowed between them.
_OPENING_PATTERN = rf"(?<![A-Za-z0-9])[A-Z]{_SEP}[A-Z]{_SEP}\d"
_IBAN: tuple[re.Pattern[str], re.Pattern[str]] | None = None  # compiled on first use, not at cold start


def _iban() -> tuple[re.Pattern[str], re.Pattern[str]]:
    global _IBAN
    if _IBAN is None:
        _IBAN = re.compile(_IBAN_PATTERN, re.IGNORECASE), re.compile(_OPENING_PATTERN, re.IGNORECASE)
    return _IBAN


def _valid(value: str) -> bool:
    if IBAN_LENGTHS.get(value[:2]) != len(value) or not value[2:4].isdigit():
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _longest_valid(chars: list[tuple[str, int]]) -> int:
    """Number of leading characters that form a valid IBAN of the country's length (0 if none): a match may
    run on into the next word ("... 3000 I think")."""
    value = "".join(c for c, _ in chars).upper()
    n = IBAN_LENGTHS.get(value[:2], 0)
    return n if n <= len(value) and _valid(value[:n]) else 0


def detect_ibans(text: str, tk: Tokens, runs: list[Run]) -> list[Span]:
    spans: list[Span] = []
    (pattern, opening), done = _iban(), -1
    # an IBAN's first digit is at most four characters after its start ("DE89", "D.E.8"): the pattern is
    # tried at the letters just before a token with a digit, not at every position of the text
    for k in tk.numeric:
        raw = tk.raws[k]  # "DE89...": the letters may open the token (a hex-looking one is typed X by now)
        digit = tk.starts[k] + (
            0 if raw[0].isdigit() else next((i for i, c in enumerate(raw) if c.isdigit()), 0)
        )
        m = None
        lowest = max(done, digit - 4, 0)
        # A match at p < digit reads two letters, then digits from p + 2 at the latest to `digit` (the
        # first digit after p): so its opening ends at digit + 1 at the latest, and one search in C rules
        # out all four starting points of most numbers ("is 4111", "$352"), before the loop tries them.
        if opening.search(text, lowest, digit + 1) is None:
            continue
        for p in range(lowest, digit):
            # a known country code first ("DE", "D E", "D.E"): the pattern is not tried after every "is"
            second = text[p + 2 : p + 3] if text[p + 1 : p + 2] in _SEPARATORS else text[p + 1 : p + 2]
            if text[p].isalpha() and (text[p] + second).upper() in IBAN_LENGTHS:
                m = pattern.match(text, p)
                if m is not None:
                    break
        if m is None:
            continue
        done = m.end()
        chars = [(c, m.start() + i) for i, c in enumerate(m.group()) if c.isalnum()]
        n = _longest_valid(chars)
        if n:
            spans.append((m.start(), chars[n - 1][1] + 1, "account", 62))
    run_at = {r.first: r for r in runs}
    for run in runs:
        start = _country_code(tk, run.first)
        if start is None:
            continue
        cc = "".join(tk.raws[i] for i in range(start, run.first) if tk.types[i] == "W").upper()
        value, last = cc + run.value.upper(), run
        # a bank code read as letters between two number runs ("g b eight two west one two ..."): up to
        # four letters, as one word or spelled, when the whole still passes the country length and mod-97
        for _ in range(3):
            if _valid(value):
                break
            letters, nxt = _letters_after(tk, last.last + 1)
            follow = run_at.get(nxt)
            if not letters or follow is None:
                break
            value, last = value + letters + follow.value.upper(), follow
        if _valid(value):
            spans.append((tk.starts[start], last.end, "account", 62))
    return spans


def _letters_after(tk: Tokens, i: int) -> tuple[str, int]:
    """Up to four letters from token i (one short word or single letters), and the index after them."""
    letters = ""
    while i < tk.n and tk.types[i] == "W" and tk.raws[i].isalpha() and len(letters) + len(tk.raws[i]) <= 4:
        letters += tk.raws[i].upper()
        i += 1
        if len(letters) > 1 and len(tk.raws[i - 1]) > 1:
            break  # one word at most
    return letters, i


def _country_code(tk: Tokens, first: int) -> int | None:
    """Where a spelled country code ("D E", "de") before token `first` starts, else None."""
    i = first - 1
    if i >= 0 and tk.types[i] == "W" and len(tk.raws[i]) == 2 and tk.raws[i].isalpha():
        return i
    if i >= 1 and all(
        tk.types[j] == "W" and len(tk.raws[j]) == 1 and tk.raws[j].isalpha() for j in (i - 1, i)
    ):
        return i - 1
    return None
