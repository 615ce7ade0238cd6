"""The Retell verifier: genuine, rotated, forged, tampered, stale, future and every broken header shape.

The official SDK (retell-sdk, `retell.lib.webhook_auth`, a dev-only dependency) is the oracle: what we sign
it accepts, and we never accept what it refuses. We are stricter in the few places the module docstring
names (ASCII digits only), so the implication runs one way.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from retell.lib import webhook_auth

from voicetrail.errors import AuthenticationError, AuthFailure
from voicetrail.providers.retell.signature import REPLAY_WINDOW_MS, SIGNATURE_HEADER, sign, verify

pytestmark = pytest.mark.unit

NOW = 1_764_979_200.0
NOW_MS = int(NOW * 1000)
BODY = b'{"event":"call_ended","call":{"call_id":"Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"}}'
KEY = "key_d8e2f0a1b3c4d5e6f7a8b9c0d1e2"
OLD_KEY = "key_0123456789abcdef0123456789ab"

sdk_verify = cast(Any, webhook_auth.symmetric["verify"])
sdk_sign = cast(Any, webhook_auth.symmetric["sign"])


def _sdk_accepts(body: bytes, key: str, header: str, now_ms: int = NOW_MS) -> bool:
    return bool(sdk_verify(body.decode("utf-8"), key, header, {"timestamp": now_ms}))


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


def test_genuine_request_is_accepted_and_the_sdk_agrees() -> None:
    headers = sign(BODY, KEY, timestamp_ms=NOW_MS)
    verify(headers, BODY, [KEY], now=NOW)
    assert _sdk_accepts(BODY, KEY, headers[SIGNATURE_HEADER])


def test_the_sdk_signer_produces_a_header_we_accept() -> None:
    header = sdk_sign(BODY.decode(), KEY, NOW_MS)
    verify({"X-Retell-Signature": header}, BODY, [KEY], now=NOW)


def test_rotation_accepts_any_active_key_and_nothing_else() -> None:
    headers = sign(BODY, OLD_KEY, timestamp_ms=NOW_MS)
    verify(headers, BODY, [KEY, OLD_KEY], now=NOW)
    assert _reason(headers, keys=(KEY,)) is AuthFailure.INVALID


def test_the_replay_window_is_five_minutes_both_ways_inclusive() -> None:
    for offset in (-REPLAY_WINDOW_MS, REPLAY_WINDOW_MS):
        assert _ours_accepts(sign(BODY, KEY, timestamp_ms=NOW_MS + offset))
    assert _reason(sign(BODY, KEY, timestamp_ms=NOW_MS - REPLAY_WINDOW_MS - 1)) is AuthFailure.STALE
    assert _reason(sign(BODY, KEY, timestamp_ms=NOW_MS + REPLAY_WINDOW_MS + 1)) is AuthFailure.FUTURE


def _hex(message: bytes, key: str = KEY) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


GOOD = sign(BODY, KEY, timestamp_ms=NOW_MS)[SIGNATURE_HEADER]
GOOD_DIGEST = GOOD.split(",d=")[1]
TS = str(NOW_MS)

NEGATIVE_CASES = [
    # (id, headers, body, expected reason)
    ("missing", {}, BODY, AuthFailure.MISSING),
    ("empty", {SIGNATURE_HEADER: ""}, BODY, AuthFailure.MISSING),
    ("blank", {SIGNATURE_HEADER: "   \t"}, BODY, AuthFailure.MISSING),
    ("not-text", {SIGNATURE_HEADER: ["v=1,d=2"]}, BODY, AuthFailure.MISSING),
    ("wrong-header", {"x-retell-sig": GOOD}, BODY, AuthFailure.MISSING),
    ("body-only-legacy-form", {SIGNATURE_HEADER: _hex(BODY)}, BODY, AuthFailure.MALFORMED),
    (
        "body-only-digest-with-timestamp",
        {SIGNATURE_HEADER: f"v={TS},d={_hex(BODY)}"},
        BODY,
        AuthFailure.INVALID,
    ),
    ("v-only", {SIGNATURE_HEADER: f"v={TS}"}, BODY, AuthFailure.MALFORMED),
    ("d-only", {SIGNATURE_HEADER: f"d={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("swapped-order", {SIGNATURE_HEADER: f"d={GOOD_DIGEST},v={TS}"}, BODY, AuthFailure.MALFORMED),
    ("prefix", {SIGNATURE_HEADER: f"sha256={GOOD}"}, BODY, AuthFailure.MALFORMED),
    ("suffix", {SIGNATURE_HEADER: f"{GOOD}-x"}, BODY, AuthFailure.MALFORMED),
    ("extra-part", {SIGNATURE_HEADER: f"{GOOD},x=1"}, BODY, AuthFailure.MALFORMED),
    ("duplicated-header-joined", {SIGNATURE_HEADER: f"{GOOD},{GOOD}"}, BODY, AuthFailure.MALFORMED),
    ("space-inside", {SIGNATURE_HEADER: f"v={TS}, d={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("upper-hex", {SIGNATURE_HEADER: f"v={TS},d={GOOD_DIGEST.upper()}"}, BODY, AuthFailure.MALFORMED),
    ("short-digest", {SIGNATURE_HEADER: f"v={TS},d={GOOD_DIGEST[2:]}"}, BODY, AuthFailure.MALFORMED),
    ("long-digest", {SIGNATURE_HEADER: f"v={TS},d={GOOD_DIGEST}00"}, BODY, AuthFailure.MALFORMED),
    ("not-hex", {SIGNATURE_HEADER: f"v={TS},d={'z' * 64}"}, BODY, AuthFailure.MALFORMED),
    ("negative-ts", {SIGNATURE_HEADER: f"v=-{TS},d={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("float-ts", {SIGNATURE_HEADER: f"v={TS}.5,d={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("arabic-indic-digits", {SIGNATURE_HEADER: f"v=١٧٦٤,d={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("huge-ts", {SIGNATURE_HEADER: f"v={'9' * 400},d={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("very-long", {SIGNATURE_HEADER: "v=" + "1" * 5000}, BODY, AuthFailure.MALFORMED),
    ("non-ascii", {SIGNATURE_HEADER: "v=ü,d=☃"}, BODY, AuthFailure.MALFORMED),
    ("surrogates", {SIGNATURE_HEADER: "\udcff\udcfe"}, BODY, AuthFailure.MALFORMED),
    ("nul", {SIGNATURE_HEADER: f"v={TS}\x00,d={GOOD_DIGEST}"}, BODY, AuthFailure.MALFORMED),
    ("seconds-not-ms", {SIGNATURE_HEADER: f"v={int(NOW)},d={GOOD_DIGEST}"}, BODY, AuthFailure.STALE),
    ("zero-ts", {SIGNATURE_HEADER: f"v=0,d={GOOD_DIGEST}"}, BODY, AuthFailure.STALE),
    ("wrong-digest", {SIGNATURE_HEADER: f"v={TS},d={'0' * 64}"}, BODY, AuthFailure.INVALID),
    (
        "tampered-body",
        {SIGNATURE_HEADER: GOOD},
        BODY.replace(b"call_ended", b"call_endeD"),
        AuthFailure.INVALID,
    ),
    ("body-with-trailing-space", {SIGNATURE_HEADER: GOOD}, BODY + b" ", AuthFailure.INVALID),
    ("empty-body", {SIGNATURE_HEADER: GOOD}, b"", AuthFailure.INVALID),
    (
        "other-timestamp-same-digest",
        {SIGNATURE_HEADER: f"v={NOW_MS + 1},d={GOOD_DIGEST}"},
        BODY,
        AuthFailure.INVALID,
    ),
    ("wrong-key", sign(BODY, "another-key", timestamp_ms=NOW_MS), BODY, AuthFailure.INVALID),
]


@pytest.mark.parametrize(
    ("headers", "body", "reason"), [c[1:] for c in NEGATIVE_CASES], ids=[c[0] for c in NEGATIVE_CASES]
)
def test_every_bad_request_is_a_401_with_its_reason(
    headers: dict[str, Any], body: bytes, reason: AuthFailure
) -> None:
    assert _reason(headers, body) is reason


def test_no_active_key_fails_closed() -> None:
    assert _reason(sign(BODY, KEY, timestamp_ms=NOW_MS), keys=()) is AuthFailure.INVALID


def test_outer_whitespace_and_header_case_are_tolerated() -> None:
    assert _ours_accepts({"X-Retell-Signature": f"  {GOOD}\t"})


# Header shapes: arbitrary text, near-miss mutations of a genuine header, and structured forgeries.
_near_misses = st.builds(
    lambda cut, insert, pos: GOOD[:pos] + insert + GOOD[pos + cut :],
    st.integers(0, 3),
    st.text(alphabet="v=d,0123456789abcdefABCDEF -\t", max_size=4),
    st.integers(0, len(GOOD)),
)
_structured = st.builds(
    lambda ts, digest: f"v={ts},d={digest}",
    st.integers(NOW_MS - 2 * REPLAY_WINDOW_MS, NOW_MS + 2 * REPLAY_WINDOW_MS),
    st.text(alphabet="0123456789abcdef", min_size=62, max_size=66),
)
HEADERS = st.one_of(st.text(max_size=300), _near_misses, _structured)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(header=HEADERS)
@example(header=GOOD)
def test_any_header_is_accepted_only_if_the_sdk_accepts_it_and_never_raises_otherwise(header: str) -> None:
    ours = _ours_accepts({SIGNATURE_HEADER: header})
    if ours:
        assert _sdk_accepts(BODY, KEY, header.strip())


@settings(max_examples=150)
@given(
    body=st.text(max_size=400).map(lambda s: s.encode("utf-8")),
    key=st.text(min_size=1, max_size=64),
    offset=st.integers(-REPLAY_WINDOW_MS, REPLAY_WINDOW_MS),
)
def test_genuine_signatures_verify_with_both_us_and_the_sdk(body: bytes, key: str, offset: int) -> None:
    headers = sign(body, key, timestamp_ms=NOW_MS + offset)
    verify(headers, body, [key], now=NOW)
    assert _sdk_accepts(body, key, headers[SIGNATURE_HEADER])
    sdk_header = sdk_sign(body.decode("utf-8"), key, NOW_MS + offset)
    verify({SIGNATURE_HEADER: sdk_header}, body, [key], now=NOW)


@settings(max_examples=150)
@given(
    body=st.text(min_size=1, max_size=200).map(lambda s: s.encode("utf-8")),
    flip=st.integers(0, 10_000),
    offset=st.integers(-10 * REPLAY_WINDOW_MS, 10 * REPLAY_WINDOW_MS),
)
def test_tampered_or_out_of_window_requests_are_refused_by_both(body: bytes, flip: int, offset: int) -> None:
    headers = sign(body, KEY, timestamp_ms=NOW_MS + offset)
    position = flip % len(body)
    tampered = body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1 :]
    assert not _ours_accepts(headers, tampered)
    in_window = abs(offset) <= REPLAY_WINDOW_MS
    assert _ours_accepts(headers, body) is in_window
    assert _sdk_accepts(body, KEY, headers[SIGNATURE_HEADER]) is in_window
