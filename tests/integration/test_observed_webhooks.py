"""The real retell_webhook and elevenlabs_webhook Lambda handlers against moto: every documented event
stored once and redacted, resends collapsed, forged/tampered/stale/unsigned requests 401 with nothing
stored, broken bodies 400, audio answered and dropped, no planted personal data in the table or the logs."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import FIXTURES, TABLE, FakeContext, function_env, http_event, load_fixture, load_function
from voicetrail.providers.elevenlabs import signature as elevenlabs_signature
from voicetrail.providers.retell import signature as retell_signature
from voicetrail_cli.dev import elevenlabs_events, retell_events

pytestmark = pytest.mark.integration

RETELL_KEY = "test-retell-key"
ELEVENLABS_SECRET = "test-elevenlabs-secret"


@dataclass(frozen=True)
class Platform:
    name: str
    path: str
    env: dict[str, str]
    sign: Callable[[bytes, str, float], dict[str, str]]
    key: str
    # Everything planted in the hand-written fixtures (tests/fixtures/<name>/PROVENANCE.md).
    needles: tuple[str, ...]


PLATFORMS = {
    "retell": Platform(
        "retell",
        "/retell/webhook",
        {"RETELL_API_KEY_REF": "env:TEST_RETELL_KEY", "TEST_RETELL_KEY": json.dumps({"key": RETELL_KEY})},
        lambda body, key, now: retell_signature.sign(body, key, timestamp_ms=int(now * 1000)),
        RETELL_KEY,
        ("Dana Whitfield", "Whitfield", "+12135550199", "213 555 0199", "213-555-0199", "04/12/1987"),
    ),
    "elevenlabs": Platform(
        "elevenlabs",
        "/elevenlabs/webhook",
        {
            "ELEVENLABS_WEBHOOK_SECRET_REF": "env:TEST_ELEVENLABS_SECRET",
            "TEST_ELEVENLABS_SECRET": json.dumps({"current": ELEVENLABS_SECRET}),
        },
        lambda body, key, now: elevenlabs_signature.sign(body, key, timestamp=int(now)),
        ELEVENLABS_SECRET,
        (
            "Marcus Oyelaran",
            "Oyelaran",
            "+14155550177",
            "415 555 0177",
            "415-555-0177",
            "1979-05-09",
            "P-88213",
        ),
    ),
}


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Platform:
    return PLATFORMS[request.param]


@pytest.fixture
def handler(platform: Platform, moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function(f"{platform.name}_webhook", function_env(**platform.env), monkeypatch)


def invoke(
    module: ModuleType,
    platform: Platform,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    if headers is None:
        headers = platform.sign(body, platform.key, time.time())
    try:
        body.decode("utf-8")
        binary = False
    except UnicodeDecodeError:
        binary = True  # API Gateway base64-encodes a body that is not text
    event = http_event(
        platform.path, body, {"content-type": "application/json", **headers}, base64_body=binary
    )
    result: dict[str, Any] = module.lambda_handler(event, FakeContext())
    return result


def events(client: Any) -> list[dict[str, Any]]:
    return [i for i in client.scan(TableName=TABLE)["Items"] if i["sk"]["S"].startswith("EVT#")]


def fixture_names(platform: str) -> list[str]:
    return sorted(p.name for p in (FIXTURES / platform).glob("*.json"))


ALL_FIXTURES = [(p, name) for p in sorted(PLATFORMS) for name in fixture_names(p)]


@pytest.mark.parametrize(("name", "fixture"), ALL_FIXTURES)
def test_every_fixture_is_answered_200_and_stored_once_without_its_personal_data(
    name: str,
    fixture: str,
    moto_table: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    platform = PLATFORMS[name]
    module = load_function(f"{name}_webhook", function_env(**platform.env), monkeypatch)
    body = json.dumps(load_fixture(f"{name}/{fixture}")).encode()
    assert invoke(module, platform, body)["statusCode"] == 200
    assert invoke(module, platform, body)["statusCode"] == 200  # a resend
    stored = events(moto_table)
    if fixture == "post_call_audio.json":
        assert stored == []  # audio is answered and dropped, never stored
    else:
        assert len(stored) == 1
        assert stored[0]["source"]["S"] == name
    dump = json.dumps(stored) + capsys.readouterr().out
    assert [n for n in platform.needles if n.lower() in dump.lower()] == []
    assert "full_audio" not in dump


def test_a_stored_event_has_its_call_key_hash_and_retention(
    platform: Platform, handler: ModuleType, moto_table: Any
) -> None:
    fixture = "call_analyzed.json" if platform.name == "retell" else "post_call_transcription.json"
    payload = load_fixture(f"{platform.name}/{fixture}")
    assert invoke(handler, platform, json.dumps(payload).encode())["statusCode"] == 200
    [item] = events(moto_table)
    call_id = payload["call"]["call_id"] if platform.name == "retell" else payload["data"]["conversation_id"]
    assert item["pk"]["S"] == f"CALL#{platform.name}:{call_id}"  # named like Twilio's calls
    assert item["caller_hash"]["S"].startswith("ph_")
    assert item["retention_class"]["S"] == "content"


def _forgeries(platform: Platform, body: bytes) -> dict[str, dict[str, str]]:
    now = time.time()
    good = platform.sign(body, platform.key, now)
    header = next(iter(good))
    return {
        "unsigned": {},
        "wrong-key": platform.sign(body, "not-the-key", now),
        "stale": platform.sign(body, platform.key, now - 3600),
        "future": platform.sign(body, platform.key, now + 3600),
        "garbage": {header: "v=,d=;t=x"},
        "tampered": good,  # sent with another body below
    }


@pytest.mark.parametrize("forgery", ["unsigned", "wrong-key", "stale", "future", "garbage", "tampered"])
def test_forged_tampered_stale_and_unsigned_requests_are_401_and_store_nothing(
    platform: Platform, handler: ModuleType, moto_table: Any, forgery: str
) -> None:
    fixture = "call_ended.json" if platform.name == "retell" else "post_call_transcription.json"
    body = json.dumps(load_fixture(f"{platform.name}/{fixture}")).encode()
    headers = _forgeries(platform, body)[forgery]
    sent = body.replace(b'"', b' "', 1) if forgery == "tampered" else body
    response = invoke(handler, platform, sent, headers)
    assert response["statusCode"] == 401
    assert events(moto_table) == []


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"x":1}', b"\xff\xfe"])
def test_a_signed_broken_body_is_400_and_stores_nothing(
    platform: Platform, handler: ModuleType, moto_table: Any, body: bytes
) -> None:
    assert invoke(handler, platform, body)["statusCode"] == 400
    assert events(moto_table) == []


def test_a_body_over_the_bound_is_413(platform: Platform, handler: ModuleType, moto_table: Any) -> None:
    body = b'{"pad":"' + b"x" * 7_000_000 + b'"}'
    assert invoke(handler, platform, body, {})["statusCode"] == 413


def test_a_rotated_key_is_accepted_while_both_are_active(
    platform: Platform, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref_var = next(k for k in platform.env if k.startswith("TEST_"))
    env = function_env(**{**platform.env, ref_var: json.dumps({"new": "rotated-key", "old": platform.key})})
    module = load_function(f"{platform.name}_webhook", env, monkeypatch)
    fixture = "call_started.json" if platform.name == "retell" else "call_initiation_failure_twilio.json"
    body = json.dumps(load_fixture(f"{platform.name}/{fixture}")).encode()
    assert (
        invoke(module, platform, body, platform.sign(body, "rotated-key", time.time()))["statusCode"] == 200
    )
    assert invoke(module, platform, body)["statusCode"] == 200
    assert len(events(moto_table)) == 1


def test_a_whole_generated_call_with_resends_is_stored_once_per_event(
    platform: Platform, handler: ModuleType, moto_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(27)
    if platform.name == "retell":
        s = retell_events.script(rng)
        stream = retell_events.call_stream(s, transfer=True)
        resends = [retell_events.resend(p, rng) for p in stream]
        identity = s.identity
    else:
        e = elevenlabs_events.script(rng)
        stream = [elevenlabs_events.post_call_transcription(e), elevenlabs_events.post_call_audio(e)]
        resends = [elevenlabs_events.resend(p) for p in stream]
        identity = e.identity
    statuses = [invoke(handler, platform, json.dumps(p).encode())["statusCode"] for p in stream + resends]
    assert set(statuses) == {200}
    expected = len(stream) - (1 if platform.name == "elevenlabs" else 0)  # audio is dropped
    assert len(events(moto_table)) == expected
    dump = (json.dumps(events(moto_table)) + capsys.readouterr().out).lower()
    needles = [v for k, v in identity.needles().items() if k != "last_name"]
    assert [n for n in needles if n.lower() in dump] == []


def test_the_call_summary_and_view_name_the_platform_and_read_like_any_call(
    platform: Platform, handler: ModuleType, moto_table: Any
) -> None:
    from voicetrail.domain.calls.state import utc_day
    from voicetrail.domain.retention.classes import RetentionPolicy
    from voicetrail.storage.ledger import DynamoCallLedger
    from voicetrail_cli.ops.call_view import build_call_view

    rng = random.Random(5)
    if platform.name == "retell":
        s = retell_events.script(rng, start_ms=int(time.time() * 1000) - 60_000)
        stream, call_id = retell_events.call_stream(s, transfer=True), s.call_id
    else:
        e = elevenlabs_events.script(rng, start_s=int(time.time()) - 60)
        stream, call_id = [elevenlabs_events.post_call_transcription(e)], e.conversation_id
    for payload in stream:
        assert invoke(handler, platform, json.dumps(payload).encode())["statusCode"] == 200
    ledger = DynamoCallLedger(moto_table, TABLE, RetentionPolicy())
    [summary] = ledger.summaries_for_days([utc_day(int(time.time() * 1000))], now=time.time())
    assert summary.voice_platform == platform.name
    assert summary.vapi_call_id == summary.call_key == f"{platform.name}:{call_id}"
    assert summary.vapi_ended and summary.topology == "observer"
    if platform.name == "retell":
        assert summary.escalated and summary.cost_usd == 0.07  # combined_cost 7 cents
        # Retell's own latency values: the call record's turn latencies (voicetrail calls show, report).
        assert summary.latency is not None and len(summary.latency.turns) == len(s.turns) // 2
        assert summary.latency.turn_p95_ms is not None and summary.latency.model_avg_ms is not None
    pk = f"CALL#{platform.name}:{call_id}"
    items = moto_table.query(
        TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )["Items"]
    view = build_call_view(call_id, items)
    assert {t.source for t in view.timeline} == {platform.name, "audit"}  # events and their PII audit
    assert len(view.transcript) >= 10 and {t["role"] for t in view.transcript} == {"agent", "user"}
