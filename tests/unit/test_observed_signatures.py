"""The Retell and ElevenLabs verifiers, one contract: genuine, rotated, forged, tampered, stale, future and
every broken header shape, each platform's official SDK as the oracle.

What we sign the SDK accepts, and we never accept what it refuses, except where a platform's row says we
are deliberately stricter or wider:

* Retell (`retell.lib.webhook_auth`, header `v=<ms>,d=<hex>`): stricter only (ASCII digits only), so the
  implication runs one way;
* ElevenLabs (`elevenlabs.webhooks_custom.WebhooksClient.construct_event`, header `t=<s>,v0=<hex>`): a
  timestamp in the future (the SDK accepts any; we allow FUTURE_SKEW_SECONDS), and a valid `v0` that is not
  the last of several (we accept any valid one; the SDK reads the last).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from unittest import mock

import pytest
from elevenlabs.errors import BadRequestError
from elevenlabs.webhooks_custom import WebhooksClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from retell.lib import webhook_auth

from voicetrail.errors import AuthenticationError, AuthFailure
from voicetrail.providers.elevenlabs import signature as elevenlabs
from voicetrail.providers.retell import signature as retell

pytestmark = pytest.mark.unit

NOW = 1_764_979_200.0
NOW_MS = int(NOW * 1000)
T = int(NOW)

Headers = dict[str, Any]
Case = tuple[str, Headers, bytes, AuthFailure]


@dataclass(frozen=True)
class Contract:
    """One platform's verifier as the contract tests see it. Timestamps move in `ticks` (Retell: ms,
    ElevenLabs: s) from NOW; the window is `back` ticks into the past and `forward` into the future."""

    name: str
    header: str
    body: bytes
    key: str
    old_key: str
    verify: Callable[..., None]
    sign_at: Callable[[bytes, str, int], Headers]  # (body, key, ticks from NOW)
    back: int
    forward: int
    sdk_accepts: Callable[[bytes, str, str], bool]  # (body, key, header) at NOW
    sdk_comparable: Callable[[str], bool]  # the headers whose verdict must imply the SDK's
    sdk_out_of_window: Callable[[int], bool | None]  # the SDK's verdict on a genuine signature, or None
    near_miss_alphabet: str
    structured: Callable[[int, str], str]  # (ticks from NOW, digest) -> header
    bodies: st.SearchStrategy[bytes]
    tolerated: tuple[Headers, ...]  # accepted though not exactly what the platform sends

    def good(self) -> str:
        return str(self.sign_at(self.body, self.key, 0)[self.header])


def _hex(message: bytes, key: str) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


# ---- Retell --------------------------------------------------------------------------------------------

_retell_sdk_verify = cast(Any, webhook_auth.symmetric["verify"])
_retell_sdk_sign = cast(Any, webhook_auth.symmetric["sign"])
RETELL_BODY = b'{"event":"call_ended","call":{"call_id":"Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"}}'
RETELL_KEY = "key_d8e2f0a1b3c4d5e6f7a8b9c0d1e2"
RH = retell.SIGNATURE_HEADER


def _retell_sdk_accepts(body: bytes, key: str, header: str) -> bool:
    return bool(_retell_sdk_verify(body.decode("utf-8"), key, header, {"timestamp": NOW_MS}))


RETELL = Contract(
    name="retell",
    header=RH,
    body=RETELL_BODY,
    key=RETELL_KEY,
    old_key="key_0123456789abcdef0123456789ab",
    verify=retell.verify,
    sign_at=lambda body, key, ticks: retell.sign(body, key, timestamp_ms=NOW_MS + ticks),
    back=retell.REPLAY_WINDOW_MS,
    forward=retell.REPLAY_WINDOW_MS,
    sdk_accepts=_retell_sdk_accepts,
    sdk_comparable=lambda header: True,
    sdk_out_of_window=lambda ticks: False,
    near_miss_alphabet="v=d,0123456789abcdefABCDEF -\t",
    structured=lambda ticks, digest: f"v={NOW_MS + ticks},d={digest}",
    bodies=st.text(max_size=400).map(lambda s: s.encode("utf-8")),
    tolerated=({"X-Retell-Signature": "  {good}\t"},),
)
_RG = RETELL.good()
_RD = _RG.split(",d=")[1]
_TS = str(NOW_MS)
RETELL_CASES: list[Case] = [
    ("missing", {}, RETELL_BODY, AuthFailure.MISSING),
    ("empty", {RH: ""}, RETELL_BODY, AuthFailure.MISSING),
    ("blank", {RH: "   \t"}, RETELL_BODY, AuthFailure.MISSING),
    ("not-text", {RH: ["v=1,d=2"]}, RETELL_BODY, AuthFailure.MISSING),
    ("wrong-header", {"x-retell-sig": _RG}, RETELL_BODY, AuthFailure.MISSING),
    ("body-only-legacy-form", {RH: _hex(RETELL_BODY, RETELL_KEY)}, RETELL_BODY, AuthFailure.MALFORMED),
    (
        "body-only-digest-with-timestamp",
        {RH: f"v={_TS},d={_hex(RETELL_BODY, RETELL_KEY)}"},
        RETELL_BODY,
        AuthFailure.INVALID,
    ),
    ("v-only", {RH: f"v={_TS}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("d-only", {RH: f"d={_RD}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("swapped-order", {RH: f"d={_RD},v={_TS}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("prefix", {RH: f"sha256={_RG}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("suffix", {RH: f"{_RG}-x"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("extra-part", {RH: f"{_RG},x=1"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("duplicated-header-joined", {RH: f"{_RG},{_RG}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("space-inside", {RH: f"v={_TS}, d={_RD}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("upper-hex", {RH: f"v={_TS},d={_RD.upper()}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("short-digest", {RH: f"v={_TS},d={_RD[2:]}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("long-digest", {RH: f"v={_TS},d={_RD}00"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("not-hex", {RH: f"v={_TS},d={'z' * 64}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("negative-ts", {RH: f"v=-{_TS},d={_RD}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("float-ts", {RH: f"v={_TS}.5,d={_RD}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("arabic-indic-digits", {RH: f"v=١٧٦٤,d={_RD}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("huge-ts", {RH: f"v={'9' * 400},d={_RD}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("very-long", {RH: "v=" + "1" * 5000}, RETELL_BODY, AuthFailure.MALFORMED),
    ("non-ascii", {RH: "v=ü,d=☃"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("surrogates", {RH: "\udcff\udcfe"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("nul", {RH: f"v={_TS}\x00,d={_RD}"}, RETELL_BODY, AuthFailure.MALFORMED),
    ("seconds-not-ms", {RH: f"v={int(NOW)},d={_RD}"}, RETELL_BODY, AuthFailure.STALE),
    ("zero-ts", {RH: f"v=0,d={_RD}"}, RETELL_BODY, AuthFailure.STALE),
    ("wrong-digest", {RH: f"v={_TS},d={'0' * 64}"}, RETELL_BODY, AuthFailure.INVALID),
    ("tampered-body", {RH: _RG}, RETELL_BODY.replace(b"call_ended", b"call_endeD"), AuthFailure.INVALID),
    ("body-with-trailing-space", {RH: _RG}, RETELL_BODY + b" ", AuthFailure.INVALID),
    ("empty-body", {RH: _RG}, b"", AuthFailure.INVALID),
    ("other-timestamp-same-digest", {RH: f"v={NOW_MS + 1},d={_RD}"}, RETELL_BODY, AuthFailure.INVALID),
    (
        "wrong-key",
        retell.sign(RETELL_BODY, "another-key", timestamp_ms=NOW_MS),
        RETELL_BODY,
        AuthFailure.INVALID,
    ),
]

# ---- ElevenLabs ----------------------------------------------------------------------------------------

# construct_event uses no client state: skip the HTTP client wrapper the constructor wants.
_ELEVENLABS_SDK = object.__new__(WebhooksClient)
ELEVENLABS_BODY = (
    b'{"type":"post_call_transcription","event_timestamp":1764979190,"data":{"conversation_id":"conv_1"}}'
)
ELEVENLABS_KEY = "wsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
EH = elevenlabs.SIGNATURE_HEADER


def _elevenlabs_sdk_accepts(body: bytes, key: str, header: str) -> bool:
    with mock.patch("elevenlabs.webhooks_custom.time.time", return_value=NOW):
        try:
            _ELEVENLABS_SDK.construct_event(body.decode("utf-8"), header, key)
        except (BadRequestError, ValueError):  # ValueError: the SDK's int() on a non-numeric `t`
            return False
    return True


ELEVENLABS = Contract(
    name="elevenlabs",
    header=EH,
    body=ELEVENLABS_BODY,
    key=ELEVENLABS_KEY,
    old_key="wsec_00112233445566778899aabbccddeeff",
    verify=elevenlabs.verify,
    sign_at=lambda body, key, ticks: elevenlabs.sign(body, key, timestamp=T + ticks),
    back=elevenlabs.MAX_AGE_SECONDS,
    forward=elevenlabs.FUTURE_SKEW_SECONDS,
    sdk_accepts=_elevenlabs_sdk_accepts,
    sdk_comparable=lambda header: header.count("v0=") == 1,
    # Stale: the SDK refuses too. Beyond our future skew: the SDK accepts (we are stricter).
    sdk_out_of_window=lambda ticks: False if ticks < 0 else None,
    near_miss_alphabet="tv0=,0123456789abcdefABCDEF -+_",
    structured=lambda ticks, digest: f"t={T + ticks},v0={digest}",
    bodies=st.dictionaries(st.text(max_size=10), st.text(max_size=60), max_size=5).map(
        lambda data: json.dumps(
            {"type": "post_call_transcription", "data": data}, ensure_ascii=False
        ).encode()
    ),
    tolerated=({"ElevenLabs-Signature": " {good},v1=abc "},),
)
_EG = ELEVENLABS.good()
_ED = _EG.split(",v0=")[1]
ELEVENLABS_CASES: list[Case] = [
    ("missing", {}, ELEVENLABS_BODY, AuthFailure.MISSING),
    ("empty", {EH: ""}, ELEVENLABS_BODY, AuthFailure.MISSING),
    ("blank", {EH: "  "}, ELEVENLABS_BODY, AuthFailure.MISSING),
    ("not-text", {EH: 12}, ELEVENLABS_BODY, AuthFailure.MISSING),
    ("other-header", {"x-elevenlabs-signature": _EG}, ELEVENLABS_BODY, AuthFailure.MISSING),
    ("bare-digest", {EH: _ED}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("t-only", {EH: f"t={T}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("v0-only", {EH: f"v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("two-timestamps", {EH: f"t={T},t={T},v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("duplicated-header-joined", {EH: f"{_EG},{_EG}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("v1-only", {EH: f"t={T},v1={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("space-after-comma", {EH: f"t={T}, v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("upper-hex", {EH: f"t={T},v0={_ED.upper()}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("short-digest", {EH: f"t={T},v0={_ED[1:]}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("one-bad-v0-of-two", {EH: f"{_EG},v0=xyz"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("signed-ts", {EH: f"t=+{T},v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("underscore-ts", {EH: f"t=1_764_979_200,v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("spaced-ts", {EH: f"t= {T},v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("word-ts", {EH: f"t=now,v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("empty-ts", {EH: f"t=,v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("thai-digits", {EH: f"t=๑๗๖๔,v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("too-many-parts", {EH: _EG + ",x=1" * 20}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("very-long", {EH: "t=" + "1" * 5000}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("only-commas", {EH: ",,,"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    ("surrogates", {EH: "t=\udcff,v0=\udcfe"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    (
        "stale",
        elevenlabs.sign(ELEVENLABS_BODY, ELEVENLABS_KEY, timestamp=T - 3600),
        ELEVENLABS_BODY,
        AuthFailure.STALE,
    ),
    ("zero-ts", {EH: f"t=0,v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.STALE),
    ("ms-instead-of-s", {EH: f"t={T * 1000},v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.MALFORMED),
    (
        "an-hour-ahead",
        elevenlabs.sign(ELEVENLABS_BODY, ELEVENLABS_KEY, timestamp=T + 3600),
        ELEVENLABS_BODY,
        AuthFailure.FUTURE,
    ),
    ("wrong-digest", {EH: f"t={T},v0={'0' * 64}"}, ELEVENLABS_BODY, AuthFailure.INVALID),
    ("other-t-same-digest", {EH: f"t={T - 1},v0={_ED}"}, ELEVENLABS_BODY, AuthFailure.INVALID),
    ("tampered-body", {EH: _EG}, ELEVENLABS_BODY.replace(b"conv_1", b"conv_2"), AuthFailure.INVALID),
    (
        "body-only-digest",
        {EH: f"t={T},v0={_hex(ELEVENLABS_BODY, ELEVENLABS_KEY)}"},
        ELEVENLABS_BODY,
        AuthFailure.INVALID,
    ),
    (
        "wrong-key",
        elevenlabs.sign(ELEVENLABS_BODY, "not-the-secret", timestamp=T),
        ELEVENLABS_BODY,
        AuthFailure.INVALID,
    ),
]

CONTRACTS = {c.name: c for c in (RETELL, ELEVENLABS)}
NEGATIVE_CASES = [(RETELL, *case) for case in RETELL_CASES] + [
    (ELEVENLABS, *case) for case in ELEVENLABS_CASES
]


@pytest.fixture(params=sorted(CONTRACTS))
def contract(request: pytest.FixtureRequest) -> Contract:
    return CONTRACTS[request.param]


def _ours_accepts(
    c: Contract, headers: Headers, body: bytes | None = None, keys: tuple[str, ...] = ()
) -> bool:
    try:
        c.verify(headers, c.body if body is None else body, keys or (c.key,), now=NOW)
    except AuthenticationError:
        return False
    return True


def _reason(
    c: Contract, headers: Headers, body: bytes | None = None, keys: tuple[str, ...] | None = None
) -> AuthFailure:
    with pytest.raises(AuthenticationError) as caught:
        c.verify(headers, c.body if body is None else body, (c.key,) if keys is None else keys, now=NOW)
    return caught.value.reason


# ---- the contract, for both platforms ---------------------------------------------------------------------


def test_genuine_request_is_accepted_and_the_sdk_agrees(contract: Contract) -> None:
    headers = contract.sign_at(contract.body, contract.key, 0)
    contract.verify(headers, contract.body, [contract.key], now=NOW)
    assert contract.sdk_accepts(contract.body, contract.key, headers[contract.header])


def test_rotation_accepts_any_active_key_and_nothing_else(contract: Contract) -> None:
    headers = contract.sign_at(contract.body, contract.old_key, 0)
    contract.verify(headers, contract.body, [contract.key, contract.old_key], now=NOW)
    assert _reason(contract, headers) is AuthFailure.INVALID


def test_the_window_is_inclusive_at_both_ends(contract: Contract) -> None:
    assert _ours_accepts(contract, contract.sign_at(contract.body, contract.key, -contract.back))
    assert _ours_accepts(contract, contract.sign_at(contract.body, contract.key, contract.forward))
    stale = contract.sign_at(contract.body, contract.key, -contract.back - 1)
    assert _reason(contract, stale) is AuthFailure.STALE
    future = contract.sign_at(contract.body, contract.key, contract.forward + 1)
    assert _reason(contract, future) is AuthFailure.FUTURE


@pytest.mark.parametrize(
    ("c", "headers", "body", "reason"),
    [(c, h, b, r) for c, _, h, b, r in NEGATIVE_CASES],
    ids=[f"{c.name}-{name}" for c, name, *_ in NEGATIVE_CASES],
)
def test_every_bad_request_is_a_401_with_its_reason(
    c: Contract, headers: Headers, body: bytes, reason: AuthFailure
) -> None:
    assert _reason(c, headers, body) is reason


def test_no_active_key_fails_closed(contract: Contract) -> None:
    assert _reason(contract, contract.sign_at(contract.body, contract.key, 0), keys=()) is AuthFailure.INVALID


def test_what_the_platform_may_add_around_a_genuine_header_is_tolerated(contract: Contract) -> None:
    good = contract.good()
    for headers in contract.tolerated:
        assert _ours_accepts(contract, {k: v.format(good=good) for k, v in headers.items()})


def _headers_of(c: Contract) -> st.SearchStrategy[str]:
    good = c.good()
    near_misses = st.builds(
        lambda cut, insert, pos: good[:pos] + insert + good[pos + cut :],
        st.integers(0, 3),
        st.text(alphabet=c.near_miss_alphabet, max_size=4),
        st.integers(0, len(good)),
    )
    structured = st.builds(
        c.structured,
        st.integers(-2 * c.back, 2 * c.forward),
        st.text(alphabet="0123456789abcdef", min_size=62, max_size=66),
    )
    return st.one_of(st.text(max_size=300), near_misses, structured)


@pytest.mark.parametrize("c", [RETELL, ELEVENLABS], ids=lambda c: c.name)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_header_is_accepted_only_if_the_sdk_accepts_it_and_never_raises(
    c: Contract, data: st.DataObject
) -> None:
    header = data.draw(st.one_of(st.just(c.good()), _headers_of(c)), label="header")
    if _ours_accepts(c, {c.header: header}) and c.sdk_comparable(header):
        assert c.sdk_accepts(c.body, c.key, header.strip())


@pytest.mark.parametrize("c", [RETELL, ELEVENLABS], ids=lambda c: c.name)
@settings(max_examples=150)
@given(data=st.data(), key=st.text(min_size=1, max_size=64))
def test_genuine_signatures_verify_with_both_us_and_the_sdk(
    c: Contract, data: st.DataObject, key: str
) -> None:
    body = data.draw(c.bodies, label="body")
    ticks = data.draw(st.integers(-c.back, c.forward), label="ticks")
    headers = c.sign_at(body, key, ticks)
    c.verify(headers, body, [key], now=NOW)
    assert c.sdk_accepts(body, key, headers[c.header])


@pytest.mark.parametrize("c", [RETELL, ELEVENLABS], ids=lambda c: c.name)
@settings(max_examples=150)
@given(flip=st.integers(0, 10_000), data=st.data())
def test_tampered_or_out_of_window_requests_are_refused(c: Contract, flip: int, data: st.DataObject) -> None:
    ticks = data.draw(st.integers(-10 * c.back, 10 * c.forward), label="ticks")
    headers = c.sign_at(c.body, c.key, ticks)
    position = flip % len(c.body)
    tampered = c.body[:position] + bytes([c.body[position] ^ 0x01]) + c.body[position + 1 :]
    assert not _ours_accepts(c, headers, tampered)
    in_window = -c.back <= ticks <= c.forward
    assert _ours_accepts(c, headers) is in_window
    sdk = True if in_window else c.sdk_out_of_window(ticks)
    if sdk is not None:
        assert c.sdk_accepts(c.body, c.key, headers[c.header]) is sdk


# ---- what only one platform has ---------------------------------------------------------------------------


def test_retell_the_sdk_signer_produces_a_header_we_accept() -> None:
    header = _retell_sdk_sign(RETELL_BODY.decode(), RETELL_KEY, NOW_MS)
    retell.verify({"X-Retell-Signature": header}, RETELL_BODY, [RETELL_KEY], now=NOW)


@settings(max_examples=100)
@given(body=st.text(max_size=400).map(lambda s: s.encode("utf-8")), key=st.text(min_size=1, max_size=64))
@example(body=RETELL_BODY, key=RETELL_KEY)
def test_retell_sdk_signatures_verify(body: bytes, key: str) -> None:
    header = _retell_sdk_sign(body.decode("utf-8"), key, NOW_MS)
    retell.verify({RH: header}, body, [key], now=NOW)


def test_elevenlabs_the_documented_algorithm_is_what_we_sign() -> None:
    # elevenlabs.io docs: hex HMAC-SHA256 of `timestamp.request_body`, header `t=timestamp,v0=hash`.
    signed = elevenlabs.sign(ELEVENLABS_BODY, ELEVENLABS_KEY, timestamp=T)
    assert signed == {EH: f"t={T},v0={_hex(f'{T}.'.encode() + ELEVENLABS_BODY, ELEVENLABS_KEY)}"}


def test_elevenlabs_several_v0_values_any_valid_one_authenticates() -> None:
    good = ELEVENLABS.good().split(",")[1]
    other = elevenlabs.sign(ELEVENLABS_BODY, ELEVENLABS.old_key, timestamp=T)[EH].split(",")[1]
    assert _ours_accepts(ELEVENLABS, {EH: f"t={T},{good},{other}"})
    assert _ours_accepts(ELEVENLABS, {EH: f"t={T},{other},{good}"})
    assert _reason(ELEVENLABS, {EH: f"t={T},{other},{other}"}) is AuthFailure.INVALID


def test_elevenlabs_far_future_is_where_we_are_stricter_than_the_sdk() -> None:
    far_future = elevenlabs.sign(
        ELEVENLABS_BODY, ELEVENLABS_KEY, timestamp=T + elevenlabs.FUTURE_SKEW_SECONDS + 1
    )
    assert _reason(ELEVENLABS, far_future) is AuthFailure.FUTURE
    assert _elevenlabs_sdk_accepts(ELEVENLABS_BODY, ELEVENLABS_KEY, far_future[EH])
