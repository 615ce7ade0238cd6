"""Envelope parsing: dispatch on type first, lenient models, clear 400s for broken envelopes."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixture_bytes
from voicetrail.errors import BadRequestError
from voicetrail.providers.vapi.messages import (
    EndOfCallReport,
    SpeechUpdate,
    StatusUpdate,
    ToolCalls,
    Transcript,
    VapiMessage,
    metric_type,
    parse_envelope,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("fixture", "model"),
    [
        ("vapi/status-update.json", StatusUpdate),
        ("vapi/captured-status-update.json", StatusUpdate),
        ("vapi/transcript-final-user.json", Transcript),
        ("vapi/transcript-partial-user.json", Transcript),
        ("vapi/speech-update.json", SpeechUpdate),
        ("vapi/tool-calls.json", ToolCalls),
        ("vapi/tool-calls-docs-shape.json", ToolCalls),
        ("vapi/end-of-call-report.json", EndOfCallReport),
        ("vapi/captured-end-of-call-report.json", EndOfCallReport),
        ("vapi/assistant-request.json", VapiMessage),
        ("vapi/unknown-type.json", VapiMessage),
    ],
)
def test_each_type_dispatches_to_its_own_model(fixture: str, model: type[VapiMessage]) -> None:
    parsed = parse_envelope(fixture_bytes(fixture))
    assert type(parsed.message) is model


def test_tool_calls_is_not_mistaken_for_an_assistant_request() -> None:
    # The official SDK's union returns an assistant-request model for this payload.
    parsed = parse_envelope(fixture_bytes("vapi/tool-calls.json"))
    assert isinstance(parsed.message, ToolCalls)
    assert parsed.message.toolCallList[0].function is not None
    assert parsed.message.toolCallList[0].function.name == "lookup_account"


def test_final_only_transcript_type_is_a_transcript() -> None:
    body = {"message": {"type": 'transcript[transcriptType="final"]', "role": "user", "transcript": "hi"}}
    assert isinstance(parse_envelope(json.dumps(body).encode()).message, Transcript)


def test_unknown_fields_and_types_are_kept() -> None:
    parsed = parse_envelope(fixture_bytes("vapi/unknown-type.json"))
    assert parsed.message.type == "brand-new-type"
    assert parsed.raw["someField"] == {"nested": [1, 2, 3]}
    assert metric_type(parsed.message.type) == "other"


def test_call_id_and_caller_number_are_read_from_call_or_customer() -> None:
    parsed = parse_envelope(fixture_bytes("vapi/status-update.json"))
    assert parsed.message.call_id == "73daba4d-2bcc-4cca-8e49-3d7903467ade"
    assert parsed.message.caller_number == "+14155550123"


def test_a_known_field_with_an_odd_shape_falls_back_instead_of_failing() -> None:
    body = {"message": {"type": "status-update", "status": {"unexpected": "object"}, "call": {"id": "c1"}}}
    parsed = parse_envelope(json.dumps(body).encode())
    assert parsed.message.call_id == "c1"
    assert parsed.raw["status"] == {"unexpected": "object"}


@pytest.mark.parametrize(
    ("raw", "expected_ms"),
    [
        ("2024-09-16T10:00:00Z", 1_726_480_800_000),  # the 2024 SDK: ISO-8601
        ("2024-09-16T10:00:00.250+00:00", 1_726_480_800_250),
        (1_726_480_800_250, 1_726_480_800_250),  # current Vapi: epoch ms
        (1_726_480_800, 1_726_480_800_000),  # epoch seconds
        (1_726_480_800.25, 1_726_480_800_250),
        ("1726480800250", 1_726_480_800_250),
        ("2024-09-16T10:00:00", None),  # naive: names no instant
        ("yesterday", None),
        (True, None),
        (-1, None),
        (10**30, None),
    ],
)
def test_timestamps_are_read_as_epoch_ms_whatever_their_shape(raw: object, expected_ms: int | None) -> None:
    body = {"message": {"type": "hang", "timestamp": raw}}
    assert parse_envelope(json.dumps(body).encode()).message.timestamp == expected_ms


BAD_ENVELOPES = [
    ("empty", b""),
    ("not-json", b"hello"),
    ("json-array", b"[1,2]"),
    ("json-string", b'"message"'),
    ("no-message", b'{"type":"status-update"}'),
    ("message-not-object", b'{"message":"status-update"}'),
    ("missing-type", b'{"message":{"status":"ended"}}'),
    ("empty-type", b'{"message":{"type":"  "}}'),
    ("type-not-string", b'{"message":{"type":42}}'),
    ("not-utf8", b'{"message":{"type":"\xff\xfe"}}'),
    ("utf16", '{"message":{"type":"hang"}}'.encode("utf-16")),
    ("deeply-nested", b'{"message":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ("huge-integer", b'{"message":{"type":"hang","n":' + b"9" * 5000 + b"}}"),
    ("call-not-object", b'{"message":{"type":"hang","call":"c1"}}'),
    ("truncated", b'{"message":{"type":"hang"'),
]


@pytest.mark.parametrize("body", [c[1] for c in BAD_ENVELOPES], ids=[c[0] for c in BAD_ENVELOPES])
def test_broken_envelopes_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequestError):
        parse_envelope(body)


@given(st.binary(max_size=512))
def test_arbitrary_bytes_parse_or_raise_bad_request(body: bytes) -> None:
    with contextlib.suppress(BadRequestError):
        parse_envelope(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    message_type=st.sampled_from(["status-update", "transcript", "tool-calls", "end-of-call-report", "x"]),
    extra=st.dictionaries(
        st.sampled_from(
            ["call", "status", "toolCallList", "timestamp", "role", "customer", "transcript", "cost", "turn"]
        ),
        json_values,
        max_size=5,
    ),
)
def test_any_json_with_a_type_parses_or_is_a_bad_request(message_type: str, extra: dict[str, object]) -> None:
    body = json.dumps({"message": {**extra, "type": message_type}}).encode()
    try:
        parsed = parse_envelope(body)
    except BadRequestError:
        return
    assert parsed.message.type == message_type
