"""Issue 25's failure classes, each through the real Lambda handler against moto: hostile input gets a 2xx
or a clear 4xx, never a 5xx (a permanent failure answered "retry" starts a retry storm), and never a
second partition for one call."""

from __future__ import annotations

import json
import os
import random
import string
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import (
    TABLE,
    TWILIO_TOKEN,
    VAPI_SECRET,
    FakeContext,
    function_env,
    http_event,
    load_fixture,
    load_function,
)
from tests.twilio_support import fixture_params, new_call_sid, signed_form

pytestmark = pytest.mark.integration
BASE = "https://hooks.example.com"


@pytest.fixture
def vapi(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("vapi_webhook", function_env(), monkeypatch)


@pytest.fixture
def twilio(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("twilio_status", function_env(), monkeypatch)


def post_vapi(fn: ModuleType, body: bytes) -> dict[str, Any]:
    headers = {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"}
    result: dict[str, Any] = fn.lambda_handler(http_event("/vapi/webhook", body, headers), FakeContext())
    return result


def post_twilio(fn: ModuleType, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    body, headers = signed_form(f"{BASE}/twilio/status", pairs, TWILIO_TOKEN)
    event = http_event("/twilio/status", body, headers, base64_body=True)
    result: dict[str, Any] = fn.lambda_handler(event, FakeContext())
    return result


def _eocr(**changes: Any) -> dict[str, Any]:
    document = load_fixture("vapi/end-of-call-report.json")
    document["message"].update(changes)
    return document


def _transcript(**changes: Any) -> dict[str, Any]:
    document = load_fixture("vapi/transcript-final-user.json")
    document["message"].update(changes)
    return document


def _with_call_id(document: dict[str, Any], call_id: str) -> dict[str, Any]:
    document["message"]["call"] = {**document["message"].get("call", {}), "id": call_id}
    return document


def _deep_text(depth: int) -> str:
    return '{"a":' * depth + '"leaf"' + "}" * depth


def _deep_body(depth: int) -> str:
    text = json.dumps(_transcript(metadata="DEEP"))
    return text.replace('"DEEP"', _deep_text(depth))


def _random_text(size: int, seed: int = 25) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + " ") for _ in range(size))


# Raw JSON text: `json.dumps` writes NaN/Infinity literals and lone surrogates as \ud800 escapes, exactly
# what a careless sender puts on the wire.
VAPI_CASES: dict[str, Any] = {
    "cost NaN": lambda: _eocr(cost=float("nan")),
    "cost Infinity": lambda: _eocr(cost=float("inf")),
    "durationSeconds -Infinity": lambda: _eocr(durationSeconds=float("-inf")),
    "cost 1e400": lambda: json.dumps(_eocr(cost=0.5)).replace('"cost": 0.5', '"cost": 1e400'),
    "cost 1e200 (a double DynamoDB cannot hold)": lambda: _eocr(cost=1e200),
    "cost 1e-200": lambda: _eocr(cost=1e-200),
    "call id of 1000 chars": lambda: _with_call_id(_transcript(), "c" * 1000),
    "call id of 3000 chars": lambda: _with_call_id(_transcript(), "c" * 3000),
    "type of 2000 chars": lambda: _transcript(type="t" * 2000),
    "role of 2000 chars": lambda: _transcript(role="r" * 2000),
    "status of 2000 chars": lambda: {
        "message": {**load_fixture("vapi/status-update.json")["message"], "status": "s" * 2000}
    },
    "campaignId of 1500 chars": lambda: {
        "message": {"type": "campaign.predial", "campaignId": "k" * 1500, "contact": {"id": "x"}}
    },
    "toolCallList of 300 ids": lambda: {
        "message": {
            **load_fixture("vapi/tool-calls.json")["message"],
            "toolCallList": [
                {"id": f"call_{i:04d}_abcdefghijklmnopqrstuvwxyz", "function": {"name": "f", "arguments": {}}}
                for i in range(300)
            ],
        }
    },
    "1 MB of random text in a transcript": lambda: _transcript(transcript=_random_text(1_000_000)),
    "lone surrogate in transcript": lambda: _transcript(transcript="hello \ud800 there"),
    "lone surrogate in type": lambda: _transcript(type="transcript\udfff"),
    "lone surrogate in call.id": lambda: _with_call_id(_transcript(), "call-\ud800"),
    "lone surrogate in customer.number": lambda: _transcript(customer={"number": "+1415555\udc00123"}),
    "metadata nested 500 deep": lambda: _deep_body(500),
    "metadata nested 100000 deep": lambda: _deep_body(100_000),
    "arguments nested 500 deep in a JSON string": lambda: {
        "message": {
            **load_fixture("vapi/tool-calls.json")["message"],
            "toolCallList": [{"id": "t1", "function": {"name": "f", "arguments": _deep_text(500)}}],
        }
    },
}


def _body(case: Any) -> bytes:
    document = case()
    if isinstance(document, str):
        return document.encode()
    # The stdlib's own encoder: recursion is fine for building the test input up to its limit.
    return json.dumps(document).encode()


@pytest.mark.parametrize("name", list(VAPI_CASES))
def test_hostile_vapi_messages_get_2xx_or_a_readable_4xx(vapi: ModuleType, name: str) -> None:
    body = _body(VAPI_CASES[name])
    response = post_vapi(vapi, body)
    assert response["statusCode"] < 500, (name, response)
    if response["statusCode"] >= 400:
        error = json.loads(response["body"])
        assert error["error"] and error["message"]


def _status_pairs(call_sid: str, **changes: str) -> list[tuple[str, str]]:
    pairs = [(k, v) for k, v in fixture_params("status-completed.json") if k not in changes]
    pairs = [(k, call_sid if k == "CallSid" else v) for k, v in pairs]
    return pairs + list(changes.items())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("SequenceNumber", "\u00b2"),
        ("SequenceNumber", "\u2460"),
        ("SequenceNumber", "\u0663"),  # Arabic-Indic three
        ("CallDuration", "\u0967\u0968"),  # Devanagari one two
        ("SequenceNumber", "9" * 400),
        ("CallDuration", "9" * 60),
    ],
)
def test_twilio_numeric_fields_take_ascii_digits_only(twilio: ModuleType, field: str, value: str) -> None:
    response = post_twilio(twilio, _status_pairs(new_call_sid(), **{field: value}))
    assert response["statusCode"] == 400, response


@pytest.mark.parametrize(
    ("field", "value"), [("RecordingDuration", "\u00b3"), ("RecordingChannels", "\u2461")]
)
def test_twilio_recording_numbers_take_ascii_digits_only(twilio: ModuleType, field: str, value: str) -> None:
    pairs = [(k, value if k == field else v) for k, v in fixture_params("recording-completed.json")]
    body, headers = signed_form(f"{BASE}/twilio/recording", pairs, TWILIO_TOKEN)
    event = http_event("/twilio/recording", body, headers, base64_body=True)
    response = twilio.lambda_handler(event, FakeContext())
    assert response["statusCode"] == 400, response


def test_a_call_sid_with_a_trailing_newline_is_refused(twilio: ModuleType, moto_table: Any) -> None:
    sid = new_call_sid()
    assert post_twilio(twilio, _status_pairs(sid))["statusCode"] in (200, 204)
    response = post_twilio(twilio, _status_pairs(sid + "\n"))
    assert response["statusCode"] == 400
    partitions = {i["pk"]["S"] for i in moto_table.scan(TableName=TABLE)["Items"] if sid in i["pk"]["S"]}
    assert partitions == {f"CALL#twilio:{sid}"}


def test_no_case_left_the_environment_dirty() -> None:
    # The handlers read their settings at import: nothing above may leak an override into other tests.
    assert "VOICETRAIL_MAX_DEPTH" not in os.environ
