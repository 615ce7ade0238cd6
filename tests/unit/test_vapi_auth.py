"""The Vapi verifier: every scheme, every malformed shape, rotation, replay window. Never an exception."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicetrail.errors import AuthenticationError, AuthFailure
from voicetrail.providers.vapi.auth import AuthScheme, VapiAuthConfig, sign_request, verify_request

pytestmark = pytest.mark.unit

NOW = 1_764_079_200.0
BODY = b'{"message":{"type":"status-update","status":"ended"}}'
SECRET = "s3cret-current"
OLD_SECRET = "s3cret-previous"

SHARED = VapiAuthConfig()
BEARER = VapiAuthConfig(scheme=AuthScheme.BEARER)
BEARER_CUSTOM = VapiAuthConfig(scheme=AuthScheme.BEARER, bearer_header="X-Vapi-Secret", bearer_prefix=False)
HMAC_DEFAULT = VapiAuthConfig(scheme=AuthScheme.HMAC)
HMAC_BODY_ONLY = VapiAuthConfig(
    scheme=AuthScheme.HMAC, signature_header="x-vapi-signature", payload_format="{body}"
)
HMAC_B64_PREFIX = VapiAuthConfig(
    scheme=AuthScheme.HMAC, algorithm="sha512", signature_encoding="base64", signature_prefix="sha512="
)
HMAC_SHA1 = VapiAuthConfig(scheme=AuthScheme.HMAC, algorithm="sha1")
ALL_CONFIGS = [SHARED, BEARER, BEARER_CUSTOM, HMAC_DEFAULT, HMAC_BODY_ONLY, HMAC_B64_PREFIX, HMAC_SHA1]


def _verify(config: VapiAuthConfig, headers: dict[str, str], body: bytes = BODY, now: float = NOW) -> None:
    verify_request(config, headers, body, [SECRET], now=now)


@pytest.mark.parametrize(
    "config", ALL_CONFIGS, ids=lambda c: f"{c.scheme}-{c.algorithm}-{c.signature_encoding}"
)
def test_genuine_request_is_accepted(config: VapiAuthConfig) -> None:
    # Given headers produced by the signer under each scheme
    headers = sign_request(config, BODY, SECRET, timestamp=NOW)
    # When/Then it verifies
    _verify(config, headers)


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=lambda c: f"{c.scheme}-{c.algorithm}")
def test_rotated_secret_is_accepted_while_both_are_active(config: VapiAuthConfig) -> None:
    headers = sign_request(config, BODY, OLD_SECRET, timestamp=NOW)
    verify_request(config, headers, BODY, [SECRET, OLD_SECRET], now=NOW)
    with pytest.raises(AuthenticationError) as caught:
        verify_request(config, headers, BODY, [SECRET], now=NOW)
    assert caught.value.reason is AuthFailure.INVALID


def _hmac_hex(payload: bytes, secret: str = SECRET, algo: str = "sha256") -> str:
    return hmac.new(secret.encode(), payload, getattr(hashlib, algo)).hexdigest()


TS = str(int(NOW))
GOOD_SIG = _hmac_hex(f"{TS}.".encode() + BODY)

NEGATIVE_CASES = [
    # (id, config, headers, body, expected reason)
    ("shared-missing", SHARED, {}, BODY, AuthFailure.MISSING),
    ("shared-empty", SHARED, {"x-vapi-secret": "   "}, BODY, AuthFailure.MISSING),
    ("shared-wrong", SHARED, {"x-vapi-secret": "nope"}, BODY, AuthFailure.INVALID),
    ("shared-wrong-length", SHARED, {"x-vapi-secret": "x" * 5000}, BODY, AuthFailure.INVALID),
    ("shared-non-ascii", SHARED, {"x-vapi-secret": "sécret-ü-☃"}, BODY, AuthFailure.INVALID),
    ("shared-surrogate", SHARED, {"x-vapi-secret": "\udcff\udcfe"}, BODY, AuthFailure.INVALID),
    ("shared-in-wrong-header", SHARED, {"authorization": f"Bearer {SECRET}"}, BODY, AuthFailure.MISSING),
    ("bearer-missing", BEARER, {}, BODY, AuthFailure.MISSING),
    ("bearer-no-prefix", BEARER, {"authorization": SECRET}, BODY, AuthFailure.MALFORMED),
    ("bearer-basic-scheme", BEARER, {"authorization": f"Basic {SECRET}"}, BODY, AuthFailure.MALFORMED),
    ("bearer-empty-token", BEARER, {"authorization": "Bearer    "}, BODY, AuthFailure.MALFORMED),
    ("bearer-wrong", BEARER, {"authorization": "Bearer wrong"}, BODY, AuthFailure.INVALID),
    ("hmac-missing-signature", HMAC_DEFAULT, {"x-timestamp": TS}, BODY, AuthFailure.MISSING),
    ("hmac-missing-timestamp", HMAC_DEFAULT, {"x-signature": GOOD_SIG}, BODY, AuthFailure.MISSING),
    (
        "hmac-bad-hex",
        HMAC_DEFAULT,
        {"x-signature": "zz" * 32, "x-timestamp": TS},
        BODY,
        AuthFailure.MALFORMED,
    ),
    ("hmac-odd-hex", HMAC_DEFAULT, {"x-signature": "abc", "x-timestamp": TS}, BODY, AuthFailure.MALFORMED),
    ("hmac-short-sig", HMAC_DEFAULT, {"x-signature": "ab", "x-timestamp": TS}, BODY, AuthFailure.INVALID),
    (
        "hmac-long-sig",
        HMAC_DEFAULT,
        {"x-signature": "ab" * 400, "x-timestamp": TS},
        BODY,
        AuthFailure.INVALID,
    ),
    (
        "hmac-wrong-secret",
        HMAC_DEFAULT,
        {"x-signature": _hmac_hex(f"{TS}.".encode() + BODY, "other"), "x-timestamp": TS},
        BODY,
        AuthFailure.INVALID,
    ),
    (
        "hmac-tampered-body",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": TS},
        BODY.replace(b"ended", b"endeD"),
        AuthFailure.INVALID,
    ),
    (
        "hmac-tampered-timestamp",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": str(int(NOW) - 1)},
        BODY,
        AuthFailure.INVALID,
    ),
    (
        "hmac-expired",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": str(int(NOW) - 301)},
        BODY,
        AuthFailure.STALE,
    ),
    (
        "hmac-future",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": str(int(NOW) + 301)},
        BODY,
        AuthFailure.FUTURE,
    ),
    (
        "hmac-expired-ms",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": str(int(NOW - 3600) * 1000)},
        BODY,
        AuthFailure.STALE,
    ),
    (
        "hmac-timestamp-text",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": "yesterday"},
        BODY,
        AuthFailure.MALFORMED,
    ),
    (
        "hmac-timestamp-nan",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": "nan"},
        BODY,
        AuthFailure.MALFORMED,
    ),
    (
        "hmac-timestamp-inf",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": "1e999"},
        BODY,
        AuthFailure.MALFORMED,
    ),
    (
        "hmac-timestamp-negative",
        HMAC_DEFAULT,
        {"x-signature": GOOD_SIG, "x-timestamp": "-5"},
        BODY,
        AuthFailure.MALFORMED,
    ),
    (
        "hmac-wrong-prefix",
        HMAC_B64_PREFIX,
        {"x-signature": "sha256=AAAA", "x-timestamp": TS},
        BODY,
        AuthFailure.MALFORMED,
    ),
    (
        "hmac-bad-base64",
        HMAC_B64_PREFIX,
        {"x-signature": "sha512=@@@@", "x-timestamp": TS},
        BODY,
        AuthFailure.MALFORMED,
    ),
    (
        "hmac-hex-where-base64",
        HMAC_B64_PREFIX,
        {"x-signature": "sha512=" + GOOD_SIG + "!", "x-timestamp": TS},
        BODY,
        AuthFailure.MALFORMED,
    ),
    (
        "hmac-sha256-where-sha1",
        HMAC_SHA1,
        {"x-signature": GOOD_SIG, "x-timestamp": TS},
        BODY,
        AuthFailure.INVALID,
    ),
    ("hmac-secret-as-signature", HMAC_BODY_ONLY, {"x-vapi-signature": SECRET}, BODY, AuthFailure.MALFORMED),
    (
        "hmac-non-ascii-signature",
        HMAC_DEFAULT,
        {"x-signature": "ü" * 64, "x-timestamp": TS},
        BODY,
        AuthFailure.MALFORMED,
    ),
]


@pytest.mark.parametrize(
    ("config", "headers", "body", "reason"),
    [case[1:] for case in NEGATIVE_CASES],
    ids=[case[0] for case in NEGATIVE_CASES],
)
def test_rejections_are_authentication_errors_with_a_reason(
    config: VapiAuthConfig, headers: dict[str, str], body: bytes, reason: AuthFailure
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        _verify(config, headers, body)
    assert caught.value.reason is reason


def test_replay_window_is_configurable_and_applies_both_ways() -> None:
    config = VapiAuthConfig(scheme=AuthScheme.HMAC, replay_window_seconds=30)
    headers = sign_request(config, BODY, SECRET, timestamp=NOW - 29)
    _verify(config, headers)
    with pytest.raises(AuthenticationError):
        _verify(config, sign_request(config, BODY, SECRET, timestamp=NOW - 31))
    with pytest.raises(AuthenticationError):
        _verify(config, sign_request(config, BODY, SECRET, timestamp=NOW + 31))


def test_timestamp_in_milliseconds_is_accepted() -> None:
    ts_ms = str(int(NOW * 1000))
    signature = _hmac_hex(f"{ts_ms}.".encode() + BODY)
    _verify(HMAC_DEFAULT, {"x-signature": signature, "x-timestamp": ts_ms})


def test_signature_list_from_a_rotating_sender_accepts_any_valid_entry() -> None:
    headers = sign_request(HMAC_DEFAULT, BODY, SECRET, timestamp=NOW)
    headers["x-signature"] = f"{'00' * 32} {headers['x-signature']}"
    _verify(HMAC_DEFAULT, headers)


def test_body_only_hmac_enforces_the_window_when_a_timestamp_is_sent() -> None:
    headers = sign_request(HMAC_BODY_ONLY, BODY, SECRET)
    _verify(HMAC_BODY_ONLY, headers)
    headers["x-timestamp"] = str(int(NOW) - 10_000)
    with pytest.raises(AuthenticationError) as caught:
        _verify(HMAC_BODY_ONLY, headers)
    assert caught.value.reason is AuthFailure.STALE


def test_base64_secret_is_decoded_before_use() -> None:
    raw_key = b"\x00\x01binary-key\xff"
    config = VapiAuthConfig(scheme=AuthScheme.HMAC, secret_is_base64=True)
    secret = base64.b64encode(raw_key).decode()
    signature = hmac.new(raw_key, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    verify_request(config, {"x-signature": signature, "x-timestamp": TS}, BODY, [secret], now=NOW)


def test_mixed_case_header_names_are_found() -> None:
    verify_request(SHARED, {"X-Vapi-Secret": SECRET}, BODY, [SECRET], now=NOW)


def test_empty_secret_list_fails_closed() -> None:
    with pytest.raises(AuthenticationError):
        verify_request(SHARED, {"x-vapi-secret": ""}, BODY, [], now=NOW)


@pytest.mark.parametrize("bad_format", ["{timestamp}", "{body}.{url}", "{svix-id}.{body}"])
def test_unsupported_payload_formats_are_rejected_at_configuration(bad_format: str) -> None:
    with pytest.raises(ValueError):
        VapiAuthConfig(scheme=AuthScheme.HMAC, payload_format=bad_format)


_header_text = st.text(max_size=300)


@given(
    config=st.sampled_from(ALL_CONFIGS),
    headers=st.dictionaries(
        st.sampled_from(["x-vapi-secret", "authorization", "x-signature", "x-timestamp", "x-vapi-signature"]),
        _header_text,
    ),
    body=st.binary(max_size=512),
)
def test_any_forged_input_raises_only_authentication_error(
    config: VapiAuthConfig, headers: dict[str, str], body: bytes
) -> None:
    try:
        verify_request(config, headers, body, [SECRET], now=NOW)
    except AuthenticationError:
        return
    # Accepting is only possible if the fuzzer produced the real token; an HMAC can't be guessed.
    assert config.scheme is not AuthScheme.HMAC
    assert SECRET in "".join(headers.values())


@given(
    body=st.binary(max_size=2048),
    secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=64),
)
def test_signer_and_verifier_agree_for_any_body_and_secret(body: bytes, secret: str) -> None:
    for config in (HMAC_DEFAULT, HMAC_B64_PREFIX, BEARER):
        verify_request(config, sign_request(config, body, secret, timestamp=NOW), body, [secret], now=NOW)
