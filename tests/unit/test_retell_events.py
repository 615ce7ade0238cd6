"""Retell event models and semantic keys: every documented shape parses, broken envelopes are 400s,
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
from voicetrail.providers.retell.keys import semantic_key
from voicetrail.providers.retell.models import EVENT_TYPES, metric_type, parse_event
from voicetrail_cli.dev import retell_events

pytestmark = pytest.mark.unit

FIXTURE_NAMES = sorted(p.name for p in (FIXTURES / "retell").glob("*.json"))


def _parse(payload: dict[str, Any]) -> Any:
    return parse_event(json.dumps(payload).encode())


def _key(payload: dict[str, Any]) -> str:
    return semantic_key(_parse(payload))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_parses_with_its_call_id(name: str) -> None:
    payload = load_fixture(f"retell/{name}")
    parsed = _parse(payload)
    assert parsed.event.event in EVENT_TYPES
    assert parsed.event.call_id == "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"
    assert parsed.raw == payload


def test_the_fixtures_cover_every_event_type() -> None:
    covered = {load_fixture(f"retell/{name}")["event"] for name in FIXTURE_NAMES}
    assert covered == EVENT_TYPES


@pytest.mark.parametrize("event", sorted(retell_events.GENERATORS))
def test_every_generated_event_type_parses(event: str) -> None:
    s = retell_events.script(random.Random(7))
    parsed = _parse(retell_events.GENERATORS[event](s))
    assert parsed.event.event == event
    assert parsed.event.call_id == s.call_id


def test_caller_number_is_the_far_end_whatever_the_direction() -> None:
    inbound = _parse(load_fixture("retell/call_ended.json"))
    assert inbound.event.call.caller_number == "+12137771234"
    payload = load_fixture("retell/call_ended.json")
    payload["call"]["direction"] = "outbound"
    assert _parse(payload).event.call.caller_number == "+12137771235"
    assert _parse(load_fixture("retell/web_call_ended.json")).event.call.caller_number is None


def test_the_deprecated_data_envelope_is_read() -> None:
    parsed = _parse(load_fixture("retell/legacy_data_envelope.json"))
    assert parsed.event.call.transcript_object is not None
    assert semantic_key(parsed) == "call_ended"


def test_unknown_event_types_and_fields_are_kept() -> None:
    parsed = _parse(
        {"event": "call_voicemail_left", "call": {"call_id": "abc123", "new_field": [1]}, "x": {"y": 2}}
    )
    assert parsed.event.event == "call_voicemail_left"
    assert parsed.event.call.model_extra == {"new_field": [1]}
    assert metric_type("call_voicemail_left") == "other"
    assert metric_type("call_ended") == "call_ended"


ODD_SHAPES = [
    ("timestamp-as-text", {"start_timestamp": "1703302407333"}),
    ("timestamp-as-bool", {"start_timestamp": True}),
    ("negative-timestamp", {"end_timestamp": -1}),
    ("timestamp-beyond-5138", {"end_timestamp": 10**15}),
    ("transcript-object-not-list", {"transcript_object": "hello"}),
    ("too-many-turns", {"transcript_object": [{"role": "user", "content": "a"}] * (MAX_TURNS + 1)}),
    ("analysis-not-object", {"call_analysis": "great call"}),
    ("agent-id-with-hash", {"agent_id": "agent#1"}),
]


@pytest.mark.parametrize("fields", [c[1] for c in ODD_SHAPES], ids=[c[0] for c in ODD_SHAPES])
def test_a_known_field_with_an_odd_shape_keeps_the_event_on_its_common_fields(fields: dict[str, Any]) -> None:
    parsed = _parse({"event": "call_ended", "call": {"call_id": "abc123", **fields}})
    assert parsed.event.call_id == "abc123"
    assert semantic_key(parsed) == "call_ended"


BROKEN = [
    ("not-json", b"{"),
    ("not-utf8", b'{"event":"call_ended","call":{"call_id":"\xff"}}'),
    ("array", b"[]"),
    ("no-event", b'{"call":{"call_id":"a"}}'),
    ("blank-event", b'{"event":" ","call":{"call_id":"a"}}'),
    ("event-not-text", b'{"event":7,"call":{"call_id":"a"}}'),
    ("event-with-hash", b'{"event":"call#ended","call":{"call_id":"a"}}'),
    ("event-too-long", b'{"event":"' + b"e" * 65 + b'","call":{"call_id":"a"}}'),
    ("no-call", b'{"event":"call_ended"}'),
    ("call-not-object", b'{"event":"call_ended","call":"a"}'),
    ("no-call-id", b'{"event":"call_ended","call":{}}'),
    ("call-id-not-text", b'{"event":"call_ended","call":{"call_id":5}}'),
    ("call-id-empty", b'{"event":"call_ended","call":{"call_id":""}}'),
    ("call-id-with-hash", b'{"event":"call_ended","call":{"call_id":"a#b"}}'),
    ("call-id-with-slash", b'{"event":"call_ended","call":{"call_id":"../a"}}'),
    ("call-id-too-long", b'{"event":"call_ended","call":{"call_id":"' + b"a" * 129 + b'"}}'),
    ("deep-nesting", b'{"event":"call_ended","call":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
]


@pytest.mark.parametrize("body", [c[1] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_broken_envelope_is_a_400_that_names_no_content(body: bytes) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_event(body)
    assert "call_ended" not in str(caught.value) and "a#b" not in str(caught.value)


# ---- semantic keys ------------------------------------------------------------------------------------

S = retell_events.script(random.Random(11))
RESENDS = [
    ("same-bytes", retell_events.call_ended(S), retell_events.call_ended(S)),
    (
        "refreshed-links",
        retell_events.call_analyzed(S),
        retell_events.resend(retell_events.call_analyzed(S), random.Random(2)),
    ),
    (
        "reordered-keys",
        retell_events.transcript_updated(S, 4),
        retell_events.resend(retell_events.transcript_updated(S, 4), random.Random(3)),
    ),
    (
        "transfer-with-new-links",
        retell_events.transfer_started(S),
        retell_events.resend(retell_events.transfer_started(S), random.Random(4)),
    ),
    (
        "transfer-ended",
        retell_events.transfer_ended(S),
        retell_events.resend(retell_events.transfer_ended(S), random.Random(5)),
    ),
    (
        "call-ended-with-new-cost",
        retell_events.call_ended(S),
        {
            **retell_events.call_ended(S),
            "call": {**retell_events.call_ended(S)["call"], "call_cost": {"combined_cost": 9}},
        },
    ),
]


@pytest.mark.parametrize(("first", "again"), [c[1:] for c in RESENDS], ids=[c[0] for c in RESENDS])
def test_a_resend_has_the_same_key(first: dict[str, Any], again: dict[str, Any]) -> None:
    assert _key(first) == _key(again)


DISTINCT = [
    (
        "two-transcript-updates",
        retell_events.transcript_updated(S, 2),
        retell_events.transcript_updated(S, 4),
    ),
    (
        "last-turn-update-and-final-update",
        retell_events.transcript_updated(S, len(S.turns) - 1),
        retell_events.transcript_updated(S),
    ),
    ("started-and-bridged", retell_events.transfer_started(S), retell_events.transfer_bridged(S)),
    (
        "second-transfer-same-number",
        retell_events.transfer_started(S, 6),
        retell_events.transfer_started(S, 8),
    ),
    ("two-transfer-legs-ended", retell_events.transfer_ended(S, 6), retell_events.transfer_ended(S, 8)),
    ("ended-and-analyzed", retell_events.call_ended(S), retell_events.call_analyzed(S)),
]


@pytest.mark.parametrize(("one", "other"), [c[1:] for c in DISTINCT], ids=[c[0] for c in DISTINCT])
def test_distinct_events_have_distinct_keys(one: dict[str, Any], other: dict[str, Any]) -> None:
    assert _key(one) != _key(other)


def test_keys_never_contain_none_or_a_stray_hash_from_content() -> None:
    weird = {"event": "x_event", "call": {"call_id": "abc", "transcript": "a#b"}, "detail": None}
    key = _key(weird)
    assert "None" not in key
    assert key.count("#") == 2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), transfer=st.booleans())
def test_in_any_generated_call_every_event_has_its_own_key_and_its_resend_shares_it(
    seed: int, transfer: bool
) -> None:
    rng = random.Random(seed)
    s = retell_events.script(rng)
    stream = retell_events.call_stream(s, transfer=transfer)
    keys = [_key(payload) for payload in stream]
    assert len(set(keys)) == len(keys)
    assert [_key(retell_events.resend(p, rng)) for p in stream] == keys
