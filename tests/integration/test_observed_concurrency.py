"""Concurrent duplicates of Retell and ElevenLabs events collapse to one stored event, against moto's
server (moto in-process is not thread-safe): each worker is its own copy of the handler, as separate
Lambda environments are, and the same event arrives at all of them at once, as original and resends."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import FakeContext, function_env, http_event, load_function
from voicetrail.providers.elevenlabs.signature import sign as sign_elevenlabs
from voicetrail.providers.retell.signature import sign as sign_retell
from voicetrail.storage.dynamo import dynamodb_client
from voicetrail_cli.dev import elevenlabs_events, retell_events
from voicetrail_cli.dev.local import EmbeddedDynamo, ensure_table

pytestmark = pytest.mark.integration
TABLE = "voicetrail-provider-concurrency"
KEY = "concurrency-key"
WORKERS = 6


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = EmbeddedDynamo()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def table(endpoint: str) -> str:
    ensure_table(dynamodb_client(endpoint_url=endpoint, region="us-east-1"), TABLE)  # after the fake env
    return endpoint


def _workers(name: str, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    env = function_env(
        TABLE_NAME=TABLE,
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
        RETELL_API_KEY_REF="env:C_KEY",
        ELEVENLABS_WEBHOOK_SECRET_REF="env:C_KEY",
        C_KEY=KEY,
    )
    return [load_function(f"{name}_webhook", env, monkeypatch) for _ in range(WORKERS)]


@pytest.mark.parametrize("name", ["retell", "elevenlabs"])
def test_the_same_event_delivered_everywhere_at_once_is_stored_once(
    name: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = table
    rng = random.Random(31)
    if name == "retell":
        s = retell_events.script(rng, start_ms=int(time.time() * 1000))
        payloads = [retell_events.call_ended(s), retell_events.transcript_updated(s, 4)]
        resend = lambda p: retell_events.resend(p, rng)  # noqa: E731
        call_key = f"retell:{s.call_id}"
    else:
        e = elevenlabs_events.script(rng, start_s=int(time.time()))
        payloads = [
            elevenlabs_events.post_call_transcription(e),
            elevenlabs_events.call_initiation_failure(e),
        ]
        resend = elevenlabs_events.resend
        call_key = f"elevenlabs:{e.conversation_id}"
    workers = _workers(name, endpoint, monkeypatch)
    deliveries = []
    for payload in payloads:
        for n in range(WORKERS * 2):
            body = json.dumps(payload if n % 2 == 0 else resend(payload)).encode()
            headers = (
                sign_retell(body, KEY, timestamp_ms=int(time.time() * 1000))
                if name == "retell"
                else sign_elevenlabs(body, KEY, timestamp=int(time.time()))
            )
            deliveries.append((workers[n % WORKERS], http_event(f"/{name}/webhook", body, headers)))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        statuses = list(
            pool.map(lambda d: d[0].lambda_handler(d[1], FakeContext())["statusCode"], deliveries)
        )
    assert set(statuses) == {200}
    client = dynamodb_client(endpoint_url=endpoint, region="us-east-1")
    items = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CALL#{call_key}"}},
    )["Items"]
    events = [i for i in items if i["sk"]["S"].startswith("EVT#")]
    assert len(events) == len(payloads)  # 2 events x 12 concurrent deliveries each: 2 stored
