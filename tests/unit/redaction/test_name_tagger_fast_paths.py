"""The name tagger's fast paths give exactly what straightforward computations give.

`NameTagger.emissions` sums cached per-role weights a turn at a time; here a plain loop over the tokens,
reading every weight from the state afresh, must give the same floats to the last bit on random turns.
`detect_names_learned` reuses the findings of a line seen before with the same question; the texts here
repeat lines under different questions, and each line's findings must be what tagging it afresh gives.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.redaction._names import FILLERS, WORD_CLASS, NameTagger, _length_bucket, _sum, tagger
from voicetrail.redaction.detection import names
from voicetrail.redaction.detection.tokens import Tokens

# words of every kind the features tell apart: names, fillers, verbs and prepositions (the "vp" feature),
# relations, titles, plain words, numbers, punctuation, a possessive, an edge marker look-alike
VOCABULARY = [
    *("Maria", "maria", "Theo", "GRACE", "O'Neil-Smith", "Krysten", "Chen", "Will", "will"),
    *("uh", "um", "hmm", "pay", "send", "call", "to", "with", "for", "my", "wife", "Dr", "mr"),
    *("the", "account", "is", "today", "Thanks", "hi", "sixty", "dollars", "Alexa", "Ernő", "Maria's"),
    *("42", "4111", "a1b2", ",", ".", "?", "-", "^", "$", "x"),
]


def _reference(
    t: NameTagger, raws: list[str], lows: list[str], kinds: list[str], cased: bool, question: str
) -> list[tuple[float, float, float]]:
    """Per token: own, turn, one and two before, one and two after, the two word pairs, then "vp"; each
    group summed from the state, added in that order (the order the fast path promises)."""
    n = len(lows)
    kept = [i for i in range(n) if lows[i] not in FILLERS]
    m = len(kept)
    nb = _length_bucket(n - kinds.count("P"))
    zero = (0.0, 0.0, 0.0)
    e_b1, e_b2, e_a1, e_a2, _ = t._edges(cased)
    out = [zero] * n
    last_verb = -100
    for r, i in enumerate(kept):
        roles = [t._roles(raws[j], lows[j], kinds[j], cased) for j in kept]
        pos = str(r) if r < 3 else "m"
        turn = _sum(t.state, ("n=" + nb, "q=" + question, "qn=" + question + nb))
        at = _sum(t.state, ("i=" + pos, "qi=" + question + pos))
        w_at = (turn[0] + at[0], turn[1] + at[1], turn[2] + at[2])
        p1 = lows[kept[r - 1]] if r > 0 else "^"
        p2 = lows[kept[r - 2]] if r > 1 else "^"
        n1 = lows[kept[r + 1]] if r + 1 < m else "$"
        n2 = lows[kept[r + 2]] if r + 2 < m else "$"
        parts = [
            roles[r][0],
            w_at,
            roles[r - 1][1] if r > 0 else e_b1,
            roles[r - 2][2] if r > 1 else e_b2,
            roles[r + 1][3] if r + 1 < m else e_a1,
            roles[r + 2][4] if r + 2 < m else e_a2,
            _sum(t.state, ["b-=" + p2 + "|" + p1]),
            _sum(t.state, ["b+=" + n1 + "|" + n2]),
        ]
        s = list(parts[0])
        for part in parts[1:]:
            s = [s[0] + part[0], s[1] + part[1], s[2] + part[2]]
        if WORD_CLASS.get(p1) == "P" and 2 <= r - last_verb <= 6:
            w = _sum(t.state, ["vp=" + p1])
            s = [s[0] + w[0], s[1] + w[1], s[2] + w[2]]
        out[i] = (s[0], s[1], s[2])
        if WORD_CLASS.get(lows[i]) == "V":
            last_verb = r
    for i in range(n):
        if lows[i] in FILLERS:
            own = t._roles(raws[i], lows[i], kinds[i], cased)[0]
            w = _sum(t.state, ["filler"])
            out[i] = (own[0] + w[0], own[1] + w[1], own[2] + w[2])
    return out


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(VOCABULARY), max_size=24),
    cased=st.booleans(),
    question=st.sampled_from(["0", "NAME", "WHO", "Q", "S"]),
)
def test_emissions_equal_a_plain_loop_to_the_last_bit(words: list[str], cased: bool, question: str) -> None:
    t = tagger()
    tk = Tokens(" ".join(words))
    fast = t.emissions(tk.raws, tk.lows, tk.types, cased, question)
    assert fast == _reference(t, tk.raws, tk.lows, tk.types, cased, question)


LINES = [
    "AI: Who should I pay?",
    "User: Grace",
    "AI: It has been raining all week.",
    "User: Grace",
    "User: send sixty dollars to Theo please",
    "AI: What's the name on the account?",
    "User: send sixty dollars to Theo please",
    "User: Maria Chen",
    "AI: Who should I pay?",
    "User: Grace",
    "",
    "User: Maria Chen",
    "hmm",
    "User: Grace",
]


@settings(max_examples=60, deadline=None)
@given(order=st.lists(st.sampled_from(LINES), min_size=1, max_size=30))
def test_repeated_lines_get_the_findings_tagging_them_afresh_gives(order: list[str]) -> None:
    text = "\n".join(order)
    tk = Tokens(text)
    remembered = names.detect_names_learned(text, tk)
    assert remembered == names.detect_names_learned(text, tk, remember=False)
