"""ElevenLabs event models and semantic keys: every documented shape parses, broken envelopes are 400s,
unknown types and fields are kept, resends collapse to one key and distinct events never share one."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, load_fixture
from voicetrail.errors import BadRequestError
from voicetrail.providers.bounds import MAX_TURNS
from voicetrail.providers.elevenlabs.keys import semantic_key
from voicetrail.providers.elevenlabs.models import EVENT_TYPES, metric_type, parse_event
from voicetrail_cli.dev import elevenlabs_events

pytestmark = pytest.mark.unit

FIXTURE_NAMES = sorted(p.name for p in (FIXTURES / "elevenlabs").glob("*.json"))


def _parse(payload: dict[str, Any]) -> Any:
    return parse_event(json.dumps(payload).encode())


def _key(payload: dict[str, Any]) -> str:
    return semantic_key(_parse(payload))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_parses_with_its_conversation_id(name: str) -> None:
    payload = load_fixture(f"elevenlabs/{name}")
    parsed = _parse(payload)
    assert parsed.event.type in EVENT_TYPES
    assert parsed.event.conversation_id == payload["data"]["conversation_id"]
    assert parsed.raw == payload


def test_the_fixtures_cover_every_event_type() -> None:
    assert {load_fixture(f"elevenlabs/{name}")["type"] for name in FIXTURE_NAMES} == EVENT_TYPES


@pytest.mark.parametrize("event", sorted(elevenlabs_events.GENERATORS))
def test_every_generated_event_type_parses(event: str) -> None:
    s = elevenlabs_events.script(random.Random(7))
    parsed = _parse(elevenlabs_events.GENERATORS[event](s))
    assert parsed.event.type == event
    assert parsed.event.conversation_id == s.conversation_id


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("post_call_transcription.json", "+14155550177"),
        ("post_call_transcription_web.json", None),
        ("post_call_audio.json", None),
        ("call_initiation_failure_twilio.json", "+14155550188"),  # outbound: the callee, Twilio's `To`
        ("call_initiation_failure_sip.json", None),
    ],
)
def test_caller_number_is_the_far_end(name: str, number: str | None) -> None:
    assert _parse(load_fixture(f"elevenlabs/{name}")).event.data.caller_number == number


def test_transcript_turns_and_tool_calls_are_read() -> None:
    data = _parse(load_fixture("elevenlabs/post_call_transcription.json")).event.data
    assert data.transcript is not None and len(data.transcript) == 5
    assert data.transcript[2].tool_calls[0].params_as_json.startswith("{")
    assert data.analysis.transcript_summary


def test_unknown_types_and_fields_are_kept() -> None:
    parsed = _parse(
        {"type": "post_call_sentiment", "data": {"conversation_id": "conv_1", "score": 3}, "v": 2}
    )
    assert parsed.event.type == "post_call_sentiment"
    assert parsed.event.data.model_extra == {"score": 3}
    assert metric_type("post_call_sentiment") == "other"


ODD_SHAPES = [
    ("timestamp-as-text", {"event_timestamp": "1764979232"}),
    ("timestamp-as-float", {"event_timestamp": 1764979232.5}),
    ("negative-timestamp", {"event_timestamp": -5}),
    ("transcript-not-list", {"data": {"conversation_id": "conv_1", "transcript": "hi"}}),
    (
        "too-many-turns",
        {"data": {"conversation_id": "conv_1", "transcript": [{"role": "user"}] * (MAX_TURNS + 1)}},
    ),
    ("analysis-not-object", {"data": {"conversation_id": "conv_1", "analysis": []}}),
    ("agent-id-bad", {"data": {"conversation_id": "conv_1", "agent_id": "a b"}}),
]


@pytest.mark.parametrize("fields", [c[1] for c in ODD_SHAPES], ids=[c[0] for c in ODD_SHAPES])
def test_a_known_field_with_an_odd_shape_keeps_the_event(fields: dict[str, Any]) -> None:
    parsed = _parse({"type": "post_call_transcription", "data": {"conversation_id": "conv_1"}, **fields})
    assert parsed.event.conversation_id == "conv_1"
    assert semantic_key(parsed) == "post_call_transcription"


def test_malformed_metadata_gives_no_phone_call_rather_than_an_error() -> None:
    parsed = _parse(
        {"type": "post_call_transcription", "data": {"conversation_id": "c1", "metadata": {"phone_call": 3}}}
    )
    assert parsed.event.data.phone_call() is None
    assert parsed.event.data.caller_number is None


BROKEN = [
    ("not-json", b"{"),
    ("array", b"[1]"),
    ("no-type", b'{"data":{"conversation_id":"c"}}'),
    ("type-not-text", b'{"type":["x"],"data":{"conversation_id":"c"}}'),
    ("type-with-hash", b'{"type":"a#b","data":{"conversation_id":"c"}}'),
    ("no-data", b'{"type":"post_call_audio"}'),
    ("data-not-object", b'{"type":"post_call_audio","data":[]}'),
    ("no-conversation-id", b'{"type":"post_call_audio","data":{"agent_id":"a"}}'),
    ("conversation-id-number", b'{"type":"post_call_audio","data":{"conversation_id":12}}'),
    ("conversation-id-with-newline", b'{"type":"post_call_audio","data":{"conversation_id":"c\\n1"}}'),
    ("deep-nesting", b'{"type":"x","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
]


@pytest.mark.parametrize("body", [c[1] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_broken_envelope_is_a_400(body: bytes) -> None:
    with pytest.raises(BadRequestError):
        parse_event(body)


S = elevenlabs_events.script(random.Random(5))


def test_each_type_is_once_per_conversation_and_a_resend_collapses() -> None:
    for make in elevenlabs_events.GENERATORS.values():
        payload = make(S)
        assert _key(payload) == _key(elevenlabs_events.resend(payload)) == payload["type"]
    later = {**elevenlabs_events.post_call_transcription(S), "event_timestamp": 1_764_999_999}
    assert _key(later) == "post_call_transcription"


def test_unknown_types_are_told_apart_by_timestamp_and_content_but_not_by_audio() -> None:
    one = {"type": "x_event", "event_timestamp": 1, "data": {"conversation_id": "c", "n": 1}}
    assert _key(one) != _key({**one, "event_timestamp": 2})
    assert _key(one) != _key({**one, "data": {"conversation_id": "c", "n": 2}})
    assert _key(one) == _key({**one, "data": {**one["data"], "full_audio": "AAAA"}})
    assert "None" not in _key({"type": "x_event", "data": {"conversation_id": "c"}})


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_in_any_generated_conversation_each_event_has_its_own_key(seed: int) -> None:
    s = elevenlabs_events.script(random.Random(seed))
    keys = [_key(make(s)) for make in elevenlabs_events.GENERATORS.values()]
    assert len(set(keys)) == len(keys)
