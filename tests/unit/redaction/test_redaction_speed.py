"""Redaction cost grows linearly with the text, unusual bodies stay cheap, and no size lets a value through.

CPU time of this process, and loose bounds (a shared machine is noisy): a quadratic pass shows as a
100x step for 10x the text, far beyond them. benchmarks/redaction_speed.py prints the real figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from benchmarks.redaction_speed import transcript, unusual_bodies
from voicetrail.redaction import redact

pytestmark = pytest.mark.unit


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("one_line", [False, True], ids=["transcript", "one long line"])
def test_ten_times_the_text_costs_about_ten_times_the_time(one_line: bool) -> None:
    small, large = transcript(20_000), transcript(200_000)
    if one_line:  # per-line work must not turn into per-text work when the text has no newline
        small, large = small.replace("\n", " "), large.replace("\n", " ")
    redact(small)  # the name tagger loads on first use
    ratio = _best(lambda: redact(large), 2) / _best(lambda: redact(small))
    assert ratio < 20, f"10x the text took {ratio:.1f}x the time"


@pytest.mark.parametrize("label", ["one run of letters", "long random-letter words", "digits only"])
def test_unusual_bodies_are_cheap(label: str) -> None:
    body = unusual_bodies(300_000)[label]
    seconds = _best(lambda: redact(body), 1)
    assert seconds < 5, f"{label}: {seconds:.1f} s for 300 KB"


def test_a_value_at_the_end_of_a_long_transcript_is_redacted() -> None:
    text = transcript(500_000) + "\nUser: and my card is 4111 1111 1111 1111, my ssn 219-09-9999."
    out = redact(text)
    assert out.text != "[REDACTED]"
    assert "4111 1111 1111 1111" not in out.text and "219-09-9999" not in out.text
    assert out.text.endswith("my card is [CARD], my ssn [SSN].")
