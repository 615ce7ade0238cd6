"""Redaction speed: realistic call transcripts of 100 KB, 1 MB and 5 MB, and unusual bodies.

    python benchmarks/redaction_speed.py                  # 100 KB, 1 MB, 5 MB, then the unusual bodies
    python benchmarks/redaction_speed.py --sizes 1000000 --profile   # cProfile of the 1 MB run
    python benchmarks/redaction_speed.py --memory --no-unusual       # and the peak memory per size

The transcript is generated here (seeded): a caller and an assistant in the Vapi transcript format
("AI: ..." / "User: ..." lines), across scheduling, billing, pharmacy, delivery and support calls, with
names, phone numbers, dates of birth, card and member numbers, addresses, e-mails, amounts, times and small
talk, so every detector and the name tagger have work. Printed: CPU seconds per size (best of --repeat
rounds, each timing every size once; 5 MB once), the characters per second, and the ratio of the 10x step
(1 MB vs 100 KB) in time. Unusual bodies: 1 MB of one
run of letters, 1 MB of long random-letter words, 1 MB of digits and 1 MB of emoji and zero-width
characters. Not a test: no assertions (tests/unit/redaction/test_redaction_speed.py asserts the bounds).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST = [
    "Maria", "James", "Wei", "Aisha", "Carlos", "Emma", "Noah", "Priya", "Liam", "Sofia", "Omar", "Chloe",
    "Mateo", "Fatima", "Hiroshi", "Grace", "Dmitri", "Amara", "Lucas", "Ingrid", "Kwame", "Rosa", "Tomasz",
]  # fmt: skip
LAST = [
    "Gonzalez", "Smith", "Chen", "Okafor", "Miller", "Nguyen", "Patel", "Kowalski", "Haddad", "Brown",
    "Johansson", "Tanaka", "Rossi", "Mensah", "Fischer", "Alvarez", "Murphy", "Kim", "Dubois", "Novak",
]  # fmt: skip
STREETS = [
    "Oak Street",
    "Maple Avenue",
    "Harbor Road",
    "Birch Lane",
    "Sunset Blvd",
    "Elm Court",
    "Cedar Drive",
]
CITIES = [("Dayton", "OH"), ("Springfield", "IL"), ("Austin", "TX"), ("Fresno", "CA"), ("Tacoma", "WA")]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
TOPICS = ["appointment", "bill", "prescription", "delivery", "account", "order", "claim", "reservation"]
SMALL_TALK = [
    "How is the weather over there today?",
    "It has been raining all week, honestly.",
    "I appreciate you taking the time to help me with this.",
    "Sorry, my kids are a bit loud in the background.",
    "No worries at all, take your time.",
    "That makes sense, thank you for explaining it.",
    "Could you repeat that last part for me?",
    "Let me just grab a pen real quick.",
    "I was on hold for a while before this, so thanks.",
    "Okay, I think that covers everything I needed.",
]


def _spoken(rng: random.Random, digits: str) -> str:
    return " ".join(DIGITS[int(d)] for d in digits)


def _phone(rng: random.Random) -> str:
    n = f"{rng.choice(['312', '415', '206', '617'])}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    return rng.choice([f"({n[:3]}) {n[3:6]}-{n[6:]}", f"{n[:3]}-{n[3:6]}-{n[6:]}", _spoken(rng, n)])


def _turns(rng: random.Random) -> list[tuple[str, str]]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    topic = rng.choice(TOPICS)
    street, (city, state) = rng.choice(STREETS), rng.choice(CITIES)
    dob = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(1940, 2004)}"
    numeric_dob = f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/19{rng.randint(40, 99)}"
    amount = f"${rng.randint(10, 900)}.{rng.randint(0, 99):02d}"
    time_of_day = f"{rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])} {rng.choice(['am', 'pm'])}"
    card = rng.choice(["4111 1111 1111 1111", "5555 5555 5555 4444"])
    expiry = f"{rng.randint(1, 12):02d}/{rng.randint(26, 31)}"
    house, zip_code = rng.randint(10, 9999), rng.randint(10000, 99999)
    visit = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
    member = f"{rng.choice('ABCDEFGH')}{rng.randint(10000000, 99999999)}"
    other = rng.choice(FIRST)
    pool = [
        ("AI", f"Thank you for calling, this is {other}. How can I help you today?"),
        ("User", f"Hi, my name is {first} {last} and I'm calling about my {topic}."),
        ("AI", "I can help with that. Can I get your date of birth to verify your account?"),
        ("User", rng.choice([f"Sure, it's {dob}.", f"it's {numeric_dob}"])),
        ("AI", "And what's the best phone number to reach you?"),
        ("User", f"You can reach me at {_phone(rng)}."),
        ("AI", f"Thanks {first}. I see a balance of {amount} on the account."),
        ("User", f"Okay, I'd like to pay that with my card, it's {card}."),
        ("AI", "Great, and the expiration date and security code?"),
        ("User", f"Expires {expiry} and the code is {rng.randint(100, 999)}."),
        ("AI", "Is your mailing address still the same?"),
        ("User", f"No, I moved to {house} {street}, {city} {state} {zip_code}."),
        ("AI", f"Got it. Your {topic} is scheduled for {visit} at {time_of_day}."),
        ("User", f"Can you send the confirmation to {first.lower()}.{last.lower()}@example.com?"),
        ("AI", f"Of course. Your confirmation number is {rng.randint(100000, 999999)}."),
        ("User", f"My member ID is {member}, in case you need it."),
        ("AI", rng.choice(SMALL_TALK)),
        ("User", rng.choice(SMALL_TALK)),
        ("User", f"Also my wife {rng.choice(FIRST)} might call later about the same thing."),
        ("AI", f"Noted. Press {rng.randint(1, 9)} for the pharmacy, and we open at {time_of_day}."),
        ("User", f"My social is {_spoken(rng, str(rng.randint(100000000, 665999999)))}."),
        ("AI", f"Perfect, {first}. Is there anything else I can help with today?"),
        ("User", "No, that's all. Thanks so much, have a great day."),
    ]
    start = rng.randint(0, 4)
    return pool[start : start + rng.randint(8, len(pool) - start)]


def transcript(size: int, seed: int = 24) -> str:
    """A call transcript of about `size` characters (whole lines)."""
    rng = random.Random(seed)
    lines: list[str] = []
    total = 0
    while total < size:
        for role, text in _turns(rng):
            line = f"{role}: {text}"
            lines.append(line)
            total += len(line) + 1
    return "\n".join(lines)[:size]


def unusual_bodies(size: int, seed: int = 24) -> dict[str, str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = []
    total = 0
    while total < size:
        w = "".join(rng.choice(letters) for _ in range(rng.randint(20, 4000)))
        words.append(w)
        total += len(w) + 1
    return {
        "one run of letters": "a" * size,
        "long random-letter words": " ".join(words)[:size],
        "digits only": "".join(rng.choice("0123456789") for _ in range(size)),
        "emoji and zero-width": ("\U0001f600\u200b" * (size // 2))[:size],
        "capitalised words": " ".join(rng.choice(FIRST) for _ in range(size // 6))[:size],
    }


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()  # CPU time: other processes on a shared machine do not count
        fn()
        best = min(best, time.process_time() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000", help="transcript sizes in characters")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    parser.add_argument("--no-unusual", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also the peak memory of each size")
    parser.add_argument(
        "--layer", default=str(ROOT / "layers" / "common"), help="another layer (before/after)"
    )
    args = parser.parse_args()
    sys.path.insert(0, args.layer)
    from voicetrail.redaction import redact

    redact("warm up: my name is Maria and my phone is 312-555-0188")  # the tagger loads on first use
    sizes = [int(s) for s in args.sizes.split(",")]
    times: dict[int, float] = {}
    texts: dict[int, str] = {}
    print(f"layer: {args.layer}")
    print(f"{'transcript':<28}{'CPU s':>10}{'chars/s':>14}{'findings':>10}")
    for size in sizes:
        text = transcript(size)
        if args.profile and size == max(sizes):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            redact(text)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        texts[size] = text
    # the sizes up to 1 MB in rounds, each round timing every size once: a slow spell of a shared machine
    # then slows all sizes alike instead of one, and the ratios compare like with like
    for _ in range(args.repeat):
        for size, text in texts.items():
            if size <= 1_000_000 or size not in times:
                times[size] = min(times.get(size, float("inf")), _best(partial(redact, text), 1))
    for size, text in texts.items():
        seconds = times[size]
        findings = len(redact(text).findings)
        print(f"{f'{size:,} chars':<28}{seconds:>10.3f}{size / seconds:>14,.0f}{findings:>10}")
    for small in sizes:
        if small * 10 in times:
            ratio = times[small * 10] / times[small]
            print(f"10x text ({small:,} -> {small * 10:,} chars): {ratio:.1f}x time")
    if args.memory:
        import tracemalloc

        for size, text in texts.items():
            tracemalloc.start()
            redact(text)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"peak memory, {size:,} chars: {peak / 1e6:.1f} MB (tracemalloc, one redaction)")
    if not args.no_unusual:
        print(f"{'unusual body (1,000,000)':<28}{'CPU s':>10}{'output':>14}")
        for label, body in unusual_bodies(1_000_000).items():
            started = time.process_time()
            out = redact(body)
            seconds = time.process_time() - started
            shape = "withheld" if out.text == "[REDACTED]" else f"{len(out.findings)} findings"
            print(f"{label:<28}{seconds:>10.3f}{shape:>14}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
