"""E-mail addresses, typed and spoken ("maria dot gonzalez at gmail dot com"), and the spoken local part
after an e-mail cue before the domain arrives (partial transcripts).
"""

from __future__ import annotations

import re

from voicetrail.redaction.detection.tokens import LazyPattern, Span
from voicetrail.redaction.lexicon.emails import (
    EMAIL_BACK_STOP,
    EMAIL_PREFIX_NOT,
    EMAIL_PREFIX_SEPARATORS,
    EMAIL_PREFIX_STOP,
    TLDS,
)

_EMAIL_TYPED = re.compile(r"[\w.%+'-]+\s?@\s?[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_SPOKEN_SEP = r"(?:\s*(?:\.|_|-)\s*|\s+(?:dot|period|underscore|under\s+score|dash|hyphen|minus)\s+)"
_EMAIL_SPOKEN = LazyPattern(
    rf"(?<![\w'])(?:[a-z0-9]\s+){{0,30}}[a-z0-9]+(?:{_SPOKEN_SEP}[a-z0-9]+)*"
    rf"\s*(?:\s(?:at|@)\s|@)\s*"
    # the top-level domain is checked by _DOT_TLD, whose end this match must share: any word here
    # (a 100-name alternation would cost ~10 ms of cold start to compile)
    rf"[a-z0-9-]+(?:(?:\s+dot\s+|\s*\.\s*)[a-z0-9-]+)*(?:\s+dot\s+|\s*\.\s*)[a-z]{{2,13}}\b",
    re.IGNORECASE,
)
# "dot com" / ".com": any word, then a set look-up (a 100-word alternation costs ~1.5 ms of cold start)
_DOT_TLD = re.compile(r"(?:\bdot\s+|\.)([a-z]{2,13})\b", re.IGNORECASE)
# The same without "dot": a pattern that opens with a literal is scanned ~20 times faster, and an ASCII text
# without "dot" in any case gives the same matches.
_PERIOD_TLD = re.compile(r"\.([a-z]{2,13})\b", re.IGNORECASE)
_TLD_SET = frozenset(TLDS.split("|"))
_TYPED_AT = re.compile(r"\S@\S")
_LAST_WORD = re.compile(r"([A-Za-z0-9']+)$")


def detect_emails(text: str) -> list[Span]:
    spans: list[Span] = []
    typed_ends: set[int] = set()
    at = text.find("@")
    done = 0
    while at >= 0:
        # the pattern is tried in a window around each "@" (a local part has at most 64 characters), not
        # from every position of the text
        m = _EMAIL_TYPED.search(text, max(done, at - 128), at + 256) if at >= done else None
        if m is not None and m.end() == at + 256:
            m = _EMAIL_TYPED.match(text, m.start())  # the window cut the domain: read it whole
        if m is not None and m.start() <= at < m.end():
            spans.append((m.start(), m.end(), "email", 90))
            typed_ends.add(m.end())
            done = m.end()
        at = text.find("@", at + 1)
    lowered = text.lower() if text.isascii() else None  # ASCII: lower-casing maps letter for letter
    for tld in (_DOT_TLD if lowered is None or "dot" in lowered else _PERIOD_TLD).finditer(text):
        if tld.end() in typed_ends or tld.group(1).lower() not in _TLD_SET:
            continue  # a typed address already found needs no spoken reading
        # a spoken address always ends in "dot com"/".com" with "at" shortly before: search only there
        window = max(0, tld.start() - 80)  # bounded: a search from 0 would make long texts quadratic
        # lower-cased slice: "JANE DOT DOE AT EXAMPLE DOT COM" is shouted, not different
        near = text[window : tld.start()].lower()
        at = max(near.rfind(" at "), near.rfind("@"))
        at = window + at if at >= 0 else -1
        if at < 0 or tld.start() - at > 80:
            continue
        lo = max(0, at - 150)
        for m in _EMAIL_SPOKEN.get().finditer(text, lo, tld.end()):
            if m.end() != tld.end():
                continue
            start = m.start()
            # spoken local parts may be several words ("john smith eighty five at ..."): walk back, unless
            # the address is typed ("from maria.gonzalez@example.com": the words before are not part of it)
            steps = 4 if _TYPED_AT.search(m.group()) else 0
            while steps < 4:
                base = max(0, start - 60)
                before = text[base:start].rstrip()
                wm = _LAST_WORD.search(before)
                if wm is None or wm.group(1).lower() in EMAIL_BACK_STOP or base + len(before) < start - 2:
                    break
                start = base + wm.start(1)
                steps += 1
            spans.append((start, m.end(), "email", 90))
    return spans


# A cue that an email address follows. Partial transcripts cut an address anywhere ("my email is maria dot
# gon..."), so after such a cue the spoken local part is redacted even before "at ... dot com" arrives.
_EMAIL_CUE = re.compile(
    r"\b(?:e-?mail(?:\s+address)?(?:\s+is|\s+it's|\s*:)|e-?mail\s+(?:me|it|them)\s+(?:at|to)|e-?mail\s+at)\s+",
    re.IGNORECASE,
)
_EMAIL_PREFIX_TOKEN = re.compile(r"[a-z0-9][a-z0-9_.+'-]*", re.IGNORECASE)
_MAX_PREFIX_TOKENS = 12


def _email_cues(text: str) -> list[re.Match[str]]:
    """`_EMAIL_CUE.finditer(text)`. Every cue opens with "email" or "e-mail": in an ASCII text the pattern
    is tried only one and two characters before each "mail" (in any case), left to right without overlap,
    not scanned over every position (~20 ms a megabyte)."""
    if not text.isascii():
        return list(_EMAIL_CUE.finditer(text))
    lowered = text.lower()  # ASCII: letter for letter, so offsets stay
    cues: list[re.Match[str]] = []
    done = 0
    at = lowered.find("mail")
    while at >= 0:
        for start in (at - 2, at - 1):
            if start >= done and lowered.startswith("e-" if start == at - 2 else "e", start):
                m = _EMAIL_CUE.match(text, start)
                if m is not None:
                    cues.append(m)
                    done = m.end()
                    break
        at = lowered.find("mail", at + 4)
    return cues


def detect_email_prefixes(text: str) -> list[Span]:
    spans: list[Span] = []
    for cue in _email_cues(text):
        position, end, tokens, spoken_separator = cue.end(), cue.end(), 0, False
        first = True
        while tokens < _MAX_PREFIX_TOKENS:
            m = _EMAIL_PREFIX_TOKEN.match(text, position)
            if m is None:
                break
            word = m.group(0).lower().rstrip(".")
            if first and word in EMAIL_PREFIX_NOT:
                break
            if word in EMAIL_PREFIX_STOP:
                break
            first = False
            spoken_separator |= word in EMAIL_PREFIX_SEPARATORS or any(c.isdigit() for c in word)
            end, tokens = m.end(), tokens + 1
            gap = re.match(r"[ \t]+", text[end:])
            position = end + (gap.end() if gap else 0)
            if not gap:
                break
        reaches_end = not text[end:].strip(" .,!?")
        if tokens and (spoken_separator or reaches_end):
            spans.append((cue.end(), end, "email", 85))
    return spans
