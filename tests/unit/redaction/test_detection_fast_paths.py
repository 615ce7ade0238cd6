"""Fast paths of the detection pipeline give exactly what straightforward computations give.

`Tokens` finds the tokens and their offsets in one `findall` pass (each token with the white space before
it) and classifies them through a cache; here `finditer` match objects and `classify_token` called afresh
must give the same tokens, offsets, lower-case forms, types and numeric tokens on random texts mixing
Unicode white space, invisible characters, apostrophes, underscores, digits and combining marks. The
IBAN detector's quick search for an opening never rules out a place the full pattern matches, and `merge`
(two stable sorts) equals merging after one sort by (start, -end).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from voicetrail.redaction.detection import addresses, emails, ibans
from voicetrail.redaction.detection.pipeline import merge
from voicetrail.redaction.detection.tokens import TOKEN_RE, Span, Tokens, classify_token

# white space of every kind `\s` knows (ASCII, NBSP, em space, line/paragraph separators, the information
# separators \x1c-\x1f, NEL), characters that are not white space though they look empty (zero-width space,
# soft hyphen), and the pieces tokens are made of
ALPHABET = (
    " \t\n\r\x0b\x0c\x1c\x1f\x85\u00a0\u2003\u2028\u2029\u3000\u200b\u00ad"
    "aZé\u0301中ß_'\u2019-.,:/$0189\u0663😀"
)


def _straightforward(text: str) -> tuple[list[int], list[int], list[str], list[str], list[str]]:
    starts, ends, raws, lows, types = [], [], [], [], []
    for m in TOKEN_RE.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
        raws.append(m.group())
        low, kind = classify_token(m.group())
        lows.append(low)
        types.append(kind)
    return starts, ends, raws, lows, types


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_tokens_equal_match_objects(text: str) -> None:
    tk = Tokens(text)
    starts, ends, raws, lows, types = _straightforward(text)
    assert (tk.starts, tk.ends, tk.raws) == (starts, ends, raws)
    assert tk.lows == lows
    assert tk.n == len(raws)
    # protected machine values (none in this alphabet's short texts, mostly) retype tokens to X only
    assert all(t == u or t == "X" for t, u in zip(tk.types, types, strict=True))
    assert tk.numeric == [k for k, t in enumerate(types) if t in ("N", "A")]


def test_tokens_of_a_protected_value_are_typed_x() -> None:
    tk = Tokens("call at 10:30 or id 3f2a9c1e-0b4d-4e5f-8a6b-7c8d9e0f1a2b ok")
    assert [tk.raws[k] for k in range(tk.n) if tk.types[k] == "X"][:3] == ["10", ":", "30"]
    assert "ok" in tk.raws and tk.types[tk.raws.index("ok")] == "W"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="DEGBisatx .-/0123456789\u017f\u212a", max_size=40))
@example("my iban is DE89 3704 0044 0532 0130 00 ok")
@example("is 4111 1111 1111 1111, d.e.8.9.3.7.0.4.0.0.4.4.0.5.3.2.0.1.3.0.0.0")
def test_every_iban_match_opens_with_a_match_of_the_opening(text: str) -> None:
    """`detect_ibans` tries the pattern at a number only when the opening matches between the earliest
    start it would try and the number's first digit (inclusive)."""
    pattern, opening = ibans._iban()
    for p in range(len(text)):
        if pattern.match(text, p) is None:
            continue
        digit = next(i for i in range(p, len(text)) if text[i].isdigit())
        assert opening.search(text, p, digit + 1) is not None


_SPANS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=30),
        st.integers(min_value=1, max_value=6),
        st.sampled_from(["name", "phone", "ssn"]),
        st.integers(min_value=0, max_value=90),
    ).map(lambda t: (t[0], t[0] + t[1], t[2], t[3])),
    max_size=25,
)


@given(_SPANS)
def test_merge_equals_merging_after_one_sort_by_start_and_longest(spans: list[Span]) -> None:
    plain = sorted(spans, key=lambda s: (s[0], -s[1]))
    merged: list[Span] = [plain[0]] if plain else []
    for s in plain[1:]:
        cur = merged[-1]
        if s[0] < cur[1]:
            kind, prio = (s[2], s[3]) if s[3] > cur[3] else (cur[2], cur[3])
            merged[-1] = (cur[0], max(cur[1], s[1]), kind, prio)
        else:
            merged.append(s)
    assert merge(list(spans)) == merged


_EMAIL_PIECES = [
    "email",
    "e-mail",
    "E-MAIL",
    "eMail",
    "mail",
    "gmail",
    " is ",
    ":",
    " me ",
    " at ",
    " to ",
    "it's",
]
_EMAIL_PIECES += [" address", " ", "e", "-", "x", "maria", "@", ".com", " dot ", "DOT", "com", "\u0130", "\n"]
_EMAIL_PIECES += ["jo at gmail dot com", "JO AT GMAIL DOT NET", "jo@gmail.com"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_EMAIL_PIECES), max_size=20))
def test_email_cues_equal_the_scan_of_the_pattern(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert [m.span() for m in emails._email_cues(text)] == [
        m.span() for m in emails._EMAIL_CUE.finditer(text)
    ]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_EMAIL_PIECES), max_size=20))
def test_emails_found_without_dot_equal_those_of_the_full_pattern(pieces: list[str]) -> None:
    text = "".join(pieces)
    fast = emails.detect_emails(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(emails, "_PERIOD_TLD", emails._DOT_TLD)
        assert fast == emails.detect_emails(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["P.O. ", "p o ", "PO", " ", "box ", "BOX", "Box", "bo", "x", "12", "\u0130"]))
)
def test_po_boxes_equal_the_scan_of_the_pattern(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert [m.span() for m in addresses._po_boxes(text)] == [
        m.span() for m in addresses._PO_BOX.finditer(text)
    ]
