"""The learnt-name pattern: same matches as the longest-first alternation it replaces, linear cost, bounds."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.redaction.learnt_names import (
    MAX_NAME_LENGTH,
    MAX_NAMES,
    learnt_names_pattern,
    name_parts,
)


def _alternation(names: set[str]) -> re.Pattern[str] | None:
    """The previous implementation: every part in one alternation, longest first."""
    parts = name_parts(names)
    if not parts:
        return None
    alternatives = "|".join(re.escape(p) for p in sorted(parts, key=lambda p: (-len(p), p)))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


@pytest.mark.parametrize(
    ("names", "text", "expected"),
    [
        ({"Maria Gonzalez"}, "Maria Gonzalez called; later maria asked.", "[N] called; later [N] asked."),
        ({"Maria Gonzalez"}, "gonzalez, MARIA", "[N], [N]"),
        ({"Ann", "Anna", "Annabel Lee"}, "Anna met Annabel Lee and Annabelle", "[N] met [N] and Annabelle"),
        ({"O'Neil"}, "O'Neil's car", "[N]'s car"),
        ({"Al"}, "Al called", "Al called"),  # too short to propagate
        ({"Jo Li"}, "Jo Li", "[N]"),  # the whole name counts, its short parts alone do not
        ({"Émile Zoë"}, "émile and ZOË", "[N] and [N]"),
        ({"Maria"}, "Mariam and Marias", "Mariam and Marias"),  # whole words only
    ],
)
def test_learnt_names_are_replaced_as_whole_words(names: set[str], text: str, expected: str) -> None:
    pattern = learnt_names_pattern(names)
    if pattern is None:
        assert expected == text
        return
    assert pattern.sub("[N]", text) == expected


def test_nothing_to_learn_gives_no_pattern() -> None:
    """(The alternation it replaces matched the empty string everywhere when every name was too short.)"""
    assert learnt_names_pattern(set()) is None
    assert learnt_names_pattern({"Al", "Jo", "x" * (MAX_NAME_LENGTH + 1)}) is None


_NAME = st.text(alphabet="abcdeé'- ,.", min_size=1, max_size=14)


@settings(max_examples=150, deadline=None)
@given(names=st.sets(_NAME, min_size=1, max_size=12), text=st.text(alphabet="abcdeé'- ,.XY", max_size=80))
def test_the_trie_matches_what_the_alternation_matched(names: set[str], text: str) -> None:
    trie, alternation = learnt_names_pattern(names), _alternation(names)
    assert (trie is None) == (alternation is None)
    if trie is not None and alternation is not None:
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in alternation.finditer(text)]


def test_the_number_of_names_is_bounded() -> None:
    names = {f"Name{i:05d} Surname{i:05d}" for i in range(MAX_NAMES * 2)}
    assert len(name_parts(names)) == MAX_NAMES


def test_cost_does_not_grow_with_the_number_of_names() -> None:
    """1,500 learnt names cost about what 10 do on the same text (the alternation took 40x more here)."""
    words = [f"Zq{i:04d}x Yv{i:04d}w" for i in range(1500)]
    text = " ".join(f"then {w} said hello to everyone again" for w in words[:400]) * 3
    few, many = learnt_names_pattern(words[:10]), learnt_names_pattern(words)
    assert few is not None and many is not None
    timings = []
    for pattern in (few, many):
        start = time.perf_counter()
        pattern.sub("[N]", text)
        timings.append(time.perf_counter() - start)
    assert timings[1] < 8 * timings[0] + 0.02
