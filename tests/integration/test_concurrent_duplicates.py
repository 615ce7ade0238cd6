"""Exactly-once under concurrency, against moto's server (moto in-process is not thread-safe)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from voicetrail.domain.calls.ports import PutOutcome, StoredEvent
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage.dynamo import DynamoEventStore, dynamodb_client
from voicetrail_cli.dev.local import EmbeddedDynamo, ensure_table

pytestmark = pytest.mark.integration
TABLE = "voicetrail-concurrency"


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
    ensure_table(dynamodb_client(endpoint_url=endpoint, region="us-east-1"), TABLE)
    return endpoint


def event(key: str, call_id: str = "call-1") -> StoredEvent:
    now = int(time.time())
    return StoredEvent(
        call_id=call_id,
        event_key=key,
        source="vapi",
        event_type="transcript",
        retention_class=RetentionClass.CONTENT,
        expires_at=now + 3600,
        received_at_ms=now * 1000,
        body={"transcript": "[redacted]"},
    )


def put(endpoint: str, stored: StoredEvent) -> PutOutcome:
    # One client per worker, as separate Lambda environments would have.
    store = DynamoEventStore(dynamodb_client(endpoint_url=endpoint, region="us-east-1"), TABLE)
    return store.put_event(stored, now=time.time())


def test_concurrent_duplicate_deliveries_store_exactly_one(table: str) -> None:
    same = event("end-of-call-report", call_id="dup-call")
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda _: put(table, same), range(32)))
    assert outcomes.count(PutOutcome.STORED) == 1
    assert outcomes.count(PutOutcome.DUPLICATE) == 31


def test_concurrent_distinct_events_of_one_call_are_all_stored(table: str) -> None:
    events = [event(f"transcript#user#final#{i}", call_id="busy-call") for i in range(40)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda e: put(table, e), events))
    assert outcomes == [PutOutcome.STORED] * 40
    client: Any = dynamodb_client(endpoint_url=table, region="us-east-1")
    store = DynamoEventStore(client, TABLE)
    assert len(store.call_events("busy-call", now=time.time())) == 40
