"""Detection engine for call transcripts.

The text is tokenised once. Consecutive digit-bearing tokens (typed digits, spoken digits, "oh", "double",
"twenty", alphanumerics) joined by separators and fillers form *runs*; a run is then classified by the
nearest context cue before it ("social", "card", "date of birth"...), by what sits right next to it
("press", "room", "mg", "minutes", "$"...), and finally by its shape (Luhn, phonenumbers, SSN layout).
Emails, names, addresses and month-name dates have their own detectors. Overlapping findings merge.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from voicetrail.redaction import _names
from voicetrail.redaction._lexicon import (
    COMMON_FIRST_NAMES,
    JOIN_PUNCT,
    JOIN_WORDS,
    LEAD_INS,
    MONTHS,
    MULTIPLIERS,
    NAME_STOPWORDS,
    NATO,
    NEXT_KEEP,
    PREV_KEEP,
    SCALES,
    SHORT_SERVICE_NUMBERS,
    STREET_SUFFIXES,
    TEENS,
    TENS,
    UNIT_WORDS,
    UNITS,
    US_STATE_CODES,
    US_STATES,
)

# typing costs ~3 ms of cold start and is needed by the type checker only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# (start, end, kind, priority)
Span = tuple[int, int, str, int]

_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_")
_ORDINAL_RE = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"[.?!]+(?=\s|$)|\n")
# Machine values that look numeric but are never caller PII: clock times, timestamps, UUIDs, hex ids.
_PROTECTED_RE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\b"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{12,}\b",
    re.IGNORECASE,
)

# Typed shapes checked on the raw span of a run.
_SSN_SHAPE = re.compile(r"\d{3}[- .]\d{2}[- .]\d{4}")
_NUMERIC_DATE_SHAPE = re.compile(
    r"(?P<a>\d{1,2})\s*[/.-]\s*(?P<b>\d{1,2})\s*[/.-]\s*(?P<y>\d{2}|\d{4})|(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
)
_PHONE_SHAPE = re.compile(r"(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}")
_MONTH_YEAR_SHAPE = re.compile(r"(?P<m>\d{1,2})\s*[/-]\s*(?P<y>\d{2}|\d{4})")
_MBI_SHAPE = re.compile(
    r"[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d[AC-HJKMNP-RT-Y]{2}\d{2}"
)


def _anchored(tk: _Tokens, text: str, regex: re.Pattern[str], first: frozenset[str]) -> list[re.Match[str]]:
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


def _alt(words: Sequence[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


# ---------------------------------------------------------------------------------------------- cues
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
    ("account", r"(?:bank\s+|checking\s+|savings\s+)?account(?:\s+(?:number|no|#))?|acct"),
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
        r"call\s+me|call|tel",
    ),
)
_CUE_RE = re.compile(
    r"(?<![\w'])(?:" + "|".join(f"(?P<c{i}>{pat})" for i, (_, pat) in enumerate(_CUES)) + r")(?![\w'])",
    re.IGNORECASE,
)
# Words a cue can start with: the cue regex is only tried (anchored) at tokens in this set.
_CUE_FIRST = frozenset(
    [
        "order",
        "confirmation",
        "tracking",
        "ticket",
        "invoice",
        "reference",
        "ref",
        "flight",
        "reservation",
        "booking",
        "claim",
        "case",
        "room",
        "extension",
        "ext",
        "option",
        "prescription",
        "rx",
        "npi",
        "appointment",
        "appt",
        "schedule",
        "scheduled",
        "reschedule",
        "book",
        "booked",
        "visit",
        "come",
        "account",
        "card",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cv2",
        "c",
        "security",
        "three",
        "four",
        "3",
        "4",
        "code",
        "verification",
        "area",
        "exp",
        "expiration",
        "expiry",
        "expires",
        "expire",
        "expiring",
        "valid",
        "good",
        "health",
        "insurance",
        "member",
        "membership",
        "subscriber",
        "group",
        "policy",
        "plan",
        "beneficiary",
        "medicare",
        "medicaid",
        "mbi",
        "hicn",
        "mrn",
        "m",
        "medical",
        "chart",
        "patient",
        "routing",
        "aba",
        "transit",
        "driver",
        "driver's",
        "drivers",
        "license",
        "licence",
        "dl",
        "state",
        "passport",
        "bank",
        "checking",
        "savings",
        "acct",
        "social",
        "ssn",
        "s",
        "soc",
        "tax",
        "itin",
        "credit",
        "debit",
        "visa",
        "master",
        "mastercard",
        "amex",
        "american",
        "discover",
        "cc",
        "the",
        "pin",
        "date",
        "d",
        "dob",
        "birth",
        "birthday",
        "birthdate",
        "born",
        "b",
        "bday",
        "zip",
        "zipcode",
        "postal",
        "post",
        "phone",
        "cell",
        "mobile",
        "telephone",
        "home",
        "work",
        "contact",
        "callback",
        "call",
        "best",
        "fax",
        "number",
        "reach",
        "text",
        "tel",
    ]
)
_CUE_KIND = {f"c{i}": kind for i, (kind, _) in enumerate(_CUES)}
_CUE_WINDOW = 110  # characters between a cue and the start of the value it labels
_AFTER_WINDOW = 30

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

# ---------------------------------------------------------------------------------------------- dates
_ORD_UNIT_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
}
_ORD_WORDS = {
    **_ORD_UNIT_WORDS,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}

# ---------------------------------------------------------------------------------------------- email
_TLDS = (
    "com|net|org|edu|gov|mil|io|co|us|uk|ca|info|biz|me|ai|app|dev|health|care|de|fr|au|in|mx|es|it|nl|"
    "xyz|online|site|tech|store|email|live|mail|pro|tv|fm|cc|ch|se|pl|br|jp|nz|ie|be|dk|no|fi|pt|za|sg|"
    "hk|ph|ae|ar|cl|club|shop|blog|cloud|page|space|art|design|news|world|agency|team|studio|today|life|"
    "work|systems|solutions|network|digital|global|academy|company|center|family|law|clinic|church|"
    "school|university|services|consulting|group|media|inc|llc|ltd"
)
_EMAIL_TYPED = re.compile(r"[\w.%+'-]+\s?@\s?[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_SPOKEN_SEP = r"(?:\s*(?:\.|_|-)\s*|\s+(?:dot|period|underscore|under\s+score|dash|hyphen|minus)\s+)"
_EMAIL_SPOKEN = re.compile(
    rf"(?<![\w'])(?:[a-z0-9]\s+){{0,30}}[a-z0-9]+(?:{_SPOKEN_SEP}[a-z0-9]+)*"
    rf"\s*(?:\s(?:at|@)\s|@)\s*"
    # the top-level domain is checked by _DOT_TLD, whose end this match must share: any word here
    # (a 100-name alternation would cost ~10 ms of cold start to compile)
    rf"[a-z0-9-]+(?:(?:\s+dot\s+|\s*\.\s*)[a-z0-9-]+)*(?:\s+dot\s+|\s*\.\s*)[a-z]{{2,13}}\b",
    re.IGNORECASE,
)
_DOT_TLD = re.compile(rf"(?:\bdot\s+|\.)(?:{_TLDS})\b", re.IGNORECASE)
_LAST_WORD = re.compile(r"([A-Za-z0-9']+)$")
_EMAIL_BACK_STOP = frozenset(
    {
        "is",
        "it's",
        "its",
        "my",
        "email",
        "e-mail",
        "address",
        "the",
        "at",
        "to",
        "me",
        "uh",
        "um",
        "and",
        "or",
        "was",
        "it",
        "that's",
        "send",
        "use",
        "try",
        "reach",
        "under",
        "on",
        "file",
        "new",
        "old",
        "work",
        "personal",
    }
)

# ---------------------------------------------------------------------------------------------- names
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
_NAME_FIRST = frozenset(
    [
        "my",
        "first",
        "last",
        "full",
        "middle",
        "maiden",
        "legal",
        "sur",
        "surname",
        "name",
        "name's",
        "patient",
        "patient's",
        "caller",
        "caller's",
        "member",
        "member's",
        "subscriber",
        "subscriber's",
        "cardholder",
        "cardholder's",
        "account",
        "policy",
        "his",
        "her",
        "their",
        "it's",
        "that's",
        "spelled",
        "called",
        "named",
        "goes",
        "this",
        "i'm",
        "i",
        "speaking",
        "calling",
        "on",
        "ask",
        "asking",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "doctor",
    ]
)
_NAME_FOLLOWERS = frozenset({"calling", "from", "here", "speaking", "again"})

# ---------------------------------------------------------------------------------------------- address
_ADDRESS_CUE = re.compile(
    r"(?<![\w'])(?:(?:my|the|our|his|her|their)\s+(?:home\s+|mailing\s+|billing\s+|street\s+|current\s+|new\s+|"
    r"old\s+|shipping\s+)?address(?:\s+on\s+file)?(?:\s+is|'s)?|(?:i|we|they|he|she)\s+(?:live|lives|living|reside|"
    r"resides|moved)\s+(?:at|on|to)|(?:send|ship|mail)\s+(?:it|them|that)\s+to|residing\s+at)(?![\w'])",
    re.IGNORECASE,
)
_ADDRESS_FIRST = frozenset(
    [
        "my",
        "the",
        "our",
        "his",
        "her",
        "their",
        "i",
        "we",
        "they",
        "he",
        "she",
        "send",
        "ship",
        "mail",
        "residing",
    ]
)
_PO_BOX = re.compile(r"\bp\.?\s?o\.?\s+box\s+", re.IGNORECASE)
_ADDRESS_STOP = frozenset(
    {"and", "but", "so", "because", "please", "thanks", "thank", "which", "where", "if"}
)
_DIRECTIONS = frozenset({"n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west"})

_QUICK_WORDS = (
    set(UNITS)
    | set(TEENS)
    | set(TENS)
    | set(MULTIPLIERS)
    | {
        "name",
        "named",
        "called",
        "spelled",
        "this",
        "i'm",
        "am",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "doctor",
        "at",
        "live",
        "lives",
        "address",
        "box",
        "behalf",
        "for",
        "with",
        "my",
        "name's",
    }
)
_QUICK_RE = re.compile(r"[0-9@]|\b(?:" + _alt(sorted(_QUICK_WORDS)) + r")\b", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------- tokens
_TOKEN_CACHE: dict[str, tuple[str, str]] = {}


def _classify_token(raw: str) -> tuple[str, str]:
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
    info = _TOKEN_CACHE[raw] = _classify_token(raw)
    return info


class _Tokens:
    __slots__ = ("ends", "lows", "n", "raws", "starts", "types")

    def __init__(self, text: str) -> None:
        cache = _TOKEN_CACHE
        if len(cache) > 50_000:  # bounded: transcripts reuse a small vocabulary
            cache.clear()
        matches = list(_TOKEN_RE.finditer(text))
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


class _Run:
    __slots__ = ("end", "first", "last", "letters", "plus", "start", "value")

    def __init__(self, first: int, last: int, start: int, end: int, value: str, plus: bool) -> None:
        self.first = first
        self.last = last
        self.start = start
        self.end = end
        self.value = value
        self.plus = plus
        self.letters = sum(1 for c in value if c.isalpha())

    @property
    def digits(self) -> int:
        return len(self.value) - self.letters


def _digitish(tk: _Tokens, i: int, in_run: bool) -> bool:
    t = tk.types[i]
    low = tk.lows[i]
    if t == "N":
        return True
    if t == "A":
        return _ORDINAL_RE.fullmatch(low) is None
    if t != "W":
        return False
    if low in ("oh", "o"):
        # "oh" is a zero only inside a number or right before one ("oh five"), never "Oh, I see".
        return in_run or (i + 1 < tk.n and tk.starts[i + 1] - tk.ends[i] <= 1 and _digitish(tk, i + 1, True))
    if low in UNITS or low in TEENS or low in TENS:
        return True
    if low in MULTIPLIERS:
        return i + 1 < tk.n and (tk.types[i + 1] == "N" or tk.lows[i + 1] in UNITS)
    return in_run and low in SCALES


def _spoken_value(items: list[tuple[str, str]]) -> str:
    """Digits of a run from its items: ("n", "123") typed, ("u", "5") unit, ("t", "14") teen, ("d", "2") tens,
    ("s", "hundred"), ("m", "2") double/triple, ("a", "1EG4") alphanumeric."""
    out: list[str] = []
    i = 0
    n = len(items)

    def below_100(j: int) -> tuple[str | None, int]:
        if j < n and items[j][0] == "t":
            return items[j][1], j + 1
        if j < n and items[j][0] == "d":
            if j + 1 < n and items[j + 1][0] == "u" and items[j + 1][1] != "0":
                return items[j][1] + items[j + 1][1], j + 2
            return items[j][1] + "0", j + 1
        return None, j

    while i < n:
        kind, val = items[i]
        nxt = items[i + 1] if i + 1 < n else ("", "")
        if kind == "m":
            if nxt[0] in ("u", "n"):
                out.append(nxt[1] * int(val))
                i += 2
            else:
                i += 1
            continue
        if kind in ("u", "t") and nxt == ("s", "hundred"):
            rest, j = below_100(i + 2)
            if rest is not None:
                out.append(val + rest.zfill(2))
                i = j
            elif (
                i + 2 < n
                and items[i + 2][0] == "u"
                and not (i + 3 < n and items[i + 3][0] in ("u", "n", "m"))
            ):
                out.append(val + "0" + items[i + 2][1])
                i += 3
            else:
                out.append(val + "00")
                i += 2
            continue
        if kind == "u" and nxt == ("s", "thousand"):
            j = i + 2
            if j + 1 < n and items[j][0] == "u" and items[j + 1] == ("s", "hundred"):
                rest, k = below_100(j + 2)
                out.append(val + items[j][1] + (rest or "00").zfill(2))
                i = k
                continue
            rest, k = below_100(j)
            if rest is not None:
                out.append(val + rest.zfill(3))
                i = k
            elif j < n and items[j][0] == "u":
                out.append(val + "00" + items[j][1])
                i = j + 1
            else:
                out.append(val + "000")
                i = j
            continue
        if kind == "d":
            rest, j = below_100(i)
            out.append(rest or "")
            i = j
            continue
        if kind == "s":
            i += 1
            continue
        out.append(val)
        i += 1
    return "".join(out)


def _build_runs(tk: _Tokens, hard_breaks: Sequence[int]) -> list[_Run]:
    runs: list[_Run] = []
    i = 0
    n = tk.n
    while i < n:
        if not _digitish(tk, i, False):
            i += 1
            continue
        items: list[tuple[str, str]] = []
        j = i
        last = i
        while True:
            low = tk.lows[j]
            t = tk.types[j]
            if t == "N":
                items.append(("n", low))
            elif t == "A":
                items.append(("a", tk.raws[j].upper()))
            elif low in UNITS:
                items.append(("u", str(UNITS[low])))
            elif low in TEENS:
                items.append(("t", str(TEENS[low])))
            elif low in TENS:
                items.append(("d", str(TENS[low])))
            elif low in MULTIPLIERS:
                items.append(("m", str(MULTIPLIERS[low])))
            else:
                items.append(("s", low))
            last = j
            k = j + 1
            joins = 0
            while k < n and joins < 4:
                lk = tk.lows[k]
                if (
                    (tk.types[k] == "P" and lk in JOIN_PUNCT)
                    or lk in JOIN_WORDS
                    or (lk == "and" and items[-1][0] == "s")
                ):
                    k += 1
                    joins += 1
                else:
                    break
            if k < n and _digitish(tk, k, True) and not _crosses(hard_breaks, tk.ends[j], tk.starts[k]):
                j = k
                continue
            break
        start = tk.starts[i]
        plus = False
        if i > 0 and ((tk.lows[i - 1] == "+" and tk.ends[i - 1] >= start - 1) or tk.lows[i - 1] == "plus"):
            plus = True
            start = tk.starts[i - 1]
        value = _spoken_value(items)
        if value:
            runs.append(_Run(i, last, start, tk.ends[last], value, plus))
        i = last + 1
    return runs


def _crosses(breaks: Sequence[int], a: int, b: int) -> bool:
    if not breaks:
        return False
    k = bisect_left(breaks, a)
    return k < len(breaks) and breaks[k] < b


# ---------------------------------------------------------------------------------------------- context
class _Context:
    """Cue positions and sentence boundaries of one text, searched by bisection."""

    __slots__ = ("cue_ends", "cues", "sentence_ends")

    def __init__(self, text: str, tk: _Tokens, hard_breaks: Sequence[int]) -> None:
        cues: list[tuple[int, int, str]] = []
        for m in _anchored(tk, text, _CUE_RE, _CUE_FIRST):
            group = m.lastgroup
            if group is not None:
                cues.append((m.end(), m.start(), _CUE_KIND[group]))
        self.cues = cues
        self.cue_ends = [c[0] for c in cues]
        ends = [m.start() for m in _SENTENCE_END_RE.finditer(text)]
        if hard_breaks:
            ends = sorted(set(ends) | set(hard_breaks))
        self.sentence_ends = ends

    def same_sentence(self, a: int, b: int) -> bool:
        return not _crosses(self.sentence_ends, a, b) if a < b else True

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


def _accepts(kind: str, run: _Run) -> bool:
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


def _near_keep(tk: _Tokens, run: _Run) -> bool:
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


def _fallback(run: _Run, raw: str) -> str | None:
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


def _typed_phone(run: _Run, raw: str) -> bool:
    """A typed, valid phone number ("312-555-0188"): never an order or a booking reference. Checked only
    when a keep cue is in play, so that phonenumbers is not imported for every phone."""
    return (
        run.digits in (10, 11) and _PHONE_SHAPE.fullmatch(raw) is not None and _valid_phone(run.value, False)
    )


def _is_date_shape(raw: str) -> tuple[bool, bool]:
    """(looks like a date, has a day) for typed dates like 3/14/85, 2024-03-14 or 04/27."""
    m = _NUMERIC_DATE_SHAPE.fullmatch(raw)
    if m:
        if m.group("iso"):
            return True, True
        a, b = int(m.group("a")), int(m.group("b"))
        if (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31):
            return True, True
    m = _MONTH_YEAR_SHAPE.fullmatch(raw)
    if m and 1 <= int(m.group("m")) <= 12 and "/" in raw:
        return True, False
    return False, False


def _classify_date(ctx: _Context, start: int, end: int, has_day: bool) -> str | None:
    for cue_end, _cue_start, kind in ctx.before(start):
        if kind == "keep":
            if ctx.same_sentence(cue_end, start):
                return None
            continue
        if kind == "dob":
            return "dob"
        if kind == "expiry":
            return "expiry"
        if kind in ("card", "cvv") and not has_day:
            return "expiry"
    for _cue_end, _cue_start, kind in ctx.after(end):
        if kind == "dob":
            return "dob"
    return None


def _classify_run(tk: _Tokens, ctx: _Context, run: _Run, raw: str) -> str | None:
    if _near_keep(tk, run):
        return None
    is_date, has_day = _is_date_shape(raw) if not run.letters else (False, False)
    if is_date:
        return _classify_date(ctx, run.start, run.end, has_day)
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


def _extend_id(tk: _Tokens, run: _Run, hard_breaks: Sequence[int]) -> tuple[int, int]:
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
    while i >= 0 and not _crosses(hard_breaks, tk.ends[i], tk.starts[first]):
        if letterish(i):
            first = i
        elif not (tk.lows[i] in ("-", ".", ",") or tk.lows[i] in JOIN_WORDS):
            break
        i -= 1
    i = last + 1
    while i < tk.n and not _crosses(hard_breaks, tk.ends[last], tk.starts[i]):
        if letterish(i) or _digitish(tk, i, True):
            last = i
        elif not (tk.lows[i] in ("-", ",") or tk.lows[i] in JOIN_WORDS):
            break
        i += 1
    start = tk.starts[first] if first < run.first else run.start
    return start, tk.ends[last]


# ---------------------------------------------------------------------------------------------- detectors
def _detect_runs(
    text: str,
    tk: _Tokens,
    ctx: _Context,
    runs: list[_Run],
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


_EXTENSION_WORDS = frozenset({"ext", "extension", "x"})


def _extension_end(tk: _Tokens, run: _Run, runs: list[_Run]) -> int | None:
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


def _day_end(tk: _Tokens, j: int) -> int | None:
    """End index of an ordinal day at token j ("14th", "fourteenth", "twenty-first"), else None."""
    if j >= tk.n:
        return None
    low = tk.lows[j]
    if tk.types[j] == "A" and _ORDINAL_RE.fullmatch(low):
        return j + 1 if 1 <= int(low[:-2]) <= 31 else None
    if low in ("twenty", "thirty"):
        k = j + 1 + (j + 1 < tk.n and tk.lows[j + 1] == "-")
        if k < tk.n and tk.lows[k] in _ORD_UNIT_WORDS:
            return k + 1
    return j + 1 if low in _ORD_WORDS else None


def _year_run(run: _Run | None) -> bool:
    if run is None or run.letters:
        return False
    v = run.value
    return len(v) == 2 or (len(v) == 4 and v[:2] in ("19", "20"))


def _detect_dates(tk: _Tokens, ctx: _Context, runs: list[_Run]) -> tuple[list[Span], list[tuple[int, int]]]:
    """Month-name dates: "March 3rd, 1985", "march fourteenth nineteen eighty five", "the 3rd of March",
    "april twenty twenty seven". Numeric ones (3/14/85) are runs with a date shape."""
    spans: list[Span] = []
    seen: list[tuple[int, int]] = []
    run_first = {r.first: r for r in runs}

    def year_after(k: int) -> int | None:
        if k < tk.n and tk.lows[k] == ",":
            k += 1
        if k < tk.n and tk.lows[k] == "of":
            k += 1
        run = run_first.get(k)
        return run.last + 1 if _year_run(run) and run is not None else None

    for i in range(tk.n):
        low = tk.lows[i]
        first = i
        end: int | None = None
        has_day = False
        if low in MONTHS and tk.types[i] == "W":
            j = i + 1
            if j < tk.n and tk.lows[j] == ".":
                j += 1
            if j < tk.n and tk.lows[j] == "the":
                j += 1
            day = _day_end(tk, j)
            run = run_first.get(j)
            if day is not None:
                has_day = True
                end = year_after(day) or day
            elif run is not None and not run.letters:
                v = run.value
                if len(v) <= 2 and 1 <= int(v) <= 31:
                    has_day = True
                    end = year_after(run.last + 1) or run.last + 1
                elif len(v) == 4 and v[:2] in ("19", "20"):
                    end = run.last + 1
                elif 3 <= len(v) <= 8:
                    has_day = True
                    end = run.last + 1
        elif (
            (day := _day_end(tk, i)) is not None
            and day + 1 < tk.n
            and tk.lows[day] == "of"
            and tk.lows[day + 1] in MONTHS
        ):
            has_day = True
            end = year_after(day + 2) or day + 2
            if i > 0 and tk.lows[i - 1] == "the":
                first = i - 1
        if end is None:
            continue
        start, stop = tk.starts[first], tk.ends[end - 1]
        seen.append((start, stop))
        kind = _classify_date(ctx, start, stop, has_day)
        if kind is not None:
            spans.append((start, stop, kind, 65))
    return spans, seen


# Typed phones with an extension glued on ("312-555-0188x42", "001-312-555-0188x4321"), which tokenise as
# one alphanumeric word and so never form a digit run.
_PHONE_WITH_EXTENSION = re.compile(
    r"(?<![\w+])(?:\+?1[-. ]?|001[-. ]?)?\(?(\d{3})\)?[-. ]?(\d{3})[-. ](\d{4})\s?(?:x|ext\.?)\s?\d{1,6}\b",
    re.IGNORECASE,
)


def _detect_phone_extensions(text: str) -> list[Span]:
    spans: list[Span] = []
    if "x" in text or "X" in text:
        for m in _PHONE_WITH_EXTENSION.finditer(text):
            if _valid_phone(m.group(1) + m.group(2) + m.group(3), False):
                spans.append((m.start(), m.end(), "phone", 62))
    return spans


def _detect_emails(text: str) -> list[Span]:
    spans: list[Span] = []
    if "@" in text:
        for m in _EMAIL_TYPED.finditer(text):
            spans.append((m.start(), m.end(), "email", 90))
    for tld in _DOT_TLD.finditer(text):
        # a spoken address always ends in "dot com"/".com" with "at" shortly before: search only there
        at = max(text.rfind(" at ", max(0, tld.start() - 80), tld.start()), text.rfind("@", 0, tld.start()))
        if at < 0 or tld.start() - at > 80:
            continue
        lo = max(0, at - 150)
        for m in _EMAIL_SPOKEN.finditer(text, lo, tld.end()):
            if m.end() != tld.end():
                continue
            start = m.start()
            # spoken local parts may be several words ("john smith eighty five at ..."): walk back
            steps = 0
            while steps < 4:
                base = max(0, start - 60)
                before = text[base:start].rstrip()
                wm = _LAST_WORD.search(before)
                if wm is None or wm.group(1).lower() in _EMAIL_BACK_STOP or base + len(before) < start - 2:
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
_EMAIL_PREFIX_SEPARATORS = frozenset({"dot", "period", "underscore", "dash", "hyphen", "at"})
# Words that show what follows the cue is not an address ("my email is the same", "is on file").
_EMAIL_PREFIX_NOT = frozenset(
    {
        "the",
        "a",
        "an",
        "on",
        "in",
        "not",
        "still",
        "same",
        "correct",
        "what",
        "changed",
        "no",
        "unchanged",
        "different",
        "wrong",
        "right",
        "fine",
        "above",
        "below",
        "there",
        "here",
        "listed",
        "saved",
        "gone",
    }
)
_EMAIL_PREFIX_STOP = frozenset(
    {"and", "or", "but", "please", "thanks", "thank", "so", "if", "because", "okay"}
)
_MAX_PREFIX_TOKENS = 12


def _detect_email_prefixes(text: str) -> list[Span]:
    spans: list[Span] = []
    for cue in _EMAIL_CUE.finditer(text):
        position, end, tokens, spoken_separator = cue.end(), cue.end(), 0, False
        first = True
        while tokens < _MAX_PREFIX_TOKENS:
            m = _EMAIL_PREFIX_TOKEN.match(text, position)
            if m is None:
                break
            word = m.group(0).lower().rstrip(".")
            if first and word in _EMAIL_PREFIX_NOT:
                break
            if word in _EMAIL_PREFIX_STOP:
                break
            first = False
            spoken_separator |= word in _EMAIL_PREFIX_SEPARATORS or any(c.isdigit() for c in word)
            end, tokens = m.end(), tokens + 1
            gap = re.match(r"[ \t]+", text[end:])
            position = end + (gap.end() if gap else 0)
            if not gap:
                break
        reaches_end = not text[end:].strip(" .,!?")
        if tokens and (spoken_separator or reaches_end):
            spans.append((cue.end(), end, "email", 85))
    return spans


def _skip_leadin(tk: _Tokens, i: int) -> int:
    while i < tk.n and (
        (tk.types[i] == "P" and tk.lows[i] in (":", ",", "-", "'")) or tk.lows[i] in JOIN_WORDS
    ):
        i += 1
    return i


def _capitalised(raw: str) -> bool:
    return (raw[:1].isupper() and not raw.isupper()) or (len(raw) > 1 and raw.isupper())


def _detect_names(text: str, tk: _Tokens) -> list[Span]:
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
            if mixed_case and not _capitalised(raw):
                break
            if not strong and words == 0 and not mixed_case and low not in COMMON_FIRST_NAMES:
                nxt = tk.lows[j + 1] if j + 1 < tk.n else ""
                if nxt not in _NAME_FOLLOWERS:
                    break
            words += 1
            j += 1
        while j > i and tk.types[j - 1] == "P":
            j -= 1
        return j

    for regex, strong in ((_NAME_STRONG, True), (_NAME_WEAK, False)):
        for m in _anchored(tk, text, regex, _NAME_FIRST):
            # transcripts may be all lower case; judge capitalisation on the cue's own line only
            line = text[
                text.rfind("\n", 0, m.start()) + 1 : (text.find("\n", m.end()) + 1 or len(text) + 1) - 1
            ]
            mixed_case = any(ch.isupper() for ch in line) and any(ch.islower() for ch in line)
            i = _skip_leadin(tk, tk.index_at(m.end()))
            j = take(i, strong)
            if j > i:
                spans.append((tk.starts[i], tk.ends[j - 1], "name", 70))
    return spans


_SENTENCE_PUNCT = frozenset({".", "?", "!"})
# Inside a name only hyphens, apostrophes and the period of an initial ("J. R. Smith") may appear.
_NAME_BREAKS = frozenset(
    {",", ":", ";", "(", ")", '"', "/", "[", "]", "\u201c", "\u201d", "|", "&", "+", "="}
)


def _detect_names_learned(text: str, tk: _Tokens) -> list[Span]:
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


def _known_names(tagger: _names.NameTagger, tk: _Tokens, first: int, end: int) -> bool:
    words = [tk.lows[i] for i in range(first, end) if tk.types[i] == "W"]
    return all("F" in (f := tagger.flags(w)) or "L" in f for w in words)


_MACHINE_VALUE = re.compile(r"\S*[\d/:_@=]\S*|[a-z]{2}-[A-Z]{2}")  # ids, URLs, times; "en-US"


def _machine_value(line: str) -> bool:
    """One word with digits or URL/ID punctuation ("inboundPhoneCall" stays in, "wss://...", "CA79cb..."
    and "2026-11-25T14:00" are out): metadata fields of every webhook, never a person's name."""
    return _MACHINE_VALUE.fullmatch(line) is not None


def _name_pieces(tk: _Tokens, i: int, j: int) -> list[Span]:
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


_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "doctor", "mister", "missus", "professor", "prof"})
_MEDIA_WORDS = frozenset(
    {
        "watch",
        "watched",
        "watching",
        "rewatched",
        "movie",
        "film",
        "book",
        "novel",
        "show",
        "series",
        "song",
        "album",
        "musical",
        "read",
        "reading",
        "reread",
        "episode",
        "play",
    }
)


def _media_title(tk: _Tokens, start: int) -> bool:
    """A name right after a title after a media word is a title of a film or book ("watched Dr. Strangelove",
    "the movie Miss Congeniality"), not a person."""
    i = tk.index_at(start) - 1
    if i >= 0 and tk.lows[i] == ".":
        i -= 1
    if i < 1 or tk.lows[i] not in _TITLES:
        return False
    j = i - 1
    if tk.lows[j] == "the" and j > 0:
        j -= 1
    return tk.lows[j] in _MEDIA_WORDS or tk.lows[j] in ("'", '"', "“")


# International bank account numbers: country code, two check digits, 11-30 letters/digits (ISO 13616),
# accepted only when the mod-97 check holds.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")


def _detect_ibans(text: str) -> list[Span]:
    spans: list[Span] = []
    for m in _IBAN.finditer(text):
        value = m.group().replace(" ", "")
        rearranged = value[4:] + value[:4]
        digits = "".join(str(int(c, 36)) for c in rearranged)
        if int(digits) % 97 == 1:
            spans.append((m.start(), m.end(), "account", 62))
    return spans


def _detect_addresses(text: str, tk: _Tokens, runs: list[_Run]) -> list[Span]:
    spans: list[Span] = []
    run_by_last = {r.last: r for r in runs}

    def extend_tail(j: int) -> int:
        """From token j (exclusive end index), absorb unit, city, state and ZIP."""
        k = j
        if k < tk.n and tk.lows[k] == ".":
            k += 1
        if k < tk.n and tk.lows[k] in _DIRECTIONS:
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
            if tk.types[scan2] == "W" and low not in _ADDRESS_STOP and low not in NAME_STOPWORDS:
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
        while k >= 0 and words < 4 and (tk.types[k] == "W" or _ORDINAL_RE.fullmatch(tk.lows[k])):
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

    for m in _anchored(tk, text, _ADDRESS_CUE, _ADDRESS_FIRST):
        i = _skip_leadin(tk, tk.index_at(m.end()))
        j = i
        first: int | None = None  # the span starts at the first evidence, not at the cue ("uh let me think")
        while j < tk.n and j - i < 16:
            low = tk.lows[j]
            if low in ("?", "!") or low in _ADDRESS_STOP or _newline_before(text, tk, j):
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


def _newline_before(text: str, tk: _Tokens, j: int) -> bool:
    return j > 0 and "\n" in text[tk.ends[j - 1] : tk.starts[j]]


def _address_goes_on(tk: _Tokens, j: int) -> bool:
    raw, low = tk.raws[j], tk.lows[j]
    return (
        tk.types[j] in ("N", "A")
        or low in (",", "#")
        or low in UNIT_WORDS
        or raw in US_STATE_CODES
        or low in US_STATES
        or raw[:1].islower()
    )


_MILITARY_POST = frozenset({"apo", "fpo", "dpo"})
_MILITARY_REGION = frozenset({"aa", "ae", "ap"})
_MILITARY_UNIT = frozenset({"unit", "psc", "cmr"})
# Lower-case two-letter words that are state codes only with a ZIP right after; these never are.
_NOT_LOWER_CODES = frozenset({"in", "me", "or", "oh", "hi", "ok", "id"})
_STATE_SECOND = frozenset({"york", "jersey", "hampshire", "mexico", "carolina", "dakota", "island"})
# Words that end the walk back from a ZIP to the house number: the address has not started yet.
_ADDRESS_WALK_STOP = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "in",
        "at",
        "to",
        "we",
        "i",
        "my",
        "the",
        "live",
        "lives",
        "moved",
        "from",
        "it's",
        "its",
        "that's",
        "send",
        "ship",
        "mail",
        "deliver",
        "address",
        "with",
        "for",
        "have",
        "has",
        "had",
    }
    | _ADDRESS_STOP
)


def _state_at(tk: _Tokens, k: int) -> int | None:
    """Index of the first token of a US state (name or code) ending at token k, else None."""
    raw, low = tk.raws[k], tk.lows[k]
    if raw in US_STATE_CODES or low in US_STATES:
        return k
    if len(raw) == 2 and raw.islower() and raw.upper() in US_STATE_CODES and low not in _NOT_LOWER_CODES:
        return k
    if low in _STATE_SECOND and k > 0 and tk.lows[k - 1] in ("new", "north", "south", "rhode"):
        return k - 1
    return None


def _detect_address_by_tail(text: str, tk: _Tokens, runs: list[_Run]) -> list[Span]:
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
        military = tk.lows[k] in _MILITARY_REGION and k > 0 and tk.lows[k - 1] in _MILITARY_POST
        state = k - 1 if military else _state_at(tk, k)
        if state is None:
            continue
        j, words, start = state - 1, 0, None
        while j >= 0 and words < 10 and not _newline_before(text, tk, j + 1):
            low = tk.lows[j]
            run = run_last.get(j)
            if run is not None:
                before = tk.lows[run.first - 1] if run.first > 0 else ""
                if military and before in _MILITARY_UNIT:
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
            if tk.types[j] != "W" or low in _ADDRESS_WALK_STOP or low in ("?", "!"):
                break
            words += 1
            j -= 1
        if start is not None:
            spans.append((tk.starts[start], zr.end, "address", 80))
    return spans


_STREET_PREFIXES = frozenset({"avenida", "calle", "camino", "paseo", "rua", "rue", "via"})


def _detect_streets_without_suffix(text: str, tk: _Tokens, runs: list[_Run]) -> list[Span]:
    """ "88 South Halsted", "1200 Avenida Real": a house number, a direction or a Spanish/French street
    word, then a name (capitalised when the text is cased)."""
    spans: list[Span] = []
    cased = any(c.isupper() for c in text) and any(c.islower() for c in text)
    for run in runs:
        if run.letters or not 1 <= run.digits <= 6:
            continue
        j = run.last + 1
        if j + 1 >= tk.n or (tk.lows[j] not in _DIRECTIONS_LONG and tk.lows[j] not in _STREET_PREFIXES):
            continue
        if tk.lows[j] == "via" and not tk.raws[j][0].isupper():
            continue
        k = j + 1
        while k < tk.n and k - j <= 2 and tk.types[k] == "W":
            low, raw = tk.lows[k], tk.raws[k]
            if low in _ADDRESS_WALK_STOP or low in _names.NEVER_NAME or (cased and not raw[0].isupper()):
                break
            k += 1
        if k == j + 1:
            continue
        end = k
        if end < tk.n and tk.lows[end] in STREET_SUFFIXES:
            continue  # the suffix detector handles it
        spans.append((run.start, tk.ends[end - 1], "address", 78))
    return spans


_DIRECTIONS_LONG = frozenset(
    {"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"}
)


_LOCATION_CUE = re.compile(
    r"(?<![\w'])(?:(?:i|we|he|she|they)\s+(?:live|lives|lived|living|moved|reside|resides|stay|stays|grew\s+up)|"
    r"(?:living|moving|moved|relocated|relocating|based|located|residing|staying|raised|born|grew\s+up)|"
    r"(?:city|town|county|village|borough)\s+of)(?:\s+(?:in|to|near|outside(?:\s+of)?|around|at))?\s+",
    re.IGNORECASE,
)
_LOCATION_FOLLOWERS = frozenset({"county", "parish", "city", "township", "borough"})
_WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})


def _detect_locations(text: str, tk: _Tokens) -> list[Span]:
    """Cities, towns and counties tied to a person ("I live in Fresno", "we moved to Cedar Rapids",
    "Marin County", "Duluth, MN"). Emitted as `location`, which only the PHI profile redacts."""
    spans: list[Span] = []
    cased = any(c.isupper() for c in text) and any(c.islower() for c in text)

    def place_words(i: int) -> int:
        j = i
        while j < tk.n and j - i < 3 and tk.types[j] == "W":
            low, raw = tk.lows[j], tk.raws[j]
            if low in _names.NEVER_NAME or low in NAME_STOPWORDS or low in _ADDRESS_WALK_STOP:
                break
            if cased and not raw[0].isupper():
                break
            j += 1
        return j

    for m in _LOCATION_CUE.finditer(text):
        i = tk.index_at(m.end())
        j = place_words(i)
        if j > i:
            spans.append((tk.starts[i], tk.ends[j - 1], "location", 40))
    if cased:  # "nurse practitioner in Fresno": a capitalised place after a preposition, mid-sentence
        for k in range(1, tk.n - 1):
            if tk.lows[k] in ("in", "from", "near", "outside") and tk.raws[k].islower():
                i = k + 1
                if tk.lows[i] in MONTHS or tk.lows[i] in _WEEKDAYS:
                    continue
                j = place_words(i)
                if j > i:
                    spans.append((tk.starts[i], tk.ends[j - 1], "location", 40))
    for k in range(1, tk.n):
        low = tk.lows[k]
        if (
            low in _LOCATION_FOLLOWERS
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


def _detect_zip_after_state(tk: _Tokens, runs: list[_Run]) -> list[Span]:
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


# ---------------------------------------------------------------------------------------------- entry
def detect(text: str, hard_breaks: Sequence[int] = ()) -> list[Span]:
    """All candidate findings in `text`, unmerged (the caller filters by policy, then merges).
    `hard_breaks` are offsets no number may span (boundaries between turns of different speakers)."""
    if not text:
        return []
    tk = _Tokens(text)
    locations = _detect_locations(text, tk)
    # a place the tagger took for a person ("Duluth, MN") is a place: location wins
    names = [
        n
        for n in _detect_names_learned(text, tk)
        if not any(p[0] <= n[0] and n[1] <= p[1] for p in locations)
    ]
    if _QUICK_RE.search(text) is None:
        return names + locations
    ctx = _Context(text, tk, hard_breaks)
    runs = _build_runs(tk, hard_breaks)
    date_spans, dates = _detect_dates(tk, ctx, runs)
    # "the first of April", "June 5th": a month inside a date is not a person
    spans: list[Span] = [n for n in names if not any(d[0] <= n[0] and n[1] <= d[1] for d in dates)]
    spans += _detect_emails(text)
    spans += _detect_phone_extensions(text)
    spans += _detect_email_prefixes(text)
    spans += date_spans
    spans += _detect_runs(text, tk, ctx, runs, dates, hard_breaks)
    spans += _detect_names(text, tk)
    spans = [sp for sp in spans if sp[2] != "name" or not _media_title(tk, sp[0])]
    spans += _detect_ibans(text)
    spans += _detect_addresses(text, tk, runs)
    spans += _detect_zip_after_state(tk, runs)
    spans += locations
    return spans


def merge(spans: list[Span]) -> list[Span]:
    """Union overlapping spans; the kind of the highest-priority member wins."""
    if not spans:
        return []
    spans.sort(key=lambda s: (s[0], -s[1]))
    out: list[Span] = [spans[0]]
    for s in spans[1:]:
        cur = out[-1]
        if s[0] < cur[1]:
            kind, prio = (s[2], s[3]) if s[3] > cur[3] else (cur[2], cur[3])
            out[-1] = (cur[0], max(cur[1], s[1]), kind, prio)
        else:
            out.append(s)
    return out
