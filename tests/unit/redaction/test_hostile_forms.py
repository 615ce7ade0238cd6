"""Disguises beyond invisible characters: look-alike separators, e-mails written for people, cues typed onto
their values, and ids that look like machine hex. Each row is a value that must not survive, or a PII-free
text that must stay whole."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.redaction import redact
from voicetrail.redaction.detection import view

pytestmark = pytest.mark.unit

# (sentence, pieces of the value that must not survive, the kind it gets)
CAUGHT: list[tuple[str, tuple[str, ...], str]] = [
    ("my card number is 4\u20111\u20111\u20111 1\u20111\u20111\u20111 1111 1111 thanks", ("1",), "card"),
    ("call me at 312\u2212555\u22120188", ("3", "5", "8"), "phone"),
    ("call me at 3\u31641\u31642\u31645\u31645\u31645\u31640\u31641\u31648\u31648", ("3", "5", "8"), "phone"),
    ("the ssn is 219\u00b709\u00b79999", ("2", "9"), "ssn"),
    ("my card is " + "\u2800".join("4111111111111111"), ("4", "1"), "card"),
    ("date of birth 03\u201312\u20131961", ("3", "1961"), "dob"),
    ("email me at maria(dot)lopez(at)example(dot)org", ("lopez", "example"), "email"),
    ("write to r [at] example [dot] net", ("example",), "email"),
    ("contact: devops{at}example{dot}io", ("devops", "example"), "email"),
    ("MARIA DOT LOPEZ AT EXAMPLE DOT COM", ("LOPEZ", "EXAMPLE"), "email"),
    ("my email is sam\uff0ejones@example\u3002com", ("jones", "example"), "email"),
    ("ssn219099999", ("2", "9"), "ssn"),
    ("SSN219-09-9999 is mine", ("2", "9"), "ssn"),
    ("tel3125550188", ("3", "5"), "phone"),
    ("card4111111111111111", ("4", "1"), "card"),
    ("ok cc5500000000000004 thanks", ("5", "4"), "card"),
    ("DOB03121961", ("3", "1961"), "dob"),
    ("my member id is ABC123456789", ("ABC", "1"), "member_id"),
    ("member id ABD123456789", ("ABD", "1"), "member_id"),
    ("my member id is MBR123456", ("MBR", "1"), "member_id"),
    ("acct12345678", ("1", "8"), "account"),
]


@pytest.mark.parametrize(("text", "pieces", "kind"), CAUGHT, ids=[c[0][:40] for c in CAUGHT])
def test_disguised_value_is_caught(text: str, pieces: tuple[str, ...], kind: str) -> None:
    out = redact(text)
    left = [p for p in pieces if p in out.text]
    assert left == [], out.text
    assert kind in {f.kind for f in out.findings}, out.text


# PII-free texts that must come back unchanged.
KEPT: list[str] = [
    "see you (at) the meeting",
    "I'll be there at (dot) five, roughly",
    "version v2 of the mp3 player",
    "covid19 booster at room12",
    "call id 3f2a9c1b7d4e was transferred",
    "the sid is CA0123456789abcdef0123456789abcdef",
    "order ORD123 ships today",
    "pages 10\u201312 of the brochure",
    "a \u00b7 b \u00b7 c",
]


@pytest.mark.parametrize("text", KEPT)
def test_pii_free_text_is_kept(text: str) -> None:
    assert redact(text).text == text


def test_every_unicode_dash_is_folded_to_a_hyphen() -> None:
    table = view._separator_table()
    dashes = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Pd"]
    missing = [f"U+{ord(c):04X}" for c in dashes if table.get(ord(c)) != "-" and c != "-"]
    assert missing == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["\u2011", "\u2212", "\u00b7", "\u3164", "\u2800", "\u2013", "\u30fb"]), min_size=1
    ),
    st.randoms(use_true_random=False),
)
def test_any_lookalike_separator_mix_keeps_a_card_number_hidden(seps: list[str], rng: object) -> None:
    digits = "4111111111111111"
    shown = "".join(d + (rng.choice(seps) if i < 15 else "") for i, d in enumerate(digits))  # type: ignore[attr-defined]
    out = redact(f"my card number is {shown} thanks").text
    assert not any(c.isdigit() for c in out), out
