"""Synthetic caller identities for the simulator: names, addresses, card and account numbers, spoken
and numeric, generated from a seed (the PII the read-back must never find stored)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


# ---- synthetic identities ---------------------------------------------------------------------------

_FIRST = ("Priya", "Maria", "Jamal", "Olena", "Kenji", "Aoife", "Tomasz", "Ngozi", "Ingrid", "Rafael")
_LAST = ("Raman", "Gonzalez", "Whitaker", "Kovalenko", "Watanabe", "Byrne", "Nowak", "Okafor", "Lindqvist")
_STREETS = ("Elm Street", "Maple Avenue", "Cedar Lane", "Harbor Road", "Willow Drive")
_MONTHS = ("January", "March", "April", "June", "August", "October", "November")
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _luhn_complete(prefix: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return prefix + str((10 - total % 10) % 10)


def spoken_digits(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits if d.isdigit())


@dataclass(frozen=True)
class Identity:
    """A synthetic caller. `needles()` are the forms that must never be found in storage or logs."""

    first: str
    last: str
    ssn: str  # 123-45-6789
    card: str  # 16 digits, Luhn-valid
    phone: str  # E.164
    dob: str  # March 3, 1984
    dob_numeric: str  # 03/03/1984
    street: str  # 1234 Elm Street
    member_id: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}@example.com".lower()

    @property
    def card_grouped(self) -> str:
        return " ".join(self.card[i : i + 4] for i in range(0, 16, 4))

    @property
    def phone_national(self) -> str:
        d = self.phone[2:]
        return f"{d[:3]} {d[3:6]} {d[6:]}"

    def needles(self) -> dict[str, str]:
        ssn_digits = self.ssn.replace("-", "")
        return {
            "name": self.name,
            "last_name": self.last,
            "ssn": self.ssn,
            "ssn_digits": ssn_digits,
            "ssn_spoken": spoken_digits(ssn_digits),
            "card": self.card,
            "card_grouped": self.card_grouped,
            "card_spoken": spoken_digits(self.card[:8]),
            "phone_e164": self.phone,
            "phone_digits": self.phone[2:],
            "phone_national": self.phone_national,
            "email": self.email,
            "email_spoken": f"{self.first} dot {self.last} at example".lower(),
            "dob": self.dob,
            "dob_numeric": self.dob_numeric,
            "street": self.street,
            "member_id": self.member_id,
        }

    def user_lines(self) -> list[str]:
        ssn_digits = self.ssn.replace("-", "")
        card_spoken = ", ".join(spoken_digits(self.card[i : i + 4]) for i in range(0, 16, 4))
        return [
            "Yes, that's fine, go ahead.",
            f"Hi, my name is {self.name} and I'm calling about my bill.",
            f"My social is {self.ssn}.",
            f"The card is {card_spoken}.",
            f"You can email me at {self.first.lower()} dot {self.last.lower()} at example dot com "
            f"or call {self.phone_national}.",
            f"My date of birth is {self.dob} and I live at {self.street}.",
            f"The card number again is {self.card_grouped}.",
            f"And my social security number is {spoken_digits(ssn_digits)}.",
            f"My member id is {self.member_id}.",
        ]


def synthetic_identity(rng: random.Random) -> Identity:
    area = rng.choice([a for a in range(101, 665) if a != 666])
    ssn = f"{area:03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"
    card = _luhn_complete("4" + "".join(str(rng.randint(0, 9)) for _ in range(14)))
    month_index = rng.randrange(len(_MONTHS))
    day, year = rng.randint(10, 28), rng.randint(1950, 1999)
    month_number = (1, 3, 4, 6, 8, 10, 11)[month_index]
    return Identity(
        first=rng.choice(_FIRST),
        last=rng.choice(_LAST),
        ssn=ssn,
        card=card,
        phone=f"+1415555{rng.randint(110, 199):04d}",
        dob=f"{_MONTHS[month_index]} {day}, {year}",
        dob_numeric=f"{month_number:02d}/{day:02d}/{year}",
        street=f"{rng.randint(1200, 9800)} {rng.choice(_STREETS)}",
        member_id=f"MB{rng.randint(10_000_000, 99_999_999)}",
    )
