"""Erasing a caller reaches Retell and ElevenLabs: calls stored by the real webhook handlers are deleted
from our table and, through the provider registry, at the platform (local fakes on loopback), and never
asked of Vapi."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TABLE, FakeContext, function_env, http_event, load_function
from tests.fakes.provider_servers import FakeElevenLabs, FakeRetell
from tests.fakes.servers import FakeVapi
from voicetrail.providers.elevenlabs.signature import sign as sign_elevenlabs
from voicetrail.providers.retell.signature import sign as sign_retell
from voicetrail_cli.dev import elevenlabs_events, retell_events

pytestmark = pytest.mark.integration

RETELL_KEY, ELEVENLABS_SECRET, ELEVENLABS_API_KEY, VAPI_KEY = "rk", "es", "xi-key", "vk"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeRetell, FakeElevenLabs, FakeVapi]]:
    retell, elevenlabs, vapi = FakeRetell(RETELL_KEY), FakeElevenLabs(ELEVENLABS_API_KEY), FakeVapi(VAPI_KEY)
    with retell.running(), elevenlabs.running(), vapi.running():
        yield retell, elevenlabs, vapi


def _store_calls(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """One Retell and one ElevenLabs call of the same caller, through the real handlers."""
    rng = random.Random(9)
    retell_call = retell_events.script(rng, start_ms=int(time.time() * 1000) - 60_000)
    eleven_call = elevenlabs_events.script(rng, start_s=int(time.time()) - 60)
    phone = retell_call.identity.phone
    eleven_call = eleven_call.__class__(**{**eleven_call.__dict__, "identity": retell_call.identity})
    env = function_env(
        RETELL_API_KEY_REF="env:TEST_RETELL_KEY",
        TEST_RETELL_KEY=RETELL_KEY,
        ELEVENLABS_WEBHOOK_SECRET_REF="env:TEST_ELEVENLABS_SECRET",
        TEST_ELEVENLABS_SECRET=ELEVENLABS_SECRET,
    )
    retell_app = load_function("retell_webhook", env, monkeypatch)
    for payload in retell_events.call_stream(retell_call):
        body = json.dumps(payload).encode()
        headers = sign_retell(body, RETELL_KEY, timestamp_ms=int(time.time() * 1000))
        assert (
            retell_app.lambda_handler(http_event("/retell/webhook", body, headers), FakeContext())[
                "statusCode"
            ]
            == 200
        )
    eleven_app = load_function("elevenlabs_webhook", env, monkeypatch)
    body = json.dumps(elevenlabs_events.post_call_transcription(eleven_call)).encode()
    headers = sign_elevenlabs(body, ELEVENLABS_SECRET, timestamp=int(time.time()))
    assert (
        eleven_app.lambda_handler(http_event("/elevenlabs/webhook", body, headers), FakeContext())[
            "statusCode"
        ]
        == 200
    )
    return phone, retell_call.call_id, eleven_call.conversation_id


def test_erasing_the_caller_deletes_both_calls_here_and_at_each_platform(
    moto_table: Any, fakes: tuple[FakeRetell, FakeElevenLabs, FakeVapi], monkeypatch: pytest.MonkeyPatch
) -> None:
    retell, elevenlabs, vapi = fakes
    phone, retell_id, conversation_id = _store_calls(monkeypatch)
    retell.existing.add(retell_id)
    elevenlabs.existing.add(conversation_id)
    env = function_env(
        VAPI_API_KEY_REF="env:TEST_VAPI_KEY",
        TEST_VAPI_KEY=VAPI_KEY,
        VAPI_API_BASE_URL=vapi.base_url,
        RETELL_DELETION_KEY_REF="env:TEST_RETELL_KEY",
        TEST_RETELL_KEY=RETELL_KEY,
        RETELL_API_BASE_URL=retell.base_url,
        ELEVENLABS_API_KEY_REF="env:TEST_ELEVENLABS_API_KEY",
        TEST_ELEVENLABS_API_KEY=ELEVENLABS_API_KEY,
        ELEVENLABS_API_BASE_URL=elevenlabs.base_url,
    )
    operator = load_function("operator_api", env, monkeypatch)
    body = json.dumps({"phone": phone}).encode()
    response = operator.lambda_handler(
        http_event("/operator/erase", body, {"content-type": "application/json"}), FakeContext()
    )
    assert response["statusCode"] == 200, response["body"]
    result = json.loads(response["body"])
    assert result["calls_erased"] == 2
    assert retell.deletes() == [f"/v2/delete-call/{retell_id}"] and retell.existing == set()
    assert elevenlabs.deletes() == [f"/v1/convai/conversations/{conversation_id}"]
    assert vapi.requests == []  # never asked for another platform's call
    left = [i for i in moto_table.scan(TableName=TABLE)["Items"] if i["pk"]["S"].startswith("CALL#")]
    assert [i for i in left if "AUDIT" not in i["sk"]["S"]] == []


def test_when_the_calls_expire_the_purge_deletes_them_at_each_platform(
    moto_table: Any, fakes: tuple[FakeRetell, FakeElevenLabs, FakeVapi], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.metrics import MemoryRecorder
    from voicetrail.domain.audit.trail import AuditTrail
    from voicetrail.domain.retention.classes import DAY
    from voicetrail.infra.secrets import SecretRef, SecretResolver
    from voicetrail.providers.elevenlabs.deleter import ElevenLabsConversationDeleter
    from voicetrail.providers.retell.deleter import RetellCallDeleter
    from voicetrail.storage.audit import DynamoAuditStore
    from voicetrail.wiring.deletion import dynamo_purger

    retell, elevenlabs, vapi = fakes
    _, retell_id, conversation_id = _store_calls(monkeypatch)
    retell.existing.add(retell_id)
    elevenlabs.existing.add(conversation_id)
    pointers = [
        i["pk"]["S"] for i in moto_table.scan(TableName=TABLE)["Items"] if i["sk"]["S"].startswith("REC#")
    ]
    assert sorted(pointers) == sorted([f"CALL#retell:{retell_id}", f"CALL#elevenlabs:{conversation_id}"])

    def key(value: str) -> SecretResolver:
        return SecretResolver(SecretRef("env", "K"), fetch=lambda ref, age, /, *, force=False: value)

    metrics = MemoryRecorder()
    later = time.time() + 400 * DAY  # past every retention class
    purger = dynamo_purger(
        moto_table,
        TABLE,
        platforms={
            "retell": RetellCallDeleter(key(RETELL_KEY), base_url=retell.base_url),
            "elevenlabs": ElevenLabsConversationDeleter(
                key(ELEVENLABS_API_KEY), base_url=elevenlabs.base_url
            ),
        },
        metrics=metrics,
        audit=AuditTrail(DynamoAuditStore(moto_table, TABLE), sleep=lambda _: None),
        clock=lambda: later,
        sleep=lambda _: None,
    )
    report = purger.run(from_days=500)
    assert retell.deletes() == [f"/v2/delete-call/{retell_id}"]
    assert elevenlabs.deletes() == [f"/v1/convai/conversations/{conversation_id}"]
    assert vapi.requests == []
    assert report.platforms_deleted == {"elevenlabs": 1, "retell": 1} and report.failures == 0
    assert metrics.total("PurgeExternalDeleted", provider="retell") == 1
    assert not [
        i for i in moto_table.scan(TableName=TABLE)["Items"] if i["sk"]["S"].startswith(("REC#", "EVT#"))
    ]
