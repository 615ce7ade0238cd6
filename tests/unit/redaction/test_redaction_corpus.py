"""Per-case redaction behaviour from tests/data/redaction_cases.json.

A PII value is caught when every letter/digit of it lies inside a finding and a finding over it has the
expected kind; a keep span survives when no finding touches it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from voicetrail.redaction import KINDS, Redaction, Turn, redact, redact_turns

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "data" / "redaction_cases.json").read_text()
)


def _run(case: dict[str, Any]) -> tuple[list[str], list[Redaction]]:
    if "text" in case:
        return [case["text"]], [redact(case["text"])]
    turns = [Turn(role=t["role"], text=t["text"]) for t in case["turns"]]
    return [t.text for t in turns], redact_turns(turns)


def _span(text: str, value: str) -> tuple[int, int]:
    start = text.find(value)
    assert start >= 0, f"corpus error: {value!r} not in {text!r}"
    return start, start + len(value)


def _case_id(i: int, case: dict[str, Any]) -> str:
    text = case["text"] if "text" in case else " / ".join(t["text"] for t in case["turns"])
    return f"{i}:{text[:50]}"


def test_corpus_size_and_coverage() -> None:
    assert len(CASES) >= 200
    kinds = {p["kind"] for case in CASES for p in case["pii"]}
    for kind in (
        "ssn",
        "card",
        "cvv",
        "expiry",
        "phone",
        "email",
        "dob",
        "member_id",
        "name",
        "address",
        "zip",
    ):
        assert kind in kinds
    assert kinds <= set(KINDS)
    assert sum(1 for case in CASES if not case["pii"]) >= 50  # negatives
    assert sum(1 for case in CASES if "turns" in case) >= 10


@pytest.mark.parametrize("case", CASES, ids=[_case_id(i, c) for i, c in enumerate(CASES)])
def test_case(case: dict[str, Any]) -> None:
    texts, results = _run(case)
    for pii in case["pii"]:
        turn = pii.get("turn", 0)
        text, result = texts[turn], results[turn]
        start, end = _span(text, pii["value"])
        covered = {i for f in result.findings for i in range(f.start, f.end)}
        leaked = "".join(text[i] for i in range(start, end) if text[i].isalnum() and i not in covered)
        assert leaked == "", f"{pii['kind']} leaked {leaked!r}: {result.text!r}"
        kinds = {f.kind for f in result.findings if f.start < end and start < f.end}
        assert pii["kind"] in kinds, f"expected {pii['kind']}, got {kinds}: {result.text!r}"
    for keep in case["keep"]:
        turn, value = (0, keep) if isinstance(keep, str) else (keep["turn"], keep["value"])
        start, end = _span(texts[turn], value)
        touched = [f for f in results[turn].findings if f.start < end and start < f.end]
        assert touched == [], f"{value!r} was redacted: {results[turn].text!r}"
        assert value in results[turn].text
