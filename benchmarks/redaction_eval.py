"""Build the redaction benchmark's evaluation set: benchmarks/data/redaction_eval.json.

    python benchmarks/redaction_eval.py      # needs the dev requirements (Faker, names) and wamerican

Independent of the training data by construction:
* templates: written here for the benchmark, never used for training (training/names/templates.py is
  separate) nor taken from any public corpus (the reserved evaluation corpora are not used at all);
* names: only names the tagger never saw in training. Half come from locales held out of both training and
  the gazetteer (Finnish, Hungarian, Latvian, Estonian, Swahili, Zulu, Twi, Hausa, Azerbaijani, Slovene:
  "unseen" names), half are Census names held out of training by hash (still in the gazetteer, as they would
  be in any name list).
Every utterance exists in written form (cased, punctuated, digits) and spoken form (lower case, no
punctuation, digits as words, "at"/"dot" in e-mails, fillers). A third of the utterances hold no PII at all.
Each value is stored with its offsets, so scoring needs no search.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training" / "names"))
import sources  # noqa: E402

OUT = ROOT / "benchmarks" / "data" / "redaction_eval.json"
SEED = 2026

# (previous turn or "", turn). Slots: {N} {F} {L} {N2} {F2} person; {T} title; {ADDR} a whole address;
# {ZIP} a ZIP; {PHONE} {EMAIL} {CARD} {SSN}; {CITY}; {ORG}.
NAME_DIALOGUE = (
    ("Can you confirm the full name on the policy?", "{N}"),
    ("Can you confirm the full name on the policy?", "yes it's {N}"),
    ("Who is the check payable to?", "{N}, please."),
    ("Who is the check payable to?", "to {F} {L}"),
    ("And the person you're sending it to?", "{N}, she's my cousin."),
    ("I just need the name of the patient.", "{F} {L}."),
    ("Which technician came out last time?", "I think it was {F}."),
    ("Who should I list as your emergency contact?", "My brother, {N}."),
    ("Who's the primary on the account?", "That's {N}."),
    ("And you are?", "{F}. {F} {L}."),
    ("Could I get the name of the person you spoke with?", "uh it was {F} something"),
    ("Who can we thank for the referral?", "{T} {L} sent me."),
    ("Whom would you like to add?", "my partner {N}"),
    ("What's the surname?", "{L}"),
    ("How do you spell the first name?", "{F}, like it sounds."),
)
NAME_SENTENCES = (
    "I'd like to wire two hundred to {N} today.",
    "Could you put me through to {F}?",
    "I was supposed to meet with {T} {L} at noon.",
    "Please list {N} as the second driver.",
    "Can you e-mail {F} the estimate?",
    "Ring {F} and let her know.",
    "The last agent, {F}, said it was waived.",
    "Good afternoon {F}, how can I help?",
    "Welcome back, {T} {L}.",
    "Cheers {F}!",
    "Yo {F}, you coming tonight?",
    "Thanks a bunch {F}, you saved me.",
    "{F}? Is that you?",
    "Our plumber, {N}, never showed up.",
    "My stepson {F} is on my plan.",
    "The landlord is a guy named {N}.",
    "{F}, {F2}, and {N} all need refills.",
    "Invite {F} and {F2} too.",
    "You'll be seeing {N}, physician assistant at our {CITY} office.",
    "I've booked you with {T} {L} for Thursday.",
    "The technician, {F}, will arrive between two and four.",
    "I have you down as {N}, is that right?",
    "Hi {F}, this is a reminder about tomorrow.",
    "{N} left a voicemail about the claim.",
    "{F}'s car is still in the shop.",
    "Honestly {F} handles all of that.",
    "{F} {L} retired last year.",
    "Met up with {F} after work.",
    "so proud of {F} today",
    "{F} and {F2} finally got married!!",
    "who invited {F} lol",
    "{N} is the best coach ever",
    "Is {T} {L} in on Fridays?",
    "Grandma {F} turns ninety next week.",
    "Tell {F} I said thanks.",
    "It's registered to {N}.",
    "The deed is in {N}'s name.",
    "Pay {F} back for the tickets.",
    "Did {F} ever sign the form?",
    "Uncle {F} is coming too.",
    "Ask for {F} at the counter.",
    "Put it under {L}, party of four.",
)
ADDRESS_SENTENCES = (
    "Ship it to {ADDR}.",
    "My address is {ADDR}.",
    "We're at {ADDR} now.",
    "The new office is {ADDR}.",
    "Mail the form to {ADDR}, please.",
    "I moved to {ADDR} in May.",
    "It's {ADDR}.",
    "Deliver to {ADDR} and ring the bell.",
)
ZIP_SENTENCES = (
    "My zip is {ZIP}.",
    "The ZIP code is {ZIP}.",
    "It's {CITY}, {STATE} {ZIP}.",
    "postal code {ZIP}",
)
DIGIT_SENTENCES = (
    "You can reach me at {PHONE}.",
    "My cell is {PHONE}, call after five.",
    "Send it to {EMAIL}.",
    "My email address is {EMAIL}.",
    "The card is {CARD}.",
    "Charge the card ending... actually the full number is {CARD}.",
    "My social security number is {SSN}.",
    "SSN {SSN}.",
)
PII_FREE = (
    "Will you be able to fix it by Friday?",
    "May I ask what this is regarding?",
    "The bill came to three hundred dollars.",
    "I hope the rain stops soon.",
    "We ordered the king bed.",
    "Mark my words, it won't last.",
    "The grace period is thirty days.",
    "I'll chase the refund tomorrow.",
    "The rose garden is closed for the season.",
    "Frankly I'm tired of waiting.",
    "Do you have anything in brown?",
    "The young ones love it.",
    "Is the price the same online?",
    "It's sunny but cold.",
    "We're flying {ORG} next week.",
    "I bank with {ORG}.",
    "My {ORG} order was late.",
    "The {CITY} branch is closed on Sundays.",
    "I grew up near {CITY}.",
    "Can somebody call me back about the leak?",
    "I need to talk to a supervisor.",
    "Please transfer me to claims.",
    "Hello? Can you hear me now?",
    "Hi there, I have a quick question.",
    "Thanks, that's everything.",
    "Good evening, I'm calling about an order.",
    "Sorry, the line cut out.",
    "Okay, bye now.",
    "I'm so frustrated right now.",
    "This is my second call today.",
    "I'm not sure which plan I have.",
    "My daughter set up the account.",
    "The doctor said to rest.",
    "Our lawyer is reviewing it.",
    "Can you read that back to me?",
    "I already paid the invoice.",
    "Send the paperwork to the office.",
    "We watched a movie last night.",
    "The game starts at seven.",
    "lol same",
    "this weather tho",
    "cant wait for summer",
    "best pizza in town honestly",
    "Who is this?",
    "What was the name of that again?",
    "It's in my other wallet.",
    "Let me find my glasses.",
    "Monday or Tuesday is fine.",
    "In June we'll have more stock.",
    "My order number is 4471, by the way.",
)
ORGS = (
    "JetBlue",
    "Citibank",
    "Sam's Club",
    "Nordstrom",
    "Alaska Airlines",
    "US Bank",
    "Etsy",
    "Trader Joe's",
)
CITIES = ("Peoria", "Lubbock", "Scranton", "Duluth", "Bakersfield", "Chattanooga", "Flagstaff", "Yonkers")
STATES = (
    ("Illinois", "IL"),
    ("Texas", "TX"),
    ("Pennsylvania", "PA"),
    ("Minnesota", "MN"),
    ("California", "CA"),
)
STREETS = ("Juniper", "Old Mill", "Kettering", "Baywood", "Larkspur", "Halsted", "Ridgecrest", "Wabash")
SUFFIXES = ("Street", "St.", "Avenue", "Ave", "Road", "Boulevard", "Lane", "Court", "Drive", "Way", "Terrace")
TITLES = ("Dr.", "Mr.", "Mrs.", "Ms.", "Doctor", "Nurse", "Coach")

DIGIT_WORD = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class Pools:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.unseen_first = [n for n in sources.faker_first(True) if len(n) > 2 and " " not in n]
        self.unseen_last = [n for n in sources.faker_last(True) if len(n) > 2 and " " not in n]
        self.census_first = [n for n in sources.census_first() if sources.held_out(n)]
        self.census_last = [n for n in sources.census_last()[:20000] if sources.held_out(n)]

    def first(self) -> str:
        return self.rng.choice(self.unseen_first if self.rng.random() < 0.5 else self.census_first)

    def last(self) -> str:
        name = self.rng.choice(self.unseen_last if self.rng.random() < 0.5 else self.census_last)
        if self.rng.random() < 0.08:
            name += "-" + self.rng.choice(self.census_last)
        return name

    def full(self) -> str:
        return f"{self.first()} {self.last()}" if self.rng.random() < 0.75 else self.first()


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _luhn_card(rng: random.Random) -> str:
    body = "4" + _digits(rng, 14)
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def _address(rng: random.Random) -> str:
    number = str(rng.randint(10, 9899))
    city = rng.choice(CITIES)
    state, code = rng.choice(STATES)
    zip_code = _digits(rng, 5)
    r = rng.random()
    if r < 0.12:
        unit = rng.choice(("Unit", "PSC"))
        tail = rng.choice((("APO", "AE"), ("FPO", "AP"), ("DPO", "AA"), ("APO", "AP")))
        return f"{unit} {rng.randint(1000, 9999)} Box {rng.randint(10, 9999)}, {tail[0]} {tail[1]} {zip_code}"
    street = rng.choice(STREETS)
    if r < 0.25:
        line = f"{number} {rng.choice(('North', 'South', 'West'))} {street}"  # no suffix
    elif r < 0.32:
        line = f"{number} Avenida {rng.choice(('Real', 'Del Mar', 'Las Flores'))}"
    else:
        line = f"{number} {street} {rng.choice(SUFFIXES)}"
    if rng.random() < 0.3:
        line += f", Apt {rng.randint(1, 40)}{rng.choice(('', 'B'))}"
    return f"{line}, {city}, {rng.choice((state, code))} {zip_code}"


def _phone(rng: random.Random) -> str:
    a, b, c = rng.choice(("312", "415", "646", "702")), str(rng.randint(200, 999)), _digits(rng, 4)
    return rng.choice((f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}"))


def _email(rng: random.Random, pools: Pools) -> str:
    local = f"{pools.first().lower()}.{pools.last().lower()}{rng.randint(1, 99)}"
    local = sources.fold(local).replace("'", "").replace("-", "")
    domain = rng.choice(("gmail", "outlook", "fastmail", "proton"))
    return f"{local}@{domain}.{rng.choice(('com', 'net', 'org'))}"


def _fill(template: str, pools: Pools, rng: random.Random) -> list[tuple[str, str | None]]:
    """Pieces as (text, kind or None)."""
    pieces: list[tuple[str, str | None]] = []
    pos = 0
    for m in re.finditer(r"\{(\w+)\}", template):
        if m.start() > pos:
            pieces.append((template[pos : m.start()], None))
        slot = m.group(1)
        kind: str | None
        if slot in ("N", "N2"):
            value, kind = pools.full(), "name"
        elif slot in ("F", "F2"):
            value, kind = pools.first(), "name"
        elif slot == "L":
            value, kind = pools.last(), "name"
        elif slot == "T":
            value, kind = rng.choice(TITLES), None
        elif slot == "ADDR":
            value, kind = _address(rng), "address"
        elif slot == "ZIP":
            value, kind = _digits(rng, 5), "zip"
        elif slot == "PHONE":
            value, kind = _phone(rng), "phone"
        elif slot == "EMAIL":
            value, kind = _email(rng, pools), "email"
        elif slot == "CARD":
            card = _luhn_card(rng)
            value, kind = " ".join(card[i : i + 4] for i in range(0, 16, 4)), "card"
        elif slot == "SSN":
            s = _digits(rng, 9)
            value, kind = f"{s[:3]}-{s[3:5]}-{s[5:]}", "ssn"
        elif slot == "CITY":
            value, kind = rng.choice(CITIES), None
        elif slot == "STATE":
            value, kind = rng.choice(STATES)[1], None
        elif slot == "ORG":
            value, kind = rng.choice(ORGS), None
        else:
            raise ValueError(slot)
        pieces.append((value, kind))
        pos = m.end()
    if pos < len(template):
        pieces.append((template[pos:], None))
    return pieces


def spoken(text: str, kind: str | None, rng: random.Random) -> str:
    """The transcript form: lower case, no punctuation, digits as words, e-mail symbols spoken."""
    t = text.lower()
    if kind == "email":
        t = t.replace("@", " at ").replace(".", " dot ").replace("_", " underscore ")
    t = re.sub(r"\d", lambda m: " " + DIGIT_WORD[int(m.group())] + " ", t)
    t = re.sub(r"[^\w\s']", " ", t)
    t = sources.fold(t)
    words = t.split()
    if kind is None and words and rng.random() < 0.25:
        words.insert(rng.randrange(len(words) + 1), rng.choice(("uh", "um", "like")))
    return " ".join(words)


def _render(
    pieces: list[tuple[str, str | None]], form: str, rng: random.Random
) -> tuple[str, list[dict[str, Any]]]:
    text = ""
    pii: list[dict[str, Any]] = []
    for value, kind in pieces:
        piece = spoken(value, kind, rng) if form == "spoken" else value
        if form == "spoken" and piece:
            glue = "" if not text or piece.startswith("'") else " "  # "gaitan's", as a transcript writes it
            text = text + glue + piece
            start = len(text) - len(piece)
        else:
            start = len(text)
            text += piece
        if kind is not None:
            body = piece.strip()
            s = start + piece.find(body)
            pii.append({"kind": kind, "start": s, "end": s + len(body), "turn": 0})
            if kind == "address":  # the ZIP at the end of a whole address also counts as a ZIP
                zip_value = value[-5:]
                zip_len = len(spoken(zip_value, "zip", rng)) if form == "spoken" else 5
                pii.append({"kind": "zip", "start": s + len(body) - zip_len, "end": s + len(body), "turn": 0})
    return text, pii


def build() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    pools = Pools(rng)
    items: list[tuple[str, str, str]] = []  # (group, previous turn, template)
    for _ in range(4):
        items += [("names-dialogue", q, a) for q, a in NAME_DIALOGUE]
        items += [("names", "", s) for s in NAME_SENTENCES]
    for _ in range(5):
        items += [("address", "", s) for s in ADDRESS_SENTENCES]
    for _ in range(4):
        items += [("zip", "", s) for s in ZIP_SENTENCES]
        items += [("digits", "", s) for s in DIGIT_SENTENCES]
    for _ in range(3):
        items += [("pii-free", "", s) for s in PII_FREE]
    cases: list[dict[str, Any]] = []
    for group, question, template in items:
        pieces = _fill(template, pools, rng)
        for form in ("written", "spoken"):
            text, pii = _render(pieces, form, rng)
            turns = [{"role": "user", "text": text}]
            if question:
                q = question if form == "written" else spoken(question, None, rng)
                turns.insert(0, {"role": "assistant", "text": q})
                for p in pii:
                    p["turn"] = 1
            cases.append({"group": group, "form": form, "turns": turns, "pii": pii})
    return cases


def main() -> None:
    cases = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    n_pii = sum(len(c["pii"]) for c in cases)
    print(f"{OUT.relative_to(ROOT)}: {len(cases)} utterances, {n_pii} PII values")


if __name__ == "__main__":
    main()
