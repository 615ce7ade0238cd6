"""Generate labelled training turns for the name tagger, deterministically (fixed seed, sorted lists).

Every template is filled with names drawn from the Census and Faker lists by frequency band and locale
(names held out for evaluation are skipped), then rendered in written form (cased, punctuated) and in spoken
forms (lower case, no punctuation, hyphens as spaces, fillers, stutters, accents folded) and sometimes in a
social-media form (lower case, punctuation kept). Each example carries the previous turn, so the tagger
learns what a bare answer to "What's the name on the account?" looks like.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "layers" / "common"))

import domains  # noqa: E402
import sources  # noqa: E402
import templates as tpl  # noqa: E402

from voicetrail.redaction import _names  # noqa: E402
from voicetrail.redaction.detection.tokens import TOKEN_RE as _TOKEN_RE  # noqa: E402
from voicetrail.redaction.detection.tokens import classify_token as _classify_token  # noqa: E402

PERSON_SLOTS = frozenset({"N", "F", "L", "N2", "N3", "F2", "F3", "FW", "LF", "LF2", "LF3", "L2", "L3", "I"})
_SLOT = re.compile(r"\{(\w+)\}")
PARTICLES = ("van", "van der", "de", "de la", "del", "da", "dos", "von", "bin", "al", "el", "di", "le", "ter")
_CHUNK = re.compile(r"[^aeiouy\W\d_]*[aeiouy]+")
SYNTHETIC_SHARE = 0.3
FILLERS = ("uh", "um", "like", "you know", "so", "uh huh", "okay")

# A labelled example: the previous turn (or None) and the turn as (text, [(start, end) of names]).
Example = tuple[str | None, str, list[tuple[int, int]]]


class NamePools:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        first = [
            n for n in sources.census_first() if not sources.held_out(n) and n not in domains.EVAL_WORD_NAMES
        ]
        last = [n for n in sources.census_last() if not sources.held_out(n)]
        self.first_bands = [first[:300], first[300:1500], first[1500:]]
        self.last_bands = [last[:1000], last[1000:10000], last[10000:40000], last[40000:]]
        self.faker_first = [n for n in sources.faker_first() if not sources.held_out(n) and len(n) > 1]
        self.faker_last = [n for n in sources.faker_last() if not sources.held_out(n) and len(n) > 1]

        # made-up surrogate names absent from every list: the tagger must also learn names from context
        # and shape alone, as real callers' names are often in no list
        self.chunks = sorted(
            {c for n in self.faker_first + self.faker_last for c in _CHUNK.findall(n.lower())}
        )
        self.known = {n.lower() for n in first + last + self.faker_first + self.faker_last}

    def synthetic(self) -> str:
        while True:
            name = "".join(self.rng.choice(self.chunks) for _ in range(self.rng.choice((1, 2, 2, 3))))
            if self.rng.random() < 0.4:
                name += self.rng.choice(("n", "s", "r", "l", "k", "t", "m", "h", "ng", "sh", "z", "v"))
            if 3 <= len(name) <= 12 and name not in self.known:
                return name.capitalize()

    def _accent(self, name: str) -> str:
        return sources.fold(name) if self.rng.random() < 0.3 else name

    def first(self) -> str:
        r = self.rng.random()
        if r < SYNTHETIC_SHARE:
            return self.synthetic()
        r = self.rng.random()
        if r < 0.45:
            band = self.rng.choices(self.first_bands, weights=(0.45, 0.35, 0.2))[0]
            return self.rng.choice(band)
        return self._accent(self.rng.choice(self.faker_first))

    def last(self) -> str:
        r = self.rng.random()
        if r < SYNTHETIC_SHARE:
            name = self.synthetic()
        elif self.rng.random() < 0.45:
            band = self.rng.choices(self.last_bands, weights=(0.35, 0.3, 0.2, 0.15))[0]
            name = self.rng.choice(band)
        else:
            name = self._accent(self.rng.choice(self.faker_last))
        r = self.rng.random()
        if r < 0.07:
            name = f"{name}-{self.rng.choice(self.last_bands[0] + self.faker_last)}"
        elif r < 0.11:
            name = f"{self.rng.choice(PARTICLES)} {name}"
        return name

    def word_name(self) -> str:
        """A given name that is also an ordinary word ("June", "Frank")."""
        return self.rng.choice(domains.TRAIN_WORD_NAMES)

    def listing(self) -> str:
        """A name as a directory or a provider list reads it: surname first, sometimes with an initial."""
        name = f"{self.last()} {self.first()}"
        r = self.rng.random()
        if r < 0.35:
            name += " " + self.rng.choice("ABCDEFGHJKLMNPRSTW")
        elif r < 0.5:
            name += " " + self.rng.choice("ABCDEFGHJKLMNPRSTW") + "."
        return name

    def full(self) -> str:
        r = self.rng.random()
        if r < 0.07:
            return f"{self.first()} {self.rng.choice('ABCDEFGHJKLMNPRSTW')}. {self.last()}"
        if r < 0.12:
            return f"{self.first()} {self.first()} {self.last()}"
        if r < 0.15:
            return f"{self.first()} {self.last()} {self.rng.choice(('Jr.', 'Sr.', 'III'))}"
        if r < 0.27:
            return self.first()
        if r < 0.32:
            return self.last()
        return f"{self.first()} {self.last()}"


# A piece of a filled template: its text (or its written and spoken forms) and whether it is a person name.
Piece = tuple[str | tuple[str, str], bool]


def _fill(template: str, pools: NamePools, rng: random.Random) -> list[Piece]:
    """Pieces of the filled template as (text, is_person_name)."""
    pieces: list[Piece] = []
    pos = 0
    for m in _SLOT.finditer(template):
        if m.start() > pos:
            pieces.append((template[pos : m.start()], False))
        slot = m.group(1)
        if slot in ("N", "N2", "N3"):
            value = pools.full()
        elif slot in ("F", "F2", "F3"):
            value = pools.first()
        elif slot in ("L", "L2", "L3"):
            value = pools.last()
        elif slot == "FW":
            value = pools.word_name()
        elif slot in ("LF", "LF2", "LF3"):
            value = pools.listing()
        elif slot == "I":
            value = rng.choice("ABCDEFGHJKLMNPRSTW")
        elif slot in ("AMT", "TIME", "EXT"):
            pieces.append((_spoken_value(slot, rng), False))
            pos = m.end()
            continue
        elif slot == "T":
            value = rng.choice(tpl.TITLES)
        elif slot == "CO":
            value = rng.choice(tpl.COMPANIES) if rng.random() < 0.7 else _made_up_business(pools)
        elif slot == "PL":
            value = rng.choice(tpl.PLACES) if rng.random() < 0.7 else _made_up_place(pools)
        elif slot == "DAY":
            value = rng.choice(tpl.DAYS)
        elif slot == "NUM":
            value = _number(rng)
        elif slot == "DATE":
            value = _date(rng)
        else:
            raise ValueError(f"unknown slot {slot} in {template!r}")
        pieces.append((value, slot in PERSON_SLOTS))
        pos = m.end()
    if pos < len(template):
        pieces.append((template[pos:], False))
    return pieces


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]


def number_words(n: int) -> str:
    """0-9999 as a transcript writes it ("one thousand two hundred fifty")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS_WORDS[n // 10 - 2] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    return number_words(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + number_words(n % 1000))


def _spoken_value(slot: str, rng: random.Random) -> tuple[str, str]:
    """An amount, a time or an extension: (written form, spoken form)."""
    if slot == "AMT":
        n = rng.choice(
            (5, 10, 12, 15, 20, 25, 30, 40, 45, 50, 60, 75, 80, 100, 120, 150, 200, 250, 500, 1200)
        )
        unit = rng.choice(("dollars", "bucks", "", "dollars"))
        written = f"${n}" if unit == "dollars" and rng.random() < 0.7 else f"{n} {unit}".strip()
        return written, f"{number_words(n)} {unit}".strip()
    if slot == "TIME":
        h, m = rng.randint(1, 12), rng.choice((0, 15, 30, 45))
        half = rng.choice(("am", "pm"))
        minutes = "" if m == 0 else " " + number_words(m)
        return f"{h}:{m:02d} {half}", f"{number_words(h)}{minutes} {half}"
    ext = "".join(rng.choice("0123456789") for _ in range(4))
    return ext, " ".join(_ONES[int(d)] for d in ext)


_DIGIT_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _number(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((3, 4, 5, 7, 9, 10, 16))))
    r = rng.random()
    if r < 0.4:
        return digits
    if r < 0.6:
        return " ".join(digits)
    words = [rng.choice(("zero", "oh")) if d == "0" else _DIGIT_WORDS[int(d) + 1] for d in digits]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(("uh", "dash", "um")))
    return " ".join(words)


def _date(rng: random.Random) -> str:
    month = rng.choice(tpl.MONTH_NAMES)
    day = rng.randint(1, 28)
    year = rng.randint(1940, 2030)
    r = rng.random()
    if r < 0.3:
        return f"{month} {day}, {year}"
    if r < 0.5:
        return f"{month} {day}th"
    if r < 0.7:
        return f"{month} {rng.choice(_TENS_WORDS[:2])} {rng.choice(_DIGIT_WORDS[2:])}"
    if r < 0.85:
        return f"{day}/{rng.randint(1, 12)}/{year}"
    return f"{month} {year}"


def _made_up_business(pools: NamePools) -> str:
    """A business nobody listed ("Velmora Bank", "Tarsk"): context, not a list, must say it is no person."""
    name = pools.synthetic()
    suffix = pools.rng.choice(
        ("", "", " Bank", " Airlines", " Insurance", " Health", " Mobile", " Energy", " Foods")
    )
    return name + suffix


def _made_up_place(pools: NamePools) -> str:
    name = pools.synthetic()
    return name + pools.rng.choice(("", "", "", "ville", " City", " Springs", " Falls", "burg", "ton"))


_PUNCT = re.compile(r"[^\w\s']+")


def _spoken_piece(text: str, is_name: bool, rng: random.Random, fillers: bool) -> str:
    text = text.lower()
    possessive = text.startswith("'s")
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    if possessive:
        text = "'" + text.lstrip()
    if is_name:
        text = sources.fold(text) if rng.random() < 0.7 else text
        return " ".join(text.split())
    words = text.split()
    out: list[str] = []
    for w in words:
        if fillers and rng.random() < 0.06:
            out.append(rng.choice(FILLERS))
        out.append(w)
        if fillers and rng.random() < 0.03:
            out.append(w)  # stutter: "i i need"
    return " ".join(out)


def render(pieces: list[Piece], form: str, rng: random.Random) -> tuple[str, list[tuple[int, int]]]:
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, (value, is_name) in enumerate(pieces):
        text = value if isinstance(value, str) else value[1] if form == "spoken" else value[0]
        if form == "spoken":
            piece = _spoken_piece(text, is_name, rng, fillers=True)
            if out and piece and not out[-1].endswith(" ") and not piece.startswith("'"):
                piece = " " + piece
            if i + 1 < len(pieces) and piece and not piece.endswith(" "):
                piece = piece + " "
        elif form == "social":
            piece = text.lower() if not is_name or rng.random() < 0.6 else text
        else:
            piece = text
        if is_name:
            lead = len(piece) - len(piece.lstrip())
            body = piece.strip()
            spans.append((pos + lead, pos + lead + len(body)))
        out.append(piece)
        pos += len(piece)
    text = "".join(out)
    if form == "spoken":
        # collapse double spaces while keeping name offsets valid
        squeezed: list[str] = []
        mapping: list[int] = []
        for ch in text:
            if ch == " " and squeezed and squeezed[-1] == " ":
                mapping.append(len(squeezed) - 1)
                continue
            mapping.append(len(squeezed))
            squeezed.append(ch)
        mapping.append(len(squeezed))
        spans = [(mapping[s], mapping[e - 1] + 1) for s, e in spans]
        text = "".join(squeezed)
        strip = len(text) - len(text.lstrip())
        text = text.strip()
        spans = [(s - strip, e - strip) for s, e in spans]
    return text, spans


def _question(text: str | None, form: str) -> str | None:
    if text is None or form == "written":
        return text
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def _forms(rng: random.Random) -> list[str]:
    forms = ["written", "spoken"]
    if rng.random() < 0.3:
        forms.append("social")
    return forms


def examples(seed: int = 11, repeats: int = 20) -> Iterator[Example]:
    """The whole training corpus, in a fixed order for a given seed."""
    rng = random.Random(seed)
    pools = NamePools(rng)
    jobs: list[tuple[tuple[str, ...], tuple[str, ...], int]] = [
        (tpl.ASK_NAME, tpl.NAME_ANSWERS, repeats * 2),
        (tpl.ASK_NAME, tpl.NON_NAME_ANSWERS, repeats // 2),
        (tpl.ASK_WHO, tpl.WHO_ANSWERS, repeats * 2),
        (tpl.ASK_WHO, tpl.NON_NAME_ANSWERS, repeats // 3),
        (tpl.ASK_NAME_NOT_PERSON, tpl.NOT_PERSON_ANSWERS, repeats),
        (tpl.ASK_OTHER, tpl.NON_NAME_ANSWERS, repeats // 2),
    ]
    contexts: tuple[str | None, ...] = (None, None, None, *tpl.ASK_OTHER, "Okay.", "Thanks for waiting.")
    for questions, answers, n in jobs:
        for answer in answers:
            for _ in range(n):
                q = rng.choice(questions)
                yield from _render_all(q, answer, pools, rng)
    for group, n in ((tpl.SENTENCES, repeats), (tpl.NEGATIVES, repeats), (tpl.NUMERIC, repeats)):
        for sentence in group:
            for _ in range(n):
                q = rng.choice(contexts) if rng.random() < 0.85 else rng.choice(tpl.ASK_NAME + tpl.ASK_WHO)
                yield from _render_all(q, sentence, pools, rng)
    # the six domains of training/names/domains.py (the benchmark's own templates are not these)
    for _domain, (named, negative) in domains.DOMAINS.items():
        for group in (named, negative):
            for question, sentence in group:
                for _ in range(repeats):
                    yield from _render_all(question, sentence, pools, rng)


def _render_all(q: str | None, template: str, pools: NamePools, rng: random.Random) -> Iterator[Example]:
    pieces = _fill(template, pools, rng)
    for form in _forms(rng):
        text, spans = render(pieces, form, rng)
        yield _question(q, form), text, spans


def tokens_and_labels(
    text: str, spans: list[tuple[int, int]]
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Engine tokens of `text` (raw, lower, type) and their BIO labels."""
    raws: list[str] = []
    lows: list[str] = []
    kinds: list[str] = []
    labels: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        raw = m.group()
        low, kind = _classify_token(raw)
        label = "O"
        for s, e in spans:
            if s <= m.start() < e:  # "Mildred's": the possessive token is the name
                label = "B" if not labels or labels[-1] == "O" or m.start() == s else "I"
                break
        raws.append(raw)
        lows.append(low)
        kinds.append(kind)
        labels.append(label)
    return raws, lows, kinds, labels


def is_cased(text: str) -> bool:
    return _names.is_cased(text)


if __name__ == "__main__":
    for i, (q, text, spans) in enumerate(examples()):
        if i % 997 == 0:
            print(repr(q), "->", text, [text[s:e] for s, e in spans])
