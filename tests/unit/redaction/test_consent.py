"""Consent detection, per case from tests/data/consent_cases.json, plus the safety properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicetrail.domain.live.consent import ConsentDecision, detect_consent

CASES = json.loads((Path(__file__).parents[2] / "data" / "consent_cases.json").read_text())


def test_corpus_is_large_and_balanced() -> None:
    assert len(CASES) >= 80
    for decision in ConsentDecision:
        assert sum(c["expected"] == decision.value for c in CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[f"{i}:{c['utterance'][:40]}" for i, c in enumerate(CASES)])
def test_consent_case(case: dict[str, str]) -> None:
    assert detect_consent(case["utterance"]).value == case["expected"]


def test_accuracy_and_zero_false_grants() -> None:
    results = [(detect_consent(c["utterance"]).value, c["expected"]) for c in CASES]
    false_grants = [r for r in results if r[0] == "granted" and r[1] != "granted"]
    assert false_grants == []
    assert sum(got == want for got, want in results) / len(results) >= 0.95


def test_decision_is_a_str_enum() -> None:
    decision = detect_consent("yes")
    assert isinstance(decision, str)
    assert decision == "granted"
    assert ConsentDecision("denied") is ConsentDecision.DENIED


@pytest.mark.parametrize(
    ("first", "second"),
    [("yes", "no"), ("sure", "I'd rather not"), ("okay", "don't record")],
)
def test_last_answer_wins_after_a_correction(first: str, second: str) -> None:
    assert detect_consent(f"{first}... wait, {second}") is ConsentDecision.DENIED
    assert detect_consent(f"{second}, actually {first}") is ConsentDecision.GRANTED


@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    assert detect_consent(text) in set(ConsentDecision)


@given(st.sampled_from(["yes", "sure", "okay", "go ahead", "I agree"]), st.sampled_from(["?", " what for?"]))
def test_a_grant_turned_into_a_question_is_never_granted(grant: str, tail: str) -> None:
    assert detect_consent(grant + tail) is not ConsentDecision.GRANTED


@given(st.sampled_from(["I agree", "I consent", "that's okay", "it's fine", "I'm comfortable with that"]))
def test_negated_grants_are_denials(grant: str) -> None:
    negated = (
        grant.replace("I agree", "I don't agree")
        .replace("I consent", "I do not consent")
        .replace("that's okay", "that's not okay")
        .replace("it's fine", "it's not fine")
        .replace("I'm comfortable", "I'm not comfortable")
    )
    assert detect_consent(grant) is ConsentDecision.GRANTED
    assert detect_consent(negated) is ConsentDecision.DENIED
