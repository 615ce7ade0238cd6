"""Fuzzing both endpoints through the real handlers (moto): whatever an authentic sender puts in a signed
body, the answer is 200 or a clear 4xx, never a 500, and never echoes the body; whatever shape a signature
header takes, an unsigned or forged request is a 401."""

from __future__ import annotations

import json
import time
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FakeContext, function_env, http_event, load_fixture, load_function
from voicetrail.providers.elevenlabs.signature import SIGNATURE_HEADER as ELEVENLABS_HEADER
from voicetrail.providers.elevenlabs.signature import sign as sign_elevenlabs
from voicetrail.providers.retell.signature import SIGNATURE_HEADER as RETELL_HEADER
from voicetrail.providers.retell.signature import sign as sign_retell

pytestmark = pytest.mark.integration

KEY = "fuzz-key"
ENV = {
    "RETELL_API_KEY_REF": "env:FUZZ_KEY",
    "ELEVENLABS_WEBHOOK_SECRET_REF": "env:FUZZ_KEY",
    "FUZZ_KEY": KEY,
}
SEEDS = {
    "retell": [
        load_fixture(f"retell/{n}.json") for n in ("call_analyzed", "transcript_updated", "transfer_started")
    ],
    "elevenlabs": [
        load_fixture(f"elevenlabs/{n}.json")
        for n in ("post_call_transcription", "call_initiation_failure_twilio")
    ],
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def mutated(draw: st.DrawFn, platform: str) -> dict[str, Any]:
    """A documented payload with one value somewhere replaced by anything JSON can hold."""
    payload = json.loads(json.dumps(draw(st.sampled_from(SEEDS[platform]))))
    node: Any = payload
    for _ in range(draw(st.integers(0, 4))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if isinstance(node[key], dict | list) and node[key]:
                node = node[key]
                continue
            node[key] = draw(json_values)
            return payload
        if isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            if isinstance(node[index], dict | list) and node[index]:
                node = node[index]
                continue
            node[index] = draw(json_values)
            return payload
    if isinstance(node, dict):
        node[draw(st.text(max_size=12))] = draw(json_values)
    return payload


def _handler(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function(f"{name}_webhook", function_env(**ENV), monkeypatch)


def _send(module: ModuleType, name: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    event = http_event(
        f"/{name}/webhook", body, {"content-type": "application/json", **headers}, base64_body=True
    )
    result: dict[str, Any] = module.lambda_handler(event, FakeContext())
    return result


def _signed(name: str, body: bytes) -> dict[str, str]:
    if name == "retell":
        return sign_retell(body, KEY, timestamp_ms=int(time.time() * 1000))
    return sign_elevenlabs(body, KEY, timestamp=int(time.time()))


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", ["retell", "elevenlabs"])
def test_any_signed_body_is_answered_200_or_a_clear_4xx(
    name: str, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _handler(name, monkeypatch)

    @FUZZ
    @given(
        payload=st.one_of(
            mutated(name), json_values.map(lambda v: {"event": v, "type": v, "data": v, "call": v})
        )
    )
    def check(payload: Any) -> None:
        body = json.dumps(payload).encode()
        response = _send(module, name, body, _signed(name, body))
        assert response["statusCode"] in (200, 400), response
        if response["statusCode"] == 400:
            assert json.loads(response["body"])["error"] == "bad_request"

    check()


@pytest.mark.parametrize("name", ["retell", "elevenlabs"])
def test_any_raw_bytes_signed_never_make_a_500(
    name: str, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _handler(name, monkeypatch)

    @FUZZ
    @given(body=st.binary(max_size=300))
    def check(body: bytes) -> None:
        assert _send(module, name, body, _signed(name, body))["statusCode"] in (200, 400)

    check()


@pytest.mark.parametrize(("name", "header"), [("retell", RETELL_HEADER), ("elevenlabs", ELEVENLABS_HEADER)])
def test_any_signature_header_that_is_not_ours_is_a_401(
    name: str, header: str, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _handler(name, monkeypatch)
    body = json.dumps(SEEDS[name][0]).encode()

    @FUZZ
    @given(value=st.text(max_size=200).filter(lambda v: "\n" not in v and "\r" not in v))
    def check(value: str) -> None:
        response = _send(module, name, body, {header: value})
        assert response["statusCode"] == 401
        # The fixed answer, whatever was sent: nothing of the header comes back.
        assert json.loads(response["body"]) == {
            "error": "unauthorized",
            "message": "missing or invalid credentials",
        }

    check()
