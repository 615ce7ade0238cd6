"""Number kinds: a run is labelled by the nearest cue, by what sits right next to it (keypad choices, rooms,
amounts are kept), then by its shape (Luhn, phonenumbers, SSN layout, Medicare MBI). Also typed phones
with a glued extension.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from voicetrail.redaction.detection.cues import Context
from voicetrail.redaction.detection.dates import classify_date, is_date_shape
from voicetrail.redaction.detection.runs import Run, digitish
from voicetrail.redaction.detection.tokens import LazyPattern, Span, Tokens, crosses
from voicetrail.redaction.lexicon.names import LEAD_INS, NATO
from voicetrail.redaction.lexicon.numbers import JOIN_WORDS, NEXT_KEEP, PREV_KEEP, SHORT_SERVICE_NUMBERS

# typing costs ~3 ms of cold start and is needed by the type checker only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Typed shapes checked on the raw span of a run.
_SSN_SHAPE = re.compile(r"\d{3}[- .]\d{2}[- .]\d{4}")
_PHONE_SHAPE = re.compile(r"(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}")
_MBI_SHAPE = re.compile(
    r"[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d[AC-HJKMNP-RT-Y]{2}\d{2}"
)
_DIGIT_KINDS: dict[str, tuple[int, int]] = {
    "ssn": (3, 11),
    "card": (4, 19),
    "cvv": (3, 4),
    "expiry": (3, 6),
    "phone": (7, 15),
    "dob": (4, 8),
    "zip": (5, 9),
}
_ID_KINDS = frozenset({"member_id", "mrn", "medicare", "account", "routing", "license", "passport"})


def _accepts(kind: str, run: Run) -> bool:
    if kind in _ID_KINDS:
        return run.digits >= 1  # length is checked after widening over spelled letters
    bounds = _DIGIT_KINDS.get(kind)
    if bounds is None or run.letters:
        return False
    if kind == "card" and run.digits in (10, 11):
        return False  # a 10- or 11-digit run near "card" is a phone (the fallback still redacts it)
    # Any other run after a card cue is (part of) a card: last four, half of one, or a partial transcript
    # cut in the middle of the number ("the card is four one one one, one one"). No card digit is kept.
    return bounds[0] <= run.digits <= bounds[1]


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_phonenumbers: Any = None  # the module, once loaded


def _valid_phone(digits: str, international: bool) -> bool:
    # phonenumbers costs ~20 ms to import, so it is loaded on the first candidate, not at cold start.
    global _phonenumbers
    if _phonenumbers is None:
        import phonenumbers

        _phonenumbers = phonenumbers
    pn = _phonenumbers
    try:
        parsed = pn.parse("+" + digits, None) if international else pn.parse(digits, "US")
        return bool(pn.is_valid_number(parsed))
    except pn.NumberParseException:
        return False


def _near_keep(tk: Tokens, run: Run) -> bool:
    """Keypad choices, rooms, extensions, amounts, durations, doses and counts stay."""
    i = run.first - 1
    if run.plus:
        i -= 1
    if i >= 0:
        prev = tk.lows[i]
        if prev in ("number", "no", "#"):
            # "room # 12" stays; "card # 4111 ..." is a card number
            return i > 0 and tk.lows[i - 1] in PREV_KEEP
        if prev in PREV_KEEP:
            return True
        if prev in ("call", "dial", "text") and run.value in SHORT_SERVICE_NUMBERS:
            return True
    j = run.last + 1
    if j < tk.n:
        nxt = tk.lows[j]
        if nxt == "x" and run.digits in (10, 11):
            return False  # "312.555.0188 x 22": a phone and its extension, not "10 x 2"
        if nxt in NEXT_KEEP:
            return True
        if nxt in ("a", "p") and j + 2 < tk.n and tk.lows[j + 1] == "." and tk.lows[j + 2] == "m":
            return True
    return run.digits <= 3 and run.value in SHORT_SERVICE_NUMBERS


def _fallback(run: Run, raw: str) -> str | None:
    """Kind of a run that no cue explains, from its shape alone; None keeps it."""
    value = run.value
    if run.letters:
        return "medicare" if len(value) == 11 and _MBI_SHAPE.fullmatch(value) else None
    nd = run.digits
    if run.plus or (nd >= 9 and (value.startswith("011") or value.startswith("00"))):
        stripped = value[3:] if value.startswith("011") else value[2:] if value.startswith("00") else value
        return "phone" if _valid_phone(stripped, True) else ("number" if nd >= 7 else None)
    if nd < 7:
        return None
    if _SSN_SHAPE.fullmatch(raw):
        return "ssn"
    if nd in (10, 11) and _valid_phone(value, False):
        return "phone"
    if nd == 7 and re.fullmatch(r"\d{3}[-. ]\d{4}", raw):
        return "phone"
    if nd == 9:
        return "ssn"
    if 13 <= nd <= 19 and (nd in (15, 16) or _luhn(value)):
        return "card"
    return "number"


def _typed_phone(run: Run, raw: str) -> bool:
    """A typed, valid phone number ("312-555-0188"): never an order or a booking reference. Checked only
    when a keep cue is in play, so that phonenumbers is not imported for every phone."""
    return (
        run.digits in (10, 11) and _PHONE_SHAPE.fullmatch(raw) is not None and _valid_phone(run.value, False)
    )


def _classify_run(tk: Tokens, ctx: Context, run: Run, raw: str) -> str | None:
    if _near_keep(tk, run):
        return None
    is_date, has_day = is_date_shape(raw) if not run.letters else (False, False)
    if is_date:
        return classify_date(ctx, run.start, run.end, has_day)
    cues = ctx.before(run.start)
    for cue_end, _cue_start, kind in cues:
        if kind == "keep":
            if ctx.same_sentence(cue_end, run.start) and not _typed_phone(run, raw):
                return None
            continue
        if _accepts(kind, run):
            if kind == "card" and run.digits <= 6 and any(c[2] == "expiry" for c in cues):
                return "expiry"  # "what's the expiration date on the card?" "oh eight twenty eight"
            if kind == "card" and run.digits < 12:
                # "the member ID on the card is ...": the ID cue names it, the card is where it is printed
                for c in cues:
                    if c[2] in _ID_KINDS:
                        return c[2]
            return kind
    for _cue_end, _cue_start, kind in ctx.after(run.end):
        if kind != "keep" and _accepts(kind, run) and ctx.same_sentence(run.end, _cue_start):
            return kind
    return _fallback(run, raw)


def _extend_id(tk: Tokens, run: Run, hard_breaks: Sequence[int]) -> tuple[int, int]:
    """Widen an identifier run over spelled letters ("x j h 1 2 3") and short upper-case prefixes."""

    def letterish(i: int) -> bool:
        low = tk.lows[i]
        if low in LEAD_INS or low in ("id", "mrn", "dob", "ssn", "dl", "mbi", "and", "or", "a", "i"):
            return tk.raws[i] in ("A", "I") and tk.types[i] == "W" and low not in LEAD_INS
        if tk.types[i] == "A":
            return True
        if tk.types[i] != "W":
            return False
        raw = tk.raws[i]
        return len(raw) == 1 or low in NATO or (raw.isupper() and len(raw) <= 4)

    first, last = run.first, run.last
    i = first - 1
    while i >= 0 and not crosses(hard_breaks, tk.ends[i], tk.starts[first]):
        if letterish(i):
            first = i
        elif not (tk.lows[i] in ("-", ".", ",") or tk.lows[i] in JOIN_WORDS):
            break
        i -= 1
    i = last + 1
    while i < tk.n and not crosses(hard_breaks, tk.ends[last], tk.starts[i]):
        if letterish(i) or digitish(tk, i, True):
            last = i
        elif not (tk.lows[i] in ("-", ",") or tk.lows[i] in JOIN_WORDS):
            break
        i += 1
    start = tk.starts[first] if first < run.first else run.start
    return start, tk.ends[last]


def detect_runs(
    text: str,
    tk: Tokens,
    ctx: Context,
    runs: list[Run],
    dates: list[tuple[int, int]],
    hard_breaks: Sequence[int],
) -> list[Span]:
    spans: list[Span] = []
    date_starts = [d[0] for d in dates]
    for run in runs:
        k = bisect_right(date_starts, run.start) - 1
        if k >= 0 and dates[k][1] > run.start:
            continue  # part of a month-name date, classified as a whole
        raw = text[run.start : run.end]
        glued = _glued_cue(tk, run)
        if glued is not None:
            # "SSN078-05-1120", "tel4155550123": the cue typed onto the value; the cue word stays readable
            spans.append((glued[1], run.end, glued[0], 60))
            continue
        kind = _classify_run(tk, ctx, run, raw)
        if kind is None:
            continue
        start, end = run.start, run.end
        if kind in _ID_KINDS:
            start, end = _extend_id(tk, run, hard_breaks)
            if sum(ch.isalnum() for ch in text[start:end]) < 4:
                continue
        elif kind == "phone":
            end = _extension_end(tk, run, runs) or end
        spans.append((start, end, kind, 60))
    return spans


# Cue words a value is typed onto without a space ("ssn078051120", "card4111111111111111", "dob01021945").
_GLUED_CUES = {
    **dict.fromkeys(("ssn", "social", "soc"), "ssn"),
    **dict.fromkeys(("tel", "ph", "phone", "cell", "mobile", "mob", "fax"), "phone"),
    **dict.fromkeys(("card", "cc", "ccn", "visa", "amex"), "card"),
    **dict.fromkeys(("acct", "account", "acc"), "account"),
    **dict.fromkeys(("member", "memberid", "mbr", "policy"), "member_id"),
    **dict.fromkeys(("dob", "born"), "dob"),
    **dict.fromkeys(("mrn",), "mrn"),
    **dict.fromkeys(("routing", "aba"), "routing"),
    **dict.fromkeys(("zip",), "zip"),
    **dict.fromkeys(("cvv", "cvc", "pin"), "cvv"),
}
_GLUED = re.compile(r"([a-z]{2,8})(\d+)")


def _glued_cue(tk: Tokens, run: Run) -> tuple[str, int] | None:
    """(kind, start of the value) when the run opens with a cue word typed onto its digits, or with a few
    letters typed onto a Luhn-valid card number; else None."""
    if tk.types[run.first] != "A":
        return None
    m = _GLUED.fullmatch(tk.lows[run.first])
    if m is None or run.letters != len(m.group(1)):
        return None  # letters elsewhere in the run: an id with its own shape, classified as usual
    kind = _GLUED_CUES.get(m.group(1))
    value = run.value[run.letters :] if run.value[: run.letters].isalpha() else ""
    if not value.isdecimal():
        return None
    if kind is None:
        if not (13 <= len(value) <= 19 and _luhn(value)):
            return None
        kind = "card"
    elif kind not in _ID_KINDS and not _DIGIT_KINDS[kind][0] <= len(value) <= _DIGIT_KINDS[kind][1]:
        return None
    elif kind in _ID_KINDS:
        # the letters may be the id's own prefix ("MBR123456"): the whole token goes
        return (kind, run.start) if len(value) >= 4 else None
    return kind, tk.starts[run.first] + len(m.group(1))


_EXTENSION_WORDS = frozenset({"ext", "extension", "x"})


def _extension_end(tk: Tokens, run: Run, runs: list[Run]) -> int | None:
    """End offset of an extension right after a phone ("312-555-0188 ext. 42"), else None."""
    j = run.last + 1
    if j < tk.n and tk.lows[j] == ",":
        j += 1
    if j >= tk.n or tk.lows[j] not in _EXTENSION_WORDS:
        return None
    j += 1
    if j < tk.n and tk.lows[j] == ".":
        j += 1
    for r in runs:
        if r.first == j and not r.letters and r.digits <= 6:
            return r.end
    return None


# Typed phones with an extension glued on ("312-555-0188x42", "001-312-555-0188x4321"), which tokenise as
# one alphanumeric word and so never form a digit run.
_EXTENSION_HINT = re.compile(r"\d\s?(?:x|ext\.?)\s?\d", re.IGNORECASE)
_PHONE_WITH_EXTENSION = LazyPattern(
    r"(?<![\w+])(?:\+?1[-. ]?|001[-. ]?)?\(?(\d{3})\)?[-. ]?(\d{3})[-. ](\d{4})\s?(?:x|ext\.?)\s?\d{1,6}\b",
    re.IGNORECASE,
)


def detect_phone_extensions(text: str) -> list[Span]:
    spans: list[Span] = []
    seen: set[int] = set()
    # the full pattern is tried only in a window around a digit, "x"/"ext", digit: not at every position
    for hint in _EXTENSION_HINT.finditer(text):
        m = _PHONE_WITH_EXTENSION.get().search(text, max(0, hint.start() - 24), hint.end() + 8)
        if m is None or m.start() in seen or (m.end() < len(text) and text[m.end()].isalnum()):
            continue
        seen.add(m.start())
        if _valid_phone(m.group(1) + m.group(2) + m.group(3), False):
            spans.append((m.start(), m.end(), "phone", 62))
    return spans
