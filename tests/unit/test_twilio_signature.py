"""Signature quirks, one by one, against twilio's own RequestValidator (requests signed as a client)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.twilio_support import CALLER, fixture_params, sign, status_params
from voicetrail.errors import AuthFailure, BadRequestError
from voicetrail.providers.twilio.signature import (
    FormParams,
    normalize_base_url,
    parse_form,
    public_url,
    signature_algorithm,
    verify,
)

pytestmark = pytest.mark.unit
TOKEN = "12345"


def test_twilio_documented_vector() -> None:
    # Twilio's published example: token 12345, this URL and these params -> this signature.
    params = FormParams(
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
    )
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert (
        verify(
            url=url,
            params=params,
            signature="RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            algorithm="HMAC_SHA1",
            tokens=[TOKEN],
        )
        is None
    )


def test_blank_values_are_kept_and_signed() -> None:
    pairs = fixture_params("status-completed.json")
    body = urlencode(pairs).encode()
    params = parse_form(body)
    assert params["CallerCity"] == ""
    url = "https://hooks.example.com/twilio/status"
    assert (
        verify(
            url=url, params=params, signature=sign(url, pairs, TOKEN), algorithm="HMAC_SHA1", tokens=[TOKEN]
        )
        is None
    )
    # What a naive parser does (drops blanks) breaks the signature: the reason keep_blank_values matters.
    dropped = FormParams([(k, v) for k, v in pairs if v])
    assert (
        verify(
            url=url, params=dropped, signature=sign(url, pairs, TOKEN), algorithm="HMAC_SHA1", tokens=[TOKEN]
        )
        is AuthFailure.INVALID
    )


def test_repeated_keys_are_all_signed() -> None:
    pairs = [("CallSid", "CA" + "a" * 32), ("Tag", "b"), ("Tag", "a")]
    params = parse_form(urlencode(pairs).encode())
    assert params.getall("Tag") == ["b", "a"]
    url = "https://h.example.com/twilio/status"
    assert (
        verify(
            url=url, params=params, signature=sign(url, pairs, TOKEN), algorithm="HMAC_SHA1", tokens=[TOKEN]
        )
        is None
    )


@pytest.mark.parametrize(
    ("base", "path", "query", "expected"),
    [
        ("https://hooks.example.com", "/twilio/status", "", "https://hooks.example.com/twilio/status"),
        (
            "https://hooks.example.com/",
            "/twilio/status",
            "a=1&b=",
            "https://hooks.example.com/twilio/status?a=1&b=",
        ),
        # connection overrides are a fragment, never signed
        (
            "https://hooks.example.com#rc=3&rp=5xx,rt",
            "/twilio/status",
            "",
            "https://hooks.example.com/twilio/status",
        ),
        # custom domain with an API mapping: the mapping key is in the configured URL, not in rawPath
        (
            "https://hooks.example.com/voice",
            "/twilio/status",
            "",
            "https://hooks.example.com/voice/twilio/status",
        ),
        # ... or also in rawPath: not repeated
        (
            "https://hooks.example.com/voice",
            "/voice/twilio/status",
            "",
            "https://hooks.example.com/voice/twilio/status",
        ),
        # non-default stage: HTTP API puts the stage in rawPath
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
            "/prod/twilio/status",
            "",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/twilio/status",
        ),
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com",
            "/prod/twilio/status",
            "",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/twilio/status",
        ),
        # a prefix that only looks similar is not shared
        (
            "https://h.example.com/pro",
            "/prod/twilio/status",
            "",
            "https://h.example.com/pro/prod/twilio/status",
        ),
        ("https://h.example.com:8443", "/twilio/status", "", "https://h.example.com:8443/twilio/status"),
    ],
)
def test_public_url(base: str, path: str, query: str, expected: str) -> None:
    assert public_url(base, path, query) == expected


def test_normalize_base_url() -> None:
    assert normalize_base_url(" https://h.example.com/voice/#ct=100 ") == "https://h.example.com/voice"


@pytest.mark.parametrize(
    ("signed_url", "configured_base"),
    [
        ("https://hooks.example.com:443/twilio/status", "https://hooks.example.com"),
        ("https://hooks.example.com/twilio/status", "https://hooks.example.com:443"),
        ("http://hooks.example.com:80/twilio/status", "http://hooks.example.com"),
    ],
)
def test_port_variants_validate(signed_url: str, configured_base: str) -> None:
    pairs = status_params("CA" + "b" * 32, "ringing", 1, ts=1_764_079_300)
    url = public_url(configured_base, "/twilio/status", "")
    params = FormParams(pairs)
    assert (
        verify(
            url=url,
            params=params,
            signature=sign(signed_url, pairs, TOKEN),
            algorithm="HMAC_SHA1",
            tokens=[TOKEN],
        )
        is None
    )


@pytest.mark.parametrize(
    "signed_url",
    [
        "http://hooks.example.com/twilio/status",  # scheme differs
        "https://hooks.example.com/twilio/status#rc=2",  # Twilio never signs the fragment
        "https://hooks.example.com/twilio/status?x=1",  # query differs
        "https://other.example.com/twilio/status",
    ],
)
def test_other_urls_do_not_validate(signed_url: str) -> None:
    pairs = status_params("CA" + "b" * 32, "ringing", 1, ts=1_764_079_300)
    url = public_url("https://hooks.example.com", "/twilio/status", "")
    result = verify(
        url=url,
        params=FormParams(pairs),
        signature=sign(signed_url, pairs, TOKEN),
        algorithm="HMAC_SHA1",
        tokens=[TOKEN],
    )
    assert result is AuthFailure.INVALID


def test_rotation_any_active_token() -> None:
    pairs = status_params("CA" + "c" * 32, "completed", 3, ts=1_764_079_300, duration=10)
    url = "https://hooks.example.com/twilio/status"
    for token in ("old-token", "new-token"):
        signature = sign(url, pairs, token)
        assert (
            verify(
                url=url,
                params=FormParams(pairs),
                signature=signature,
                algorithm="HMAC_SHA1",
                tokens=["new-token", "old-token"],
            )
            is None
        )
    assert (
        verify(
            url=url,
            params=FormParams(pairs),
            signature=sign(url, pairs, "retired"),
            algorithm="HMAC_SHA1",
            tokens=["new-token", "old-token"],
        )
        is AuthFailure.INVALID
    )


def test_missing_signature() -> None:
    assert (
        verify(url="https://h/x", params=FormParams([]), signature="", algorithm="HMAC_SHA1", tokens=[TOKEN])
        is AuthFailure.MISSING
    )


def test_hmac_sha256_signature_settings() -> None:
    pairs = status_params("CA" + "d" * 32, "ringing", 1, ts=1_764_079_300)
    url = "https://hooks.example.com/twilio/status"
    headers = {"x-twilio-webhooks-signature-settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"}
    algorithm = signature_algorithm(headers)
    assert algorithm == "HMAC_SHA256"
    sig = sign(url, pairs, TOKEN, "HMAC_SHA256")
    assert (
        verify(url=url, params=FormParams(pairs), signature=sig, algorithm=algorithm, tokens=[TOKEN]) is None
    )
    assert signature_algorithm({}) == "HMAC_SHA1"
    assert signature_algorithm({"x-twilio-webhooks-signature-settings": "algorithm=ROT13"}) is None


@pytest.mark.parametrize("body", [b"\xff\xfe", b"a=1&&=&b", b"no-equals-sign"])
def test_malformed_forms_are_bad_requests(body: bytes) -> None:
    with pytest.raises(BadRequestError):
        parse_form(body)


def test_empty_body_is_an_empty_form() -> None:
    assert len(parse_form(b"")) == 0


def test_numbers_in_forms_are_plus_safe() -> None:
    # A raw '+' in a form means a space; Twilio percent-encodes it. Both must parse to what was signed.
    assert parse_form(urlencode([("From", CALLER)]).encode())["From"] == CALLER
