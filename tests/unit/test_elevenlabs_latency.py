"""ElevenLabs' per-turn figures as the call record's latency: the parts it measures (model and voice time
to first byte) per answering agent turn, barge-ins, the duration; never a made-up turn latency."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import load_fixture
from voicetrail.domain.latency import turn_timeline
from voicetrail.providers.elevenlabs.latency import elevenlabs_call_latency, timeline_messages

pytestmark = pytest.mark.unit


def _turn(role: str, at: int, **metrics: float) -> dict[str, Any]:
    block = {"metrics": {k: {"elapsed_time": v} for k, v in metrics.items()}} if metrics else None
    return {
        "role": role,
        "message": f"{role} at {at}",
        "time_in_call_secs": at,
        "conversation_turn_metrics": block,
    }


def test_the_fixture_maps_its_one_measured_reply() -> None:
    data = load_fixture("elevenlabs/post_call_transcription.json")["data"]
    latency = elevenlabs_call_latency(data)
    assert latency is not None
    assert [(t.turn_ms, t.model_ms, t.voice_ms) for t in latency.turns] == [
        (None, 370.0, None),
        (None, None, None),
    ]
    assert latency.model_avg_ms == 370.0 and latency.voice_avg_ms is None
    assert latency.turn_latencies_ms == () and latency.turn_p95_ms is None  # ElevenLabs sends no e2e latency
    assert latency.assistant_interrupted == 0 and latency.duration_s == 26.0


def test_parts_pair_with_the_replies_to_the_caller_like_the_timeline() -> None:
    transcript = [
        _turn("agent", 0, convai_tts_service_ttfb=0.2),  # the greeting: measured, but no turn
        _turn("user", 3),
        _turn("agent", 6, convai_llm_service_ttfb=0.5, convai_tts_service_ttfb=0.3),
        _turn("user", 9),
        _turn("user", 11),
        _turn("agent", 14, convai_llm_service_ttfb=0.7),
    ]
    transcript[5]["interrupted"] = True
    latency = elevenlabs_call_latency({"transcript": transcript})
    assert latency is not None
    assert [(t.model_ms, t.voice_ms) for t in latency.turns] == [(500.0, 300.0), (700.0, None)]
    assert latency.voice_avg_ms == 250.0 and latency.model_avg_ms == 600.0  # the greeting's voice counts
    assert latency.assistant_interrupted == 1  # only one turn says whether it was interrupted
    rows = turn_timeline(timeline_messages(transcript), latency)
    assert [(r.turn, r.seconds_from_start, r.timing.model_ms if r.timing else None) for r in rows] == [
        (1, 3, 500.0),
        (2, 9, 700.0),
    ]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"transcript": "no"},
        {"transcript": []},
        {"transcript": [_turn("user", 0), _turn("agent", 2)]},
        {"transcript": [_turn("agent", 2, convai_llm_service_ttfb=-1.0)]},
        {"transcript": [_turn("agent", 2, convai_llm_service_ttfb=1e9)]},
        {
            "transcript": [
                {
                    "role": "agent",
                    "conversation_turn_metrics": {
                        "metrics": {"convai_llm_service_ttfb": {"elapsed_time": True}}
                    },
                }
            ]
        },
        {"transcript": [{"role": "agent", "conversation_turn_metrics": {"metrics": "x"}}]},
    ],
    ids=["none", "not-list", "empty", "no-metrics", "negative", "absurd", "bool", "bad-shape"],
)
def test_without_usable_figures_there_is_no_latency(data: dict[str, Any]) -> None:
    assert elevenlabs_call_latency(json.loads(json.dumps(data))) is None
