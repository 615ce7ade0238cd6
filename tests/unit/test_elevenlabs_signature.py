"""The ElevenLabs verifier: genuine, rotated, forged, tampered, stale, future and every broken header shape.

The official SDK (`elevenlabs.webhooks_custom.WebhooksClient.construct_event`, a dev-only dependency) is the
oracle: what we sign it accepts, and we never accept what it refuses, except a timestamp in the future
(the SDK accepts any; we allow FUTURE_SKEW_SECONDS) and a valid `v0` that is not the last of several.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from unittest import mock

import pytest
from elevenlabs.errors import BadRequestError
from elevenlabs.webhooks_custom import WebhooksClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from voicetrail.errors import AuthenticationError, AuthFailure
from voicetrail.providers.elevenlabs.signature import (
    FUTURE_SKEW_SECONDS,
    MAX_AGE_SECONDS,
    SIGNATURE_HEADER,
    sign,
    verify,
)

pytestmark = pytest.mark.unit

NOW = 1_764_979_200.0
T = int(NOW)
BODY = b'{"type":"post_call_transcription","event_timestamp":1764979190,"data":{"conversation_id":"conv_1"}}'
KEY = "wsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
OLD_KEY = "wsec_00112233445566778899aabbccddeeff"

# construct_event uses no client state: skip the HTTP client wrapper the constructor wants.
_SDK = object.__new__(WebhooksClient)


def _sdk_accepts(body: bytes, key: str, header: str, now: float = NOW) -> bool:
    with mock.patch("elevenlabs.webhooks_custom.time.time", return_value=now):
        try:
            _SDK.construct_event(body.decode("utf-8"), header, key)
        except (BadRequestError, ValueError):  # ValueError: the SDK's int() on a non-numeric `t`
            return False
    return True


def _ours_accepts(headers: dict[str, Any], body: bytes = BODY, keys: tuple[str, ...] = (KEY,)) -> bool:
    try:
        verify(headers, body, keys, now=NOW)
    except AuthenticationError:
        return False
    return True


def _reason(headers: dict[str, Any], body: bytes = BODY, keys: tuple[str, ...] = (KEY,)) -> AuthFailure:
    with pytest.raises(AuthenticationError) as caught:
        verify(headers, body, keys, now=NOW)
    return caught.value.reason


def _hex(message: bytes, key: str = KEY) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_genuine_request_is_accepted_and_the_sdk_agrees() -> None:
    headers = sign(BODY, KEY, timestamp=T)
    verify(headers, BODY, [KEY], now=NOW)
    assert _sdk_accepts(BODY, KEY, headers[SIGNATURE_HEADER])


def test_the_documented_algorithm_is_what_we_sign() -> None:
    # elevenlabs.io docs: hex HMAC-SHA256 of `timestamp.request_body`, header `t=timestamp,v0=hash`.
    assert sign(BODY, KEY, timestamp=T) == {SIGNATURE_HEADER: f"t={T},v0={_hex(f'{T}.'.encode() + BODY)}"}


def test_rotation_accepts_any_active_key_and_nothing_else() -> None:
    headers = sign(BODY, OLD_KEY, timestamp=T)
    verify(headers, BODY, [KEY, OLD_KEY], now=NOW)
    assert _reason(headers, keys=(KEY,)) is AuthFailure.INVALID


def test_several_v0_values_any_valid_one_authenticates() -> None:
    good = sign(BODY, KEY, timestamp=T)[SIGNATURE_HEADER].split(",")[1]
    other = sign(BODY, OLD_KEY, timestamp=T)[SIGNATURE_HEADER].split(",")[1]
    assert _ours_accepts({SIGNATURE_HEADER: f"t={T},{good},{other}"})
    assert _ours_accepts({SIGNATURE_HEADER: f"t={T},{other},{good}"})
    assert _reason({SIGNATURE_HEADER: f"t={T},{other},{other}"}) is AuthFailure.INVALID


def test_the_window_is_thirty_minutes_back_and_the_skew_forward_inclusive() -> None:
    assert _ours_accepts(sign(BODY, KEY, timestamp=T - MAX_AGE_SECONDS))
    assert _ours_accepts(sign(BODY, KEY, timestamp=T + FUTURE_SKEW_SECONDS))
    assert _reason(sign(BODY, KEY, timestamp=T - MAX_AGE_SECONDS - 1)) is AuthFailure.STALE
    far_future = sign(BODY, KEY, timestamp=T + FUTURE_SKEW_SECONDS + 1)
    assert _reason(far_future) is AuthFailure.FUTURE
    # The SDK would accept the far-future signature: this is where we are deliberately stricter.
    assert _sdk_accepts(BODY, KEY, far_future[SIGNATURE_HEADER])


GOOD = sign(BODY, KEY, timestamp=T)[SIGNATURE_HEADER]
GOOD_DIGEST = GOOD.split(",v0=")[1]

NEGATIVE_CASES = [
    # (id, headers, body, expected reason)
    ("missing", {}, BODY, AuthFailure.MISSING),
    ("empty", {SIGNATURE_HEADER: ""}, BODY, AuthFailure.MISSING),
    ("blank", {SIGNATURE_HEADER: "  "}, BODY, AuthFailure.MISSING),
    ("not-text", {SIGNATURE_HEADER: 12}, BODY, AuthFailure.MISSING),
    ("other-header", {"x-elevenlabs-signature": GOOD}, BODY, AuthFailure.MISSING),
    ("bare-digest", {SIGNATURE_HEADER: GOOD_DIGEST}, BODY, AuthFailure.MALFORMED),
    ("t-only", {SIGNATURE_HEADER: f"t={T}"}, BODY, AuthFailure.MALFORMED),
    ("v0-only", {SIGNATURE_HEADER: f"v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("two-timestamps", {SIGNATURE_HEADER: f"t={T},t={T},v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("duplicated-header-joined", {SIGNATURE_HEADER: f"{GOOD},{GOOD}"}, BODY, AuthFailure.MALFORMED),
    ("v1-only", {SIGNATURE_HEADER: f"t={T},v1={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("space-after-comma", {SIGNATURE_HEADER: f"t={T}, v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("upper-hex", {SIGNATURE_HEADER: f"t={T},v0={GOOD_DIGEST.upper()}"}, BODY, AuthFailure.MALFORMED),
    ("short-digest", {SIGNATURE_HEADER: f"t={T},v0={GOOD_DIGEST[1:]}"}, BODY, AuthFailure.MALFORMED),
    ("one-bad-v0-of-two", {SIGNATURE_HEADER: f"{GOOD},v0=xyz"}, BODY, AuthFailure.MALFORMED),
    ("signed-ts", {SIGNATURE_HEADER: f"t=+{T},v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("underscore-ts", {SIGNATURE_HEADER: f"t=1_764_979_200,v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("spaced-ts", {SIGNATURE_HEADER: f"t= {T},v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("word-ts", {SIGNATURE_HEADER: f"t=now,v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("empty-ts", {SIGNATURE_HEADER: f"t=,v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("thai-digits", {SIGNATURE_HEADER: f"t=๑๗๖๔,v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("too-many-parts", {SIGNATURE_HEADER: GOOD + ",x=1" * 20}, BODY, AuthFailure.MALFORMED),
    ("very-long", {SIGNATURE_HEADER: "t=" + "1" * 5000}, BODY, AuthFailure.MALFORMED),
    ("only-commas", {SIGNATURE_HEADER: ",,,"}, BODY, AuthFailure.MALFORMED),
    ("surrogates", {SIGNATURE_HEADER: "t=\udcff,v0=\udcfe"}, BODY, AuthFailure.MALFORMED),
    ("stale", sign(BODY, KEY, timestamp=T - 3600), BODY, AuthFailure.STALE),
    ("zero-ts", {SIGNATURE_HEADER: f"t=0,v0={GOOD_DIGEST}"}, BODY, AuthFailure.STALE),
    ("ms-instead-of-s", {SIGNATURE_HEADER: f"t={T * 1000},v0={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("an-hour-ahead", sign(BODY, KEY, timestamp=T + 3600), BODY, AuthFailure.FUTURE),
    ("wrong-digest", {SIGNATURE_HEADER: f"t={T},v0={'0' * 64}"}, BODY, AuthFailure.INVALID),
    ("other-t-same-digest", {SIGNATURE_HEADER: f"t={T - 1},v0={GOOD_DIGEST}"}, BODY, AuthFailure.INVALID),
    ("tampered-body", {SIGNATURE_HEADER: GOOD}, BODY.replace(b"conv_1", b"conv_2"), AuthFailure.INVALID),
    ("body-only-digest", {SIGNATURE_HEADER: f"t={T},v0={_hex(BODY)}"}, BODY, AuthFailure.INVALID),
    ("wrong-key", sign(BODY, "not-the-secret", timestamp=T), BODY, AuthFailure.INVALID),
]


@pytest.mark.parametrize(
    ("headers", "body", "reason"), [c[1:] for c in NEGATIVE_CASES], ids=[c[0] for c in NEGATIVE_CASES]
)
def test_every_bad_request_is_a_401_with_its_reason(
    headers: dict[str, Any], body: bytes, reason: AuthFailure
) -> None:
    assert _reason(headers, body) is reason


def test_no_active_key_fails_closed() -> None:
    assert _reason(sign(BODY, KEY, timestamp=T), keys=()) is AuthFailure.INVALID


def test_unknown_parts_are_ignored_like_the_sdk_does() -> None:
    assert _ours_accepts({"ElevenLabs-Signature": f" {GOOD},v1=abc "})


_near_misses = st.builds(
    lambda cut, insert, pos: GOOD[:pos] + insert + GOOD[pos + cut :],
    st.integers(0, 3),
    st.text(alphabet="tv0=,0123456789abcdefABCDEF -+_", max_size=4),
    st.integers(0, len(GOOD)),
)
_structured = st.builds(
    lambda ts, digest: f"t={ts},v0={digest}",
    st.integers(T - 2 * MAX_AGE_SECONDS, T + 2 * FUTURE_SKEW_SECONDS),
    st.text(alphabet="0123456789abcdef", min_size=62, max_size=66),
)
HEADERS = st.one_of(st.text(max_size=300), _near_misses, _structured)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(header=HEADERS)
@example(header=GOOD)
def test_any_single_v0_header_is_accepted_only_if_the_sdk_accepts_it_and_never_raises(header: str) -> None:
    ours = _ours_accepts({SIGNATURE_HEADER: header})
    if ours and header.count("v0=") == 1:
        assert _sdk_accepts(BODY, KEY, header.strip())


@settings(max_examples=150)
@given(
    data=st.dictionaries(st.text(max_size=10), st.text(max_size=60), max_size=5),
    key=st.text(min_size=1, max_size=64),
    offset=st.integers(-MAX_AGE_SECONDS, FUTURE_SKEW_SECONDS),
)
def test_genuine_signatures_verify_with_both_us_and_the_sdk(
    data: dict[str, str], key: str, offset: int
) -> None:
    body = json.dumps({"type": "post_call_transcription", "data": data}, ensure_ascii=False).encode("utf-8")
    headers = sign(body, key, timestamp=T + offset)
    verify(headers, body, [key], now=NOW)
    assert _sdk_accepts(body, key, headers[SIGNATURE_HEADER])


@settings(max_examples=150)
@given(
    flip=st.integers(0, 10_000),
    offset=st.integers(-3 * MAX_AGE_SECONDS, 3 * FUTURE_SKEW_SECONDS),
)
def test_tampered_or_out_of_window_requests_are_refused(flip: int, offset: int) -> None:
    headers = sign(BODY, KEY, timestamp=T + offset)
    position = flip % len(BODY)
    tampered = BODY[:position] + bytes([BODY[position] ^ 0x01]) + BODY[position + 1 :]
    assert not _ours_accepts(headers, tampered)
    in_window = -MAX_AGE_SECONDS <= offset <= FUTURE_SKEW_SECONDS
    assert _ours_accepts(headers) is in_window
    if offset < -MAX_AGE_SECONDS:
        assert not _sdk_accepts(BODY, KEY, headers[SIGNATURE_HEADER])
