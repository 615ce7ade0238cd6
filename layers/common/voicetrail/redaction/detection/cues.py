"""Context cues ("social", "card", "date of birth", "order number"...) and sentence boundaries of one text,
searched by bisection so a run can ask for the nearest cue before or after it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from voicetrail.redaction.detection.tokens import Tokens, anchored, crosses
from voicetrail.redaction.lexicon.cues import CUE_FIRST

_SENTENCE_END_RE = re.compile(r"[.?!]+(?=\s|$)|\n")
# Ordered: at one position the first alternative wins, so longer/more specific phrases come first.
_CUES: tuple[tuple[str, str], ...] = (
    (
        "keep",
        r"(?:order|confirmation|tracking|ticket|invoice|reference|ref|flight|reservation|booking|claim|case|"
        r"room|extension|ext|option|prescription\s+(?:number|#)|rx\s+(?:number|#)|npi)(?:\s+(?:number|no|#))?",
    ),
    ("keep", r"appointment|appt|scheduled?|reschedule|book(?:ed)?\s+(?:for|on)|visit|come\s+in"),
    ("card", r"account\s+ending(?:\s+in)?|card\s+ending(?:\s+in)?"),
    (
        "cvv",
        r"cvv2?|cvc2?|cv2|c\s?v\s?v|c\.\s?v\.\s?v\.?|security\s+code|(?:three|four|3|4)[-\s]digit\s+(?:code|number)|"
        r"code\s+on\s+the\s+back|card\s+code|verification\s+(?:code|number|value)",
    ),
    (
        "expiry",
        r"exp(?:iration|iry|ires?|iring|\.)?(?:\s+date)?|valid\s+(?:thru|through|until)|good\s+(?:thru|through)",
    ),
    (
        "member_id",
        r"(?:health\s+)?insurance(?:\s+card)?(?:\s+(?:id|number|no|#))?|member(?:ship)?(?:\s+(?:id|number|no|#))?|"
        r"subscriber(?:\s+(?:id|number))?|group(?:\s+(?:id|number|no|#))|policy(?:\s+(?:id|number|no|#))?|"
        r"plan\s+(?:id|number)|beneficiary\s+(?:id|number)|(?:health\s+)?plan\s+card",
    ),
    (
        "medicare",
        r"medicare(?:\s+(?:beneficiary\s+)?(?:id|number|card))?|medicaid(?:\s+(?:id|number))?|mbi|hicn",
    ),
    (
        "mrn",
        r"mrn|m\.\s?r\.\s?n\.?|medical\s+record(?:s)?(?:\s+(?:number|no|#))?|chart\s+number|patient\s+(?:id|number)",
    ),
    ("routing", r"routing(?:\s+(?:number|no|#))?|aba(?:\s+number)?|transit\s+number"),
    (
        "license",
        r"driver'?s?\s+licen[sc]e(?:\s+(?:number|no|#))?|licen[sc]e\s+(?:number|no|#)|dl\s+number|state\s+id",
    ),
    ("passport", r"passport(?:\s+(?:number|no|#))?"),
    (
        "account",
        r"(?:bank\s+|checking\s+|savings\s+)?account(?:\s+(?:number|no|#))?|acct|iban|"
        r"international\s+bank\s+account(?:\s+number)?",
    ),
    (
        "ssn",
        r"social(?:\s+security)?(?:\s+(?:number|no|#))?|ssn|s\s?s\s?n|s\.\s?s\.\s?n\.?|soc\s+sec|tax\s+id|itin",
    ),
    (
        "card",
        r"(?:credit|debit|bank)\s+card(?:\s+number)?|card(?:\s+(?:number|no|#))?|visa|master\s?card|amex|"
        r"american\s+express|discover|cc\s+number",
    ),
    ("cvv", r"(?:the\s+)?(?:pin|code)"),
    ("dob", r"date\s+of\s+birth|d\.?\s?o\.?\s?b\.?|birth\s?(?:day|date)|born(?:\s+on|\s+in)?|b[-\s]?day"),
    ("zip", r"zip(?:\s?code)?|postal\s+code|post\s+code"),
    (
        "phone",
        r"(?:phone|cell|mobile|telephone|home|work|contact|callback|call[-\s]back|best|fax)(?:\s+(?:phone\s+)?number)?|"
        r"number\s+(?:is|to\s+reach)|call\s+(?:me\s+)?(?:back\s+)?(?:at|on)|reach\s+me(?:\s+at)?|text\s+me(?:\s+at)?|"
        r"reached\s+(?:at|on)|(?:get|reach|contact|ring)\s+(?:me|him|her|them|us)\s+(?:at|on)|"
        r"call\s+me|call|tel",
    ),
)
_CUE_RE = re.compile(
    r"(?<![\w'])(?:" + "|".join(f"(?P<c{i}>{pat})" for i, (_, pat) in enumerate(_CUES)) + r")(?![\w'])",
    re.IGNORECASE,
)
# "the" opens a cue only as "the pin" / "the code": the pattern is not tried at every other "the".
_CUE_THEN = {"the": frozenset({"pin", "code"})}
_CUE_KIND = {f"c{i}": kind for i, (kind, _) in enumerate(_CUES)}
_CUE_WINDOW = 110  # characters between a cue and the start of the value it labels
_AFTER_WINDOW = 30


# Codes that are no secret: the word before "code" names what the code is for.
_PUBLIC_CODES = frozenset(
    ("error", "status", "promo", "promotional", "discount", "coupon", "voucher", "referral", "product",
     "item", "country", "area", "tracking", "booking", "reference", "confirmation", "qr", "bar", "source",
     "diagnostic", "fault", "reason", "response", "exit", "dress", "zip", "postal")
)  # fmt: skip


def _public_code(tk: Tokens, start: int) -> bool:
    """The cue at `start` is a bare "code" whose word before says it is no secret ("error code 500")."""
    k = tk.index_at(start)
    if k >= tk.n or tk.lows[k] != "code" or k == 0:
        return False
    return tk.lows[k - 1] in _PUBLIC_CODES


class Context:
    """Cue positions and sentence boundaries of one text, searched by bisection."""

    __slots__ = ("cue_ends", "cues", "sentence_ends")

    def __init__(self, text: str, tk: Tokens, hard_breaks: Sequence[int]) -> None:
        cues: list[tuple[int, int, str]] = []
        for m in anchored(tk, text, _CUE_RE, CUE_FIRST, _CUE_THEN):
            group = m.lastgroup
            if group is not None:
                kind = _CUE_KIND[group]
                if kind == "cvv" and _public_code(tk, m.start()):
                    kind = "keep"  # "error code 500", "promo code": a code, but no secret
                cues.append((m.end(), m.start(), kind))
        self.cues = cues
        self.cue_ends = [c[0] for c in cues]
        ends = [m.start() for m in _SENTENCE_END_RE.finditer(text)]
        if hard_breaks:
            ends = sorted(set(ends) | set(hard_breaks))
        self.sentence_ends = ends

    def same_sentence(self, a: int, b: int) -> bool:
        return not crosses(self.sentence_ends, a, b) if a < b else True

    def before(self, pos: int, limit: int = 4) -> list[tuple[int, int, str]]:
        """Cues ending at or before `pos` within the window, nearest first."""
        k = bisect_right(self.cue_ends, pos)
        out: list[tuple[int, int, str]] = []
        while k > 0 and len(out) < limit:
            k -= 1
            cue = self.cues[k]
            if pos - cue[0] > _CUE_WINDOW:
                break
            out.append(cue)
        return out

    def after(self, pos: int) -> list[tuple[int, int, str]]:
        k = bisect_left(self.cues, (pos, -1, ""))
        out: list[tuple[int, int, str]] = []
        while k < len(self.cues) and len(out) < 2:
            cue = self.cues[k]
            if cue[1] - pos > _AFTER_WINDOW:
                break
            if cue[1] >= pos:
                out.append(cue)
            k += 1
        return out
