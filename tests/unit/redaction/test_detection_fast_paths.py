"""Fast paths of the detection pipeline give exactly what straightforward computations give.

`Tokens` finds the tokens and their offsets in one `findall` pass (each token with the white space before
it) and classifies them through a cache; here `finditer` match objects and `classify_token` called afresh
must give the same tokens, offsets, lower-case forms, types and numeric tokens on random texts mixing
Unicode white space, invisible characters, apostrophes, underscores, digits and combining marks.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.redaction.detection.tokens import TOKEN_RE, Tokens, classify_token

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
