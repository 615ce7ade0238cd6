"""Hostile redaction benchmark: values disguised the way a red team (or a chat channel) disguises them.

    python benchmarks/redaction_hostile.py                 # 30 values per kind per class, seed 24
    python benchmarks/redaction_hostile.py --per-kind 100 --seed 7
    python benchmarks/redaction_hostile.py --layer /tmp/old/layers/common   # another layer (before/after)

Every value is generated here (Luhn-valid cards, SSN-shaped numbers, valid NANP phones, e-mails, dates of
birth, mod-97-valid IBANs), planted in a sentence with its usual cue, then disguised by one class:

  invisible     zero-width space/non-joiner/joiner, word joiner, BOM, soft hyphen between characters
  bidi          LRM/RLM and the bidi embeddings, overrides and isolates between characters
  combining     combining marks after characters
  lookalike     Cyrillic, Greek and other look-alike letters in e-mails and IBANs, and in the cue words
  digits        the digits in Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai or fullwidth
  letter_digits letters typed for digits: O or o for 0, l or I for 1 ("4lll l111 ...", "O78-05-1120")
  grouped       digits spaced one by one, dotted, or regrouped in twos and threes
  spelled_email "john dot smith at gmail dot com", letters spelled one by one, "underscore"
  spoken        digits read out with "oh" for zero and "double"/"triple" for repeats
  separators    look-alike separators between digits or groups: Unicode dashes and minus signs, middle
                dots and bullets, blank letters and symbols (Hangul fillers, the blank Braille pattern)
  bracketed     e-mails written for people: "jane(dot)doe[at]example{dot}com", "(at)", "<dot>", " AT "
  glued         the cue typed onto the value: "ssn078051120", "tel4155550123", "card4111...", "dob01021945"

A value leaks when any of its letters or digits is outside every finding; a value caught under another kind
than its own is counted apart (mislabelled). tests/unit/redaction/test_hostile.py runs a smaller seeded set
and asserts 0 leaks per class. Not a test: no assertions here.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
BIDI = [
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
COMBINING = ["\u0301", "\u0300", "\u0302", "\u0308", "\u0327", "\u0331", "\u0332", "\u0336", "\u20dd"]
# Look-alikes of Latin letters (Cyrillic, Greek, Armenian): the forms a homograph attack uses.
LOOKALIKES = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "i": "\u0456",
    "j": "\u0458",
    "o": "\u043e\u03bf\u0585",
    "p": "\u0440",
    "s": "\u0455",
    "x": "\u0445",
    "y": "\u0443",
    "h": "\u04bb",
    "d": "\u0501",
    "A": "\u0410\u0391",
    "B": "\u0412\u0392",
    "E": "\u0415\u0395",
    "K": "\u041a\u039a",
    "M": "\u041c",
    "H": "\u041d",
    "O": "\u041e\u039f",
    "P": "\u0420",
    "C": "\u0421",
    "T": "\u0422\u03a4",
    "X": "\u0425",
}
DIGIT_SCRIPTS = {
    "arabic-indic": 0x0660,
    "extended-arabic-indic": 0x06F0,
    "devanagari": 0x0966,
    "bengali": 0x09E6,
    "thai": 0x0E50,
    "fullwidth": 0xFF10,
}
DIGIT_WORDS = ["oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
AREA_CODES = ["212", "312", "415", "617", "713", "206", "303", "404", "503", "602", "214", "305", "702"]
FIRST = ["maria", "john", "wei", "aisha", "carlos", "emma", "noah", "priya", "liam", "sofia", "omar", "chloe"]
LAST = ["gonzalez", "smith", "chen", "okafor", "miller", "nguyen", "patel", "kowalski", "haddad", "brown"]
DOMAINS = ["gmail", "yahoo", "outlook", "example", "fastmail", "proton", "icloud"]
TLDS = ["com", "net", "org", "io"]

TEMPLATES = {
    "card": ["my card number is {v} thanks", "the credit card is {v}", "card number {v} and that's it"],
    "ssn": ["my social is {v}", "social security number {v} okay", "the ssn is {v}"],
    "phone": ["you can call me at {v}", "my cell number is {v}", "the best number to reach me is {v}"],
    "email": ["my email is {v}", "send it to my email {v} please", "my e-mail address is {v}"],
    "dob": ["my date of birth is {v}", "I was born on {v}", "date of birth {v}"],
    "iban": ["my IBAN is {v}", "wire it to {v} please", "the account is {v}"],
}
KIND_LABEL = {"iban": "account"}
SEPARATOR_LOOKALIKES = [
    "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\u2043",  # dashes, minus
    "\u00b7", "\u2022", "\u2219", "\u22c5", "\u30fb",  # dots and bullets
    "\u3164", "\uffa0", "\u2800", "\u1160",  # blank letters and symbols
]  # fmt: skip
BRACKETS = ["()", "[]", "{}", "<>"]
GLUED_CUES = {
    "card": ["card", "cc", "CC#"],
    "ssn": ["ssn", "SSN", "social"],
    "phone": ["tel", "ph", "cell", "Phone"],
    "dob": ["dob", "DOB"],
}
_GLUED_DASHES = str.maketrans({" ": "-", "(": None, ")": None})
GLUED_TEMPLATES = ["here you go: {v} thanks", "{v}", "ok so {v} is what I have"]

CLASSES: dict[str, tuple[str, ...]] = {
    "invisible": ("card", "ssn", "phone", "email", "dob", "iban"),
    "bidi": ("card", "ssn", "phone", "email", "dob", "iban"),
    "combining": ("card", "ssn", "phone", "email", "dob", "iban"),
    "lookalike": ("email", "iban", "card", "ssn", "phone", "dob"),
    "digits": ("card", "ssn", "phone", "dob", "iban"),
    "letter_digits": ("card", "ssn", "phone", "dob"),
    "grouped": ("card", "ssn", "phone", "iban"),
    "spelled_email": ("email",),
    "spoken": ("card", "ssn", "phone", "dob", "iban"),
    "separators": ("card", "ssn", "phone", "dob", "iban"),
    "bracketed": ("email",),
    "glued": ("card", "ssn", "phone", "dob"),
}


def _luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def value_digits(kind: str, rng: random.Random) -> str:
    """The bare value of one kind (digits, or the address for e-mail)."""
    if kind == "card":
        prefix = rng.choice(["4", "51", "52", "53", "54", "55", "6011"])
        body = prefix + "".join(rng.choice("0123456789") for _ in range(15 - len(prefix)))
        return body + _luhn_digit(body)
    if kind == "ssn":
        return f"{rng.randint(100, 665):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    if kind == "phone":
        return (
            rng.choice(AREA_CODES)
            + f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(2, 9)}"
            + (f"{rng.randint(0, 9999):04d}")
        )
    if kind == "dob":
        return f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(1930, 2005)}"
    if kind == "iban":
        country, bban = "DE", "".join(rng.choice("0123456789") for _ in range(18))
        numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
        return f"{country}{98 - int(numeric) % 97:02d}{bban}"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice([f"{first}.{last}", f"{first}{last}{rng.randint(1, 99)}", f"{first}_{last}", first])
    return f"{local}@{rng.choice(DOMAINS)}.{rng.choice(TLDS)}"


def typed(kind: str, v: str) -> str:
    """The usual written form of a value."""
    if kind == "card":
        return " ".join(v[i : i + 4] for i in range(0, 16, 4))
    if kind == "ssn":
        return f"{v[:3]}-{v[3:5]}-{v[5:]}"
    if kind == "phone":
        return f"({v[:3]}) {v[3:6]}-{v[6:]}"
    if kind == "dob":
        return f"{v[:2]}/{v[2:4]}/{v[4:]}"
    if kind == "iban":
        return " ".join(v[i : i + 4] for i in range(0, len(v), 4))
    return v


def _interleave(rng: random.Random, s: str, pool: list[str], rate: float) -> str:
    out = []
    for i, ch in enumerate(s):
        out.append(ch)
        if i < len(s) - 1 and rng.random() < rate:
            out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 2))))
    return "".join(out)


def _spoken_digits(rng: random.Random, digits: str) -> str:
    words: list[str] = []
    i = 0
    while i < len(digits):
        j = i
        while j < len(digits) and digits[j] == digits[i]:
            j += 1
        count = j - i
        word = DIGIT_WORDS[int(digits[i])] if digits[i] != "0" or rng.random() < 0.7 else "zero"
        if count == 3 and rng.random() < 0.7:
            words.append(f"triple {word}")
        elif count >= 2 and rng.random() < 0.8:
            words.append(f"double {word}")
            words.extend([word] * (count - 2))
        else:
            words.extend([word] * count)
        i = j
    return " ".join(words)


def _spell_email(rng: random.Random, v: str) -> str:
    local, domain = v.split("@")
    parts = []
    for ch in local:
        if ch == ".":
            parts.append(" dot ")
        elif ch == "_":
            parts.append(" underscore ")
        elif ch.isdigit():
            parts.append(f" {ch} ")
        else:
            parts.append(ch)
    spoken_local = "".join(parts)
    if rng.random() < 0.4:  # letters one by one
        spoken_local = " ".join(c for c in local if c.isalnum())
    spoken_local = " ".join(spoken_local.split())
    name, tld = domain.rsplit(".", 1)
    return f"{spoken_local} at {name} dot {tld}"


def disguise(cls: str, kind: str, v: str, rng: random.Random) -> tuple[str, str]:
    """(the disguised value, the cue sentence it goes in)."""
    template = rng.choice(TEMPLATES[kind])
    if cls == "invisible":
        return _interleave(rng, typed(kind, v), ZERO_WIDTH, 0.5), template
    if cls == "bidi":
        return _interleave(rng, typed(kind, v), BIDI, 0.5), template
    if cls == "combining":
        return _interleave(rng, typed(kind, v), COMBINING, 0.5), template
    if cls == "lookalike":
        shown = typed(kind, v)
        if kind in ("email", "iban"):
            shown = "".join(
                rng.choice(LOOKALIKES[c]) if c in LOOKALIKES and rng.random() < 0.5 else c for c in shown
            )
        prefix, suffix = template.split("{v}")
        prefix = "".join(
            rng.choice(LOOKALIKES[c]) if c in LOOKALIKES and rng.random() < 0.3 else c for c in prefix
        )
        return shown, prefix + "{v}" + suffix
    if cls == "digits":
        base = DIGIT_SCRIPTS[rng.choice(sorted(DIGIT_SCRIPTS))]
        return "".join(chr(base + int(c)) if c.isdigit() else c for c in typed(kind, v)), template
    if cls == "letter_digits":
        swaps = {"0": "Oo", "1": "lI"}
        shown = "".join(
            rng.choice(swaps[c]) if c in swaps and rng.random() < 0.6 else c for c in typed(kind, v)
        )
        return shown, template
    if cls == "grouped":
        digits = v
        style = rng.choice(["spaced", "dotted", "pairs", "threes"])
        if style == "spaced":
            return " ".join(digits), template
        if style == "dotted":
            return ".".join(digits), template
        size = 2 if style == "pairs" else 3
        return rng.choice([" ", "-", "."]).join(
            digits[i : i + size] for i in range(0, len(digits), size)
        ), template
    if cls == "spelled_email":
        return _spell_email(rng, v), template
    if cls == "spoken":
        if kind == "dob":
            return _spoken_digits(rng, v[:2]) + " " + _spoken_digits(rng, v[2:4]) + " " + _spoken_digits(
                rng, v[4:]
            ), template
        if kind == "iban":  # the country code spelled, lower case as speech-to-text writes it
            return f"{v[0].lower()} {v[1].lower()} " + _spoken_digits(rng, v[2:]), template
        return _spoken_digits(rng, v), template
    if cls == "separators":
        sep = rng.choice(SEPARATOR_LOOKALIKES)
        if kind in ("card", "ssn", "phone", "iban") and rng.random() < 0.5:
            return sep.join(v), template  # every digit apart
        return "".join(sep if c in " -/()" else c for c in typed(kind, v)).strip(sep), template
    if cls == "bracketed":
        local, domain = v.split("@")
        name, tld = domain.rsplit(".", 1)

        def word(w: str) -> str:
            if rng.random() < 0.25:
                return f" {w.upper()} "
            left, right = rng.choice(BRACKETS)
            pad = " " if rng.random() < 0.5 else ""
            return f"{pad}{left}{w}{right}{pad}"

        return local.replace(".", word("dot")) + word("at") + name + word("dot") + tld, template
    if cls == "glued":
        cue = rng.choice(GLUED_CUES[kind])
        shown = v if rng.random() < 0.5 else typed(kind, v).translate(_GLUED_DASHES)
        return shown.lstrip("-"), rng.choice(GLUED_TEMPLATES).replace("{v}", cue + "{v}")
    raise ValueError(cls)


Case = tuple[str, str, str, list[int]]  # class, kind, text, positions of the value's letters and digits


def generate(per_kind: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for cls, kinds in CLASSES.items():
        for kind in kinds:
            for _ in range(per_kind):
                shown, template = disguise(cls, kind, value_digits(kind, rng), rng)
                prefix, suffix = template.split("{v}")
                text = prefix + shown + suffix
                positions = [len(prefix) + i for i, c in enumerate(shown) if c.isalnum()]
                cases.append((cls, kind, text, positions))
    return cases


Redactor = Callable[[str], list[tuple[str, int, int]]]


def voicetrail_redactor() -> Redactor:
    from voicetrail.redaction import redact

    return lambda text: [(f.kind, f.start, f.end) for f in redact(text).findings]


def evaluate(cases: list[Case], redactor: Redactor) -> dict[str, dict[str, int]]:
    """Per class: values, leaks (a letter or digit of the value outside every finding), mislabelled."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: {"values": 0, "leaks": 0, "mislabelled": 0})
    for cls, kind, text, positions in cases:
        found = redactor(text)
        row = table[cls]
        row["values"] += 1
        covered = [next((k for k, s, e in found if s <= p < e), None) for p in positions]
        if any(k is None for k in covered):
            row["leaks"] += 1
        elif any(k != KIND_LABEL.get(kind, kind) for k in covered):
            row["mislabelled"] += 1
    return dict(table)


def leaked_examples(cases: list[Case], redactor: Redactor, limit: int = 5) -> list[tuple[str, str]]:
    out = []
    for cls, _kind, text, positions in cases:
        found = redactor(text)
        if any(not any(s <= p < e for _k, s, e in found) for p in positions):
            out.append((cls, text.encode("unicode_escape").decode()))
            if len(out) >= limit:
                break
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--per-kind", type=int, default=30, help="values per kind in each class")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--examples", action="store_true", help="print a few leaked texts (escaped)")
    parser.add_argument(
        "--layer", default=str(ROOT / "layers" / "common"), help="another layer (before/after)"
    )
    args = parser.parse_args()
    sys.path.insert(0, args.layer)
    cases = generate(args.per_kind, args.seed)
    redactor = voicetrail_redactor()
    started = time.perf_counter()
    table = evaluate(cases, redactor)
    elapsed = time.perf_counter() - started
    print(f"hostile set: {len(cases)} values, {args.per_kind} per kind per class, seed {args.seed}")
    print(f"{'class':<15}{'values':>8}{'leaks':>8}{'mislabelled':>13}")
    for cls in CLASSES:
        row = table[cls]
        print(f"{cls:<15}{row['values']:>8}{row['leaks']:>8}{row['mislabelled']:>13}")
    total = sum(r["leaks"] for r in table.values())
    print(f"{'all':<15}{len(cases):>8}{total:>8}{sum(r['mislabelled'] for r in table.values()):>13}")
    print(f"({elapsed:.2f} s)")
    if args.examples:
        for cls, text in leaked_examples(cases, redactor, 20):
            print(f"  {cls}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
