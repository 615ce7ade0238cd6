"""Retell's latency object as the call record's figures: values by position, nothing made up."""

from __future__ import annotations

from typing import Any

import pytest

from voicetrail.providers.retell.latency import retell_call_latency

pytestmark = pytest.mark.unit


def test_turns_come_from_the_e2e_values_and_parts_by_position() -> None:
    call = {
        "duration_ms": 61_000,
        "latency": {
            "e2e": {"p50": 900, "values": [800, 1000, 1200]},
            "llm": {"values": [300, 400]},
            "tts": {"values": [200, 250, 300]},
        },
    }
    latency = retell_call_latency(call)
    assert latency is not None
    assert latency.turn_latencies_ms == (800.0, 1000.0, 1200.0)
    assert [t.model_ms for t in latency.turns] == [300.0, 400.0, None]
    assert latency.voice_avg_ms == 250.0 and latency.duration_s == 61.0
    assert latency.transcriber_avg_ms is None and latency.interruptions is None


@pytest.mark.parametrize(
    "call",
    [
        {},
        {"latency": "fast"},
        {"latency": {"e2e": {"p50": 800}}},
        {"latency": {"e2e": {"values": []}}},
        {"latency": {"e2e": {"values": [True, "800", float("nan"), -5, 10**9]}}},
    ],
    ids=["none", "not-object", "no-values", "empty", "no-valid-value"],
)
def test_without_usable_e2e_values_there_are_no_figures(call: dict[str, Any]) -> None:
    assert retell_call_latency(call) is None
