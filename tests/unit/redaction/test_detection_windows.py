"""A long text is read in windows (`pipeline._WINDOW`, `_MARGIN`): the findings are those of the text read
whole, whatever the window size, at every window edge, for names learnt in a later window, for numbers
that run on across lines, and between the turns of a conversation.

Each case is detected twice: with windows made tiny (a few hundred characters, so a short text has many
edges) and with one window over the whole text; the two must agree exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.redaction_speed import transcript
from voicetrail.redaction import Turn, redact, redact_turns
from voicetrail.redaction.detection import pipeline
from voicetrail.redaction.detection.tokens import Span

pytestmark = pytest.mark.unit

CASES = [
    case
    for case in json.loads((Path(__file__).parents[2] / "data" / "redaction_cases.json").read_text())
    if "text" in case
]


@contextmanager
def _windows(window: int, margin: int) -> Iterator[None]:
    saved = pipeline._WINDOW, pipeline._MARGIN
    pipeline._WINDOW, pipeline._MARGIN = window, margin
    try:
        yield
    finally:
        pipeline._WINDOW, pipeline._MARGIN = saved


def _detect(text: str) -> list[Span]:
    """The merged findings: a value across a window edge is found by both windows, and merges to one."""
    return pipeline.merge(pipeline.detect(text))


def _both(text: str, window: int = 300, margin: int = 150) -> tuple[list[Span], list[Span]]:
    with _windows(window, margin):
        assert len(pipeline._cores(text)) > 1 or "\n" not in text.strip() or len(text) < window + margin
        windowed = _detect(text)
    with _windows(10**9, margin):
        whole = _detect(text)
    return windowed, whole


def _case_text(separator: str) -> str:
    return separator.join(case["text"] for case in CASES)


@pytest.mark.parametrize("separator", ["\n", "\nUser: ", "\nAI: ", "\n\n"], ids=repr)
def test_the_corpus_read_in_windows_gets_what_it_gets_read_whole(separator: str) -> None:
    windowed, whole = _both(_case_text(separator))
    assert windowed == whole
    assert len(whole) > 200  # the corpus is full of findings: the comparison is not of two empty lists


@pytest.mark.parametrize(("window", "margin"), [(200, 120), (500, 200), (2_000, 300), (20_000, 1_024)])
def test_a_call_transcript_in_windows_of_any_size(window: int, margin: int) -> None:
    text = transcript(60_000, seed=7)
    windowed, whole = _both(text, window, margin)
    assert windowed == whole


def test_a_name_learnt_in_a_later_window_is_found_in_an_earlier_one() -> None:
    filler = "AI: Is there anything else I can help you with?\nUser: not yet, the weather is nice.\n" * 40
    text = (
        "User: did theo call back yet? ximena said she would\n"
        + filler
        + "User: send sixty dollars to Theo Okonkwo please\nUser: and to Ximena Alvarez\n"
        + filler
        + "User: theo and ximena again\n"
    )
    windowed, whole = _both(text)
    assert windowed == whole
    names = [text[a:b] for a, b, kind, _ in windowed if kind == "name"]
    assert names.count("theo") == 2 and names.count("ximena") == 2  # the first line's, and the last's


def test_a_number_that_runs_on_across_lines_at_a_window_edge() -> None:
    lines = [f"User: {'one two three four ' * (k % 4)}my card is 4111 1111" for k in range(60)]
    text = "\n".join(line + "\nUser: 1111 1111 and that is it" for line in lines)
    windowed, whole = _both(text, 250, 40)
    assert windowed == whole


def test_a_number_read_over_more_lines_than_a_margin_holds_is_covered_whole() -> None:
    # one speaker reads digits, four to a line, for far longer than a window's margin: each window sees
    # part of the run, and the parts overlap, so no stretch of it is left between two windows
    digits = "\n".join(f"{1000 + 7 * k}" for k in range(400))
    text = "User: my account number is\n" + digits + "\nAI: thank you, and your name?\nUser: Theo Okonkwo"
    with _windows(300, 150):
        assert len(pipeline._cores(text)) > 5
        out = redact(text)
    # each window names its part of the run by the cue it can see, so the labels may differ from the run
    # read whole; what is covered may not
    assert not any(c.isdigit() for c in out.text)
    assert out.text.endswith("User: [NAME]")


def test_turns_of_a_conversation_in_windows() -> None:
    turns = [Turn("user" if k % 2 else "assistant", case["text"]) for k, case in enumerate(CASES[:200])]
    with _windows(300, 80):
        windowed = redact_turns(turns)
    whole = redact_turns(turns)
    assert windowed == whole


def test_a_text_without_line_ends_is_one_window() -> None:
    text = transcript(5_000).replace("\n", " ")
    with _windows(300, 80):
        assert pipeline._cores(text) == [(0, len(text))]


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(CASES) - 1), min_size=2, max_size=40),
    separators=st.lists(st.sampled_from(["\n", "\nUser: ", "\nAI: ", " ", "\n\n"]), min_size=1),
    window=st.integers(1, 400),
    margin=st.integers(120, 300),
)
def test_any_window_size_over_any_mix_of_cases(
    picks: list[int], separators: list[str], window: int, margin: int
) -> None:
    text = ""
    for k, pick in enumerate(picks):
        text += CASES[pick]["text"] + separators[k % len(separators)]
    with _windows(window, margin):
        cores = pipeline._cores(text)
        windowed = _detect(text)
        rendered = redact(text)
    assert [c[0] for c in cores] == [0] + [c[1] for c in cores[:-1]] and cores[-1][1] == len(text)
    assert all(text[c[1] - 1] == "\n" for c in cores[:-1])  # cut at line ends
    with _windows(10**9, margin):
        assert windowed == _detect(text)
        assert rendered == redact(text)
