"""Hypothesis over what tests/unit did not fuzz yet: the whole Vapi service (any signed body -> only a
domain error or a 200, never an unhandled exception, stored at most once per semantic key), the sanitiser
(never raises, never keeps a caller number, bounded growth), semantic keys (stable under the volatile
parts a retry changes), Twilio form parsing and signature checks, and redaction on digit-dense input.
(The verifiers, the envelope parser and redaction's basic invariants are fuzzed in their own modules.)"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import VAPI_SECRET
from tests.unit.test_vapi_service import make_service
from voicetrail.domain.callers import CallerHasher
from voicetrail.errors import BadRequestError, VoicetrailError
from voicetrail.providers.twilio.signature import parse_form, verify
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.providers.vapi.idempotency import semantic_key
from voicetrail.providers.vapi.messages import parse_envelope, timestamp_ms
from voicetrail.providers.vapi.sanitize import MessageSanitizer
from voicetrail.redaction import redact
from voicetrail.transport.http import InboundRequest

pytestmark = pytest.mark.unit

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_value = st.recursive(
    json_leaf,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
    max_leaves=25,
)
message_types = st.sampled_from(
    [
        "status-update",
        "transcript",
        "tool-calls",
        "end-of-call-report",
        "speech-update",
        "conversation-update",
        "assistant-request",
        "hang",
        "brand-new-type",
    ]
)
known_keys = st.sampled_from(
    [
        "call",
        "status",
        "toolCallList",
        "timestamp",
        "role",
        "customer",
        "transcript",
        "transcriptType",
        "artifact",
        "analysis",
        "turn",
        "messages",
        "endedReason",
        "cost",
        "phoneNumber",
        "number",
    ]
)
messages = st.builds(
    lambda t, extra: {**extra, "type": t},
    message_types,
    st.dictionaries(known_keys | st.text(max_size=10), json_value, max_size=6),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages, wrap=st.booleans())
def test_the_service_answers_any_signed_message_with_200_or_a_domain_error(
    message: dict[str, Any], wrap: bool
) -> None:
    service, (store, _) = make_service()
    body = json.dumps({"message": message} if wrap else message).encode()
    headers = sign_request(VapiAuthConfig(), body, VAPI_SECRET)
    request = InboundRequest("POST", "/vapi/webhook", "", headers, body)
    try:
        first = service.handle(request)
    except VoicetrailError as exc:
        assert exc.status in (400, 413)
        return
    assert first.status == 200
    stored = len(store._items)
    assert service.handle(request).status == 200  # a retry is a no-op
    assert len(store._items) == stored <= 1


@settings(max_examples=200)
@given(message=messages, number=st.from_regex(r"\+1415555[0-9]{4}", fullmatch=True))
def test_the_sanitiser_never_raises_never_keeps_a_caller_number_and_stays_bounded(
    message: dict[str, Any], number: str
) -> None:
    message = {
        **message,
        "customer": {"number": number},
        "call": {"id": "c1", "customer": {"number": number}},
    }
    sanitized = MessageSanitizer(CallerHasher("pepper")).sanitize(message)
    text = json.dumps(sanitized.body)
    assert number not in text and number[2:] not in text
    assert len(text) <= 4 * len(json.dumps(message)) + 200


@settings(max_examples=200)
@given(message=messages, token=st.text(alphabet="0123456789abcdef", min_size=8, max_size=16))
def test_semantic_keys_never_raise_and_ignore_presigned_urls(message: dict[str, Any], token: str) -> None:
    body = json.dumps({"message": message}).encode()
    try:
        parsed = parse_envelope(body)
    except BadRequestError:
        return
    retried = copy.deepcopy(message)
    retried.setdefault("artifact", {})
    if isinstance(retried["artifact"], dict):
        retried["artifact"]["presignedMonoUrl"] = f"https://storage.vapi.ai/x.wav?sig={token}"
    other = parse_envelope(json.dumps({"message": retried}).encode())
    key = semantic_key(parsed)
    assert key and len(key) < 2048
    if "None" not in json.dumps(message):
        assert "None" not in key  # an absent part is written "-"
    if "artifact" in message:
        assert semantic_key(other) == key


@settings(max_examples=150)
@given(value=json_value)
def test_any_timestamp_value_is_epoch_ms_or_nothing(value: Any) -> None:
    ms = timestamp_ms(value)
    assert ms is None or (isinstance(ms, int) and 0 <= ms < 100_000_000_000_000)


@settings(max_examples=150)
@given(
    instant=st.datetimes(
        min_value=datetime(1975, 1, 1), max_value=datetime(4000, 1, 1), timezones=st.just(UTC)
    ),
    shape=st.sampled_from(["iso", "ms", "s", "iso-offset"]),
)
def test_every_timestamp_shape_names_the_same_millisecond(instant: datetime, shape: str) -> None:
    instant = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    expected = round(instant.timestamp() * 1000)
    value: Any = {
        "iso": instant.isoformat().replace("+00:00", "Z"),
        "iso-offset": instant.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        "ms": expected,
        "s": expected / 1000,
    }[shape]
    assert timestamp_ms(value) == expected


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_twilio_form_parsing_raises_only_bad_request(body: bytes) -> None:
    try:
        params = parse_form(body)
    except BadRequestError:
        return
    for key in params:
        assert isinstance(params[key], str) and params.getall(key)


@settings(max_examples=200)
@given(
    pairs=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=8),
    signature=st.text(max_size=120),
    algorithm=st.sampled_from(["HMAC_SHA1", "HMAC_SHA256"]),
)
def test_twilio_signature_check_never_raises_on_any_input(
    pairs: list[tuple[str, str]], signature: str, algorithm: str
) -> None:
    from urllib.parse import urlencode

    try:
        params = parse_form(urlencode(pairs).encode())
    except BadRequestError:
        return
    result = verify(
        url="https://hooks.example.com/twilio/status",
        params=params,
        signature=signature,
        algorithm=algorithm,
        tokens=["tok"],
    )
    assert result is not None  # a random signature never validates


_tokens = st.sampled_from(
    [
        *"0123456789",
        "-",
        ".",
        "/",
        "(",
        ")",
        "+",
        "one",
        "two",
        "oh",
        "double",
        "triple",
        "four",
        "nine",
        "card",
        "social",
        "my",
        "is",
        "at",
        "dot",
        "number",
        "email",
    ]
)
digit_dense = st.lists(_tokens, max_size=80).map(" ".join)


@settings(max_examples=300)
@given(digit_dense)
def test_redaction_of_digit_dense_speech_never_raises_and_never_grows_unboundedly(text: str) -> None:
    result = redact(text)
    # Placeholders ([CARD], [MEMBER_ID]...) may be longer than a short match, but growth is bounded.
    assert len(result.text) <= len(text) + 12 * max(1, len(result.findings))
    assert len(result.text) <= 2 * len(text) + 64
