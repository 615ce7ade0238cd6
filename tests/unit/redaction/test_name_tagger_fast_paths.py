"""The name tagger's fast paths give exactly what straightforward computations give.

`NameTagger.emissions` sums cached per-role weights a turn at a time; here a plain loop over the tokens,
reading every weight from the state afresh, must give the same floats to the last bit on random turns.
`detect_names_learned` reuses the findings of a line seen before with the same question; the texts here
repeat lines under different questions, and each line's findings must be what tagging it afresh gives.
The shortcuts of `question_type` (a case-folded look for the words its patterns need), `said_once` (no two
equal neighbours) and `NameTagger.spans` (no name label) give what the searches and walks they skip give.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.redaction import _names
from voicetrail.redaction._names import (
    FILLERS,
    WORD_CLASS,
    NameTagger,
    _length_bucket,
    _sum,
    question_type,
    tagger,
)
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


# words the question patterns look for, in odd cases and with the characters that match a letter only
# without regard to case (the long s, the Kelvin sign, the dotless i)
QUESTION_WORDS = [
    *("name", "NAME", "Names", "nAme's", "spell", "SPELLED", "\u017fpell", "who", "WHO's", "whom", "whose"),
    *("who am \u0131 speaking", "may I ask who", "with whom", "what", "Can", "?", "is", "calling"),
    *("\u212aate", "hello", "the", "account", "my", "\u017f", "\u0131", "wh", "nam", "spel", ",", "-"),
]


def _question_type_plainly(line: str) -> str:
    if _names._ASK_NAME.search(line):
        return "NAME"
    if _names._ASK_WHO.search(line):
        return "WHO"
    if _names._ASK_OTHER.search(line):
        return "Q"
    return "S"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(QUESTION_WORDS), max_size=8), st.sampled_from([" ", "", "  ", "\n"]))
def test_question_type_equals_the_three_searches(words: list[str], sep: str) -> None:
    line = sep.join(words)
    assert question_type(line) == _question_type_plainly(line)


def test_casefold_keeps_every_letter_the_question_patterns_match_without_case() -> None:
    """`question_type` skips the searches when the case-folded line lacks "name", "spell" and "who": every
    character that matches one of their letters case-insensitively must fold onto that letter."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for letter in sorted(set("namespellwho")):
        for char in set(re.findall(re.escape(letter), everything, re.IGNORECASE)):
            assert letter in char.casefold(), (letter, hex(ord(char)))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["theo", "Theo", "uh", "n", "n", "houston", "42", "42", ",", "to"]), max_size=12)
)
def test_said_once_without_hesitations_equals_the_loop(words: list[str]) -> None:
    tk = Tokens(" ".join(words))
    hesitates = not FILLERS.isdisjoint(tk.lows)
    fast = names.said_once(tk.lows, tk.types, 0, tk.n, hesitates)
    assert fast == names.said_once(tk.lows, tk.types, 0, tk.n)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2), max_size=12))
def test_spans_of_labels_equal_a_walk_over_them(labels: list[int]) -> None:
    t = tagger()
    walked: list[tuple[int, int]] = []
    start = -1
    for i, y in enumerate([*labels, t.labels.index("O")]):
        if t.labels[y] != "O" and start < 0:
            start = i
        elif t.labels[y] == "O" and start >= 0:
            walked.append((start, i))
            start = -1
    assert t.spans(labels) == walked


# At most 28 features a token (`NameTagger.features`): 10 of its own (word, possessive, four gazetteer flags,
# non-ASCII, prefix and suffix, shape) and 18 of context; checked on the random turns below.
MAX_FEATURES = 32


def test_weights_sum_exactly_in_any_order() -> None:
    """`NameTagger.margin_rows` adds a token's weights in another order than `emissions` and takes the O
    score off each: the same floats only if every partial sum is exact. Every weight is a multiple of one
    power of two, and a token's weights (a few dozen features) sum far below 2**53 of that unit."""
    weights = [w for w in tagger().state._weights if w]  # type: ignore[attr-defined]
    # every float is p / q with q a power of two: all weights are multiples of 1 / (the largest q)
    unit = 1 / max(w.as_integer_ratio()[1] for w in weights)
    assert unit >= 2.0**-60  # a float32's unit: the weights file holds float32
    # a sum of up to MAX_FEATURES weights, or of their differences, stays below 2**53 units: exact
    assert 2 * MAX_FEATURES * max(map(abs, weights)) < 2**53 * unit


_PLAIN = [w for w in VOCABULARY if w.lower() not in FILLERS]
_TURN = st.tuples(
    # half the words from verbs, prepositions and amounts, so that "vp" (a preposition 2-6 words after a
    # verb) comes often; a clock time is a token of its own kind (X). A hesitation anywhere sends the turn
    # to `emissions`: one turn in four has one.
    st.lists(
        st.sampled_from([*_PLAIN, "10:30"]) | st.sampled_from(["pay", "call", "to", "with", "sixty", "Theo"]),
        max_size=16,
    ),
    st.sampled_from(["", "", "", "uh"]),
    st.booleans(),
    st.sampled_from(["0", "NAME", "WHO", "Q", "S"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TURN, max_size=12))
def test_batched_margins_equal_each_turns_emissions(turns: list[tuple[list[str], str, bool, str]]) -> None:
    t = tagger()
    batch: list[_names.Turn] = []
    for words, hesitation, cased, question in turns:
        tk = Tokens(" ".join([*words[:3], hesitation, *words[3:]]))
        batch.append((tk.raws, tk.lows, tk.types, cased, question))
        assert all(len(f) <= MAX_FEATURES for f in t.features(tk.raws, tk.lows, tk.types, cased, question))
    rows = t.margin_rows(batch)
    for turn, margins in zip(batch, rows, strict=True):
        if margins is None:  # a hesitation: left to `emissions`
            assert not FILLERS.isdisjoint(turn[1])
        else:
            assert margins == [_names._margin(e) for e in t.emissions(*turn)]
    labels = t.tag_batch(batch)
    assert labels == [t.decode(t.emissions(*turn)) for turn in batch]
    assert t.tag_batch(batch, bias=0.0) == [t.decode(t.emissions(*turn), 0.0) for turn in batch]


BATCH_LINES = [
    *LINES,
    "User: uh my wife Maria paid Theo at 10:30",
    "AI: Who am I speaking with?",
    "User: call will will",
    "User: Please send sixty dollars to Grace Chen.",
    "alexa call Theo",
    "AI: Thanks Hope!",
]


@settings(max_examples=60, deadline=None)
@given(order=st.lists(st.sampled_from(BATCH_LINES), min_size=1, max_size=30))
def test_batched_lines_get_the_findings_of_tagging_each_line(order: list[str]) -> None:
    """`detect_names_learned` tags all lines in one batch; tagging each line alone gives the same."""
    text = "\n".join(order)
    tk = Tokens(text)
    batched = names.detect_names_learned(text, tk)
    one_by_one = NameTagger.tag_batch

    def each(self: NameTagger, turns: list[_names.Turn], bias: float = _names.RECALL_BIAS) -> list[list[int]]:
        return [self.decode(self.emissions(*turn), bias) for turn in turns]

    NameTagger.tag_batch = each  # type: ignore[method-assign]
    try:
        assert batched == names.detect_names_learned(text, tk)
    finally:
        NameTagger.tag_batch = one_by_one  # type: ignore[method-assign]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*VOCABULARY, "alexa", "june", "Bill", "grace", "I", "doctor", "okafor"])))
def test_slot_rules_visit_every_word_that_may_be_a_given_name(words: list[str]) -> None:
    """`_slot_names` visits only the words `_given_names` lets through (and those after a title): every
    word `_first_name` takes must be among them."""
    t = tagger()
    tk = Tokens(" ".join(words))
    given = names._given_names(t)
    for cased in (True, False):
        for i in range(tk.n):
            if names._first_name(t, tk, i, cased):
                assert given[tk.lows[i]]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "A", "c", "-", "1", "a1"]), max_size=30),
    st.sets(st.sampled_from("abc-1")),
)
def test_positions_equal_a_scan_of_the_tokens(words: list[str], wanted: set[str]) -> None:
    tk = Tokens(" ".join(words))
    assert tk.positions(wanted) == [i for i, low in enumerate(tk.lows) if low in wanted]


class _EveryWord(dict[str, bool]):
    """Takes every word for a possible given name: the slot rules then visit every word, as plainly."""

    def __missing__(self, key: str) -> bool:
        return True


SLOT_LINES = [
    *BATCH_LINES,
    "call Will",
    "ok, hi will",
    "pay bill",
    "Thanks Hope!",
    "did june call back",
    "is frank still working there",
    "doctor okafor said so",
    "mr cleaver and ms smith",
    "see ms cleaver today",
    "My daughter Hope is here.",
    "Is Grace still working there?",
    "Dawn requested $30 from you",
    "uh Maria",
    "text Grace good night",
    "send one hundred fifty dollars to june",
    "Faith",
]


@settings(max_examples=100, deadline=None)
@given(order=st.lists(st.sampled_from(SLOT_LINES), min_size=1, max_size=12))
def test_the_given_name_shortcuts_find_what_visiting_every_word_finds(order: list[str]) -> None:
    """Lines without a tagged name or a possible given name skip the slot rules, and the rules visit only
    the possible given names (and words after a title): visiting every word finds the same."""
    text = "\n".join(order)
    tk = Tokens(text)
    fast = names.detect_names_learned(text, tk)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(names, "_given_names", lambda tagger: _EveryWord())
        assert fast == names.detect_names_learned(text, tk)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abcXYZ1'\u00e9\u00c9-", max_size=10))
def test_a_word_with_a_lower_case_tail_is_no_code_word(raw: str) -> None:
    """`_name_pieces` skips the code-word search when the word past its third character is lower case."""
    if raw[3:].islower():
        assert names._CODE_WORD.search(raw) is None
