"""The detection view: invisible characters, combining marks, non-ASCII digits and look-alike letters
cannot hide a value, and text without them is redacted exactly as before."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.redaction import redact, redact_turns
from voicetrail.redaction.detection import view
from voicetrail.redaction.detection.view import build_view
from voicetrail.redaction.types import Turn

pytestmark = pytest.mark.unit

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
COMBINING = ["\u0301", "\u0300", "\u0308", "\u0327", "\u0332", "\u20dd", "\u0489"]
INSERTED = ZERO_WIDTH + BIDI + COMBINING

# (kind the value must get, sentence with {v}, values): every value is caught in its clean form.
PLANTED: list[tuple[str, str, list[str]]] = [
    (
        "card",
        "my card number is {v} thanks",
        ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011 1111 1111 1117"],
    ),
    ("ssn", "and my social is {v} okay", ["123-45-6789", "219 09 9999", "078-05-1120"]),
    ("phone", "you can call me at {v} anytime", ["(312) 555-0188", "312-555-0199", "415.555.0123"]),
    (
        "email",
        "my email is {v} thanks",
        ["maria.gonzalez@example.com", "john_smith85@gmail.com", "a.b@c-d.org"],
    ),
    ("dob", "my date of birth is {v} thanks", ["03/14/1985", "7/4/1962", "1985-03-14"]),
    ("account", "wire it to {v} please", ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"]),
]
CASES = [(kind, template, value) for kind, template, values in PLANTED for value in values]


def _covered(findings: tuple[tuple[str, int, int], ...], positions: list[int], kind: str) -> bool:
    return all(any(k == kind and s <= p < e for k, s, e in findings) for p in positions)


def _plant(template: str, value: str, inserts: dict[int, str]) -> tuple[str, list[int]]:
    """The sentence with `inserts[i]` placed before character i of the value, and where the value's
    letters and digits ended up."""
    prefix, suffix = template.split("{v}")
    out = [prefix]
    pos = len(prefix)
    positions: list[int] = []
    for i, ch in enumerate(value):
        extra = inserts.get(i, "")
        out.append(extra + ch)
        pos += len(extra)
        if ch.isalnum():
            positions.append(pos)
        pos += 1
    out.append(inserts.get(len(value), "") + suffix)
    return "".join(out), positions


def _found(text: str) -> tuple[tuple[str, int, int], ...]:
    return tuple((f.kind, f.start, f.end) for f in redact(text).findings)


@pytest.mark.parametrize(("kind", "template", "value"), CASES)
def test_every_planted_value_is_caught_when_clean(kind: str, template: str, value: str) -> None:
    text, positions = _plant(template, value, {})
    assert _covered(_found(text), positions, kind), redact(text).text


@settings(max_examples=150, deadline=None)
@given(
    case=st.sampled_from(CASES),
    inserts=st.dictionaries(
        st.integers(min_value=0, max_value=40), st.text(st.sampled_from(INSERTED), min_size=1, max_size=3)
    ),
    around=st.lists(
        st.tuples(st.integers(min_value=0, max_value=200), st.sampled_from(INSERTED)), max_size=4
    ),
)
def test_invisible_characters_anywhere_hide_nothing(
    case: tuple[str, str, str], inserts: dict[int, str], around: list[tuple[int, str]]
) -> None:
    kind, template, value = case
    clean, _ = _plant(template, value, {})
    text, positions = _plant(template, value, {i: s for i, s in inserts.items() if i <= len(value)})
    # more of them outside the value, in the cue and the words around it (positions recomputed)
    for at, ch in sorted(around, reverse=True):
        at = min(at, len(text))
        text = text[:at] + ch + text[at:]
        positions = [p + 1 if p >= at else p for p in positions]
    found = _found(text)
    assert _covered(found, positions, kind), (text.encode("unicode_escape"), found)
    # the same result as the clean text, once the inserted characters are taken out again
    stripped = "".join(c for c in redact(text).text if c not in INSERTED)
    assert stripped == redact(clean).text


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(CASES),
    inserts=st.dictionaries(st.integers(min_value=0, max_value=40), st.sampled_from(ZERO_WIDTH + BIDI)),
)
def test_invisible_characters_in_turns_hide_nothing(
    case: tuple[str, str, str], inserts: dict[int, str]
) -> None:
    kind, template, value = case
    text, positions = _plant(template, value, {i: s for i, s in inserts.items() if i <= len(value)})
    turns = [Turn("assistant", "How can I help you today?"), Turn("user", text)]
    second = redact_turns(turns)[1]
    found = tuple((f.kind, f.start, f.end) for f in second.findings)
    assert _covered(found, positions, kind), (text.encode("unicode_escape"), found)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=300))
def test_ascii_text_maps_one_to_one(text: str) -> None:
    view = build_view(text)
    assert len(view.text) == len(text)
    assert all(
        a == b or (a, b) in {("O", "0"), ("o", "0"), ("I", "1"), ("l", "1")}
        for a, b in zip(text, view.text, strict=True)
    )
    assert all(view.to_original(i, i + 1) == (i, i + 1) for i in range(len(text)))
    if not any(c in "OoIl" for c in text):
        assert view.identity and view.text is text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_the_map_back_stays_inside_the_original_and_in_order(text: str) -> None:
    view = build_view(text)
    previous = (0, 0)
    for i in range(len(view.text)):
        start, end = view.to_original(i, i + 1)
        assert 0 <= start < end <= len(text)
        assert start >= previous[0] and end >= previous[1]  # in order (an expansion shares one range)
        assert view.to_original(0, i + 1)[1] == end
        previous = (start, end)
    r = redact(text)
    assert all(0 <= f.start < f.end <= len(text) for f in r.findings)
    assert all(f.kind != "unprocessed" for f in r.findings), "detection failed on this text"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "card \uff14\uff11\uff11\uff11" + " \uff11\uff11\uff11\uff11" * 3,
            "card",
        ),
        ("my ssn is \uff11\uff12\uff13-\uff14\uff15-\uff16\uff17\uff18\uff19", "ssn"),
        ("date of birth \u0660\u0663/\u0661\u0664/\u0661\u0669\u0668\u0665", "dob"),  # Arabic-Indic
        ("date of birth \u0966\u0969/\u0967\u096a/\u0967\u096f\u096e\u096b", "dob"),  # Devanagari
        ("date of birth \u09e6\u09e9/\u09e7\u09ea/\u09e7\u09ef\u09ee\u09eb", "dob"),  # Bengali
        ("call me at \u0663\u0661\u0662 \u0665\u0665\u0665 \u0660\u0661\u0668\u0668", "phone"),
        ("my email is j\u043ehn.sm\u0456th@gmail.com", "email"),  # Cyrillic o and i
        ("my email is john.smith\uff20gmail\uff0ecom", "email"),  # fullwidth at sign and dot
        ("my email is j\u043ehn sm\u0456th \u0430t gmail d\u043et com", "email"),  # spoken, look-alikes
        ("my card is \U0001d7d2\U0001d7cf\U0001d7cf\U0001d7cf 1111 1111 1111", "card"),  # mathematical digits
        ("my card is 4lll l111 1111 111l thanks", "card"),  # letters for digits
        ("my ssn is O78-05-ll20", "ssn"),
        ("call me at 3l2-555-Ol88", "phone"),
    ],
)
def test_disguised_values_get_their_real_kind(text: str, kind: str) -> None:
    r = redact(text)
    assert [f.kind for f in r.findings] == [kind], r.text
    assert not any(c.isdigit() for c in r.text), r.text
    assert not any(w in r.text for w in ("lll", "O78", "l111")), r.text


@pytest.mark.parametrize("text", ["I love O2 and lol", "all ok", "call 911 if I fall", "lol ok", "Ill"])
def test_words_of_look_alike_letters_stay_words(text: str) -> None:
    assert redact(text).text == text


def test_a_russian_sentence_keeps_its_letters_in_the_view() -> None:
    text = "\u043c\u044b \u0432\u0438\u0434\u0435\u043b\u0438 \u0441\u043e\u043c"  # "мы видели сом"
    assert build_view(text).text == text


def test_accents_and_removed_characters_map_back_to_whole_characters() -> None:
    text = "Jose\u0301 said 4\u200b111 1111 1111 1111."
    view = build_view(text)
    assert view.text == "Jose said 4111 1111 1111 1111."
    start = view.text.index("4111")
    assert view.to_original(start, start + 19) == (text.index("4"), text.index("1111.") + 4)
    assert view.to_original(0, 4) == (0, 5)  # the accent belongs to the e


def test_the_look_alike_table_is_the_generated_one() -> None:
    pytest.importorskip("confusable_homoglyphs")
    import json

    from tools.gen_homoglyphs import TARGET, build

    table = json.loads(TARGET.read_text())
    assert table == build()
    assert table["\u0430"] == "a" and table["\u041e"] == "O"  # Cyrillic a and O
    assert not any(ch.isdecimal() for ch in table)  # digits are mapped by value, never folded


def test_the_shapes_of_ascii_characters_are_what_the_look_alike_patterns_see() -> None:
    for c in range(128):
        shape = chr(c).translate(view._SHAPES)
        assert (shape != " ") == bool(re.match(r"\w", chr(c))), c
        assert (shape == "0") == bool(re.match(r"[0-9]", chr(c))), c
        assert (shape == "L") == (chr(c) in "OoIl"), c


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789OoIlLx _-./", max_size=40))
def test_look_alike_digits_fold_as_the_pattern_scans_fold(text: str) -> None:
    """The shapes' shortcut skips the scans only when they would change nothing."""
    assert view._fold_digit_lookalikes(text) == view._fold_digit_lookalikes_scan(text)
