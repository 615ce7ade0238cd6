"""The large-event path against moto (DynamoDB and S3): an event still over DynamoDB's 400 KB item limit
after gzip is stored in S3 (SSE-KMS) with a pointer item, read back whole, never lost on resend, deleted
by erasure; and its cost per event, from the request and storage counts this test observes."""

from __future__ import annotations

import gzip
import json
import random
import string
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.conftest import TABLE, function_env, load_fixture, load_function
from tests.webhook_support import post_vapi
from voicetrail.domain.calls.ports import PutOutcome, StoredEvent
from voicetrail.domain.items import ItemKey
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.errors import StoreRejectedError
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail.storage.erasure import DynamoCallerItems
from voicetrail.storage.large_bodies import S3BodyStore

pytestmark = pytest.mark.integration
BUCKET = "voicetrail-large-events-test"


@pytest.fixture
def bucket(moto_table: Any) -> Iterator[Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    yield s3


@pytest.fixture
def vapi(bucket: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("vapi_webhook", function_env(LARGE_EVENTS_BUCKET=BUCKET), monkeypatch)


def events_items(client: Any) -> list[dict[str, Any]]:
    return [i for i in client.scan(TableName=TABLE)["Items"] if i["sk"]["S"].startswith("EVT#")]


def random_text(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits + " .,") for _ in range(size))


def large_event(call_id: str, *, size: int = 1_000_000, seed: int = 7) -> StoredEvent:
    """A sanitised event whose body stays over 400 KB gzipped (random text barely compresses): what a
    two-hour call's report with its conversation and tool calls can reach."""
    return StoredEvent(
        call_id=call_id,
        event_key="end-of-call-report",
        source="vapi",
        event_type="end-of-call-report",
        retention_class=RetentionClass.CONTENT,
        expires_at=int(time.time()) + 30 * 86400,
        received_at_ms=int(time.time() * 1000),
        body={"type": "end-of-call-report", "transcript": random_text(size, seed)},
        caller_hash="ch_" + "0" * 32,
    )


def test_an_event_over_the_item_limit_after_gzip_goes_to_s3_and_reads_back_whole(
    moto_table: Any, bucket: Any
) -> None:
    store = DynamoEventStore(moto_table, TABLE, large_bodies=S3BodyStore(bucket, BUCKET))
    event = large_event("call-large-1")
    assert store.put_event(event, now=time.time()) is PutOutcome.STORED
    assert store.put_event(event, now=time.time()) is PutOutcome.DUPLICATE  # a resend
    [item] = events_items(moto_table)
    assert "body_s3" in item and "body_gz" not in item and "body" not in item
    object_key = item["body_s3"]["S"]
    assert object_key.startswith("content/") and "call-large-1" not in object_key
    assert [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]] == [object_key]
    assert bucket.head_object(Bucket=BUCKET, Key=object_key)["ServerSideEncryption"] == "aws:kms"
    [read] = store.call_events("call-large-1", now=time.time())
    assert read.body == event.body  # nothing lost
    assert store.get_event("call-large-1", read.sk) == read


def test_without_the_bucket_a_too_large_event_is_refused_for_good(moto_table: Any) -> None:
    store = DynamoEventStore(moto_table, TABLE)
    with pytest.raises(StoreRejectedError):  # 422, and the webhook quarantines it (test_quarantine.py)
        store.put_event(large_event("call-large-2"), now=time.time())
    assert events_items(moto_table) == []


def test_the_webhook_writes_through_s3_when_configured(
    vapi: ModuleType, moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wiring end to end (settings -> S3BodyStore -> the event store), on an ordinary report: the
    # inline limit lowered so that it counts as large (the 1 MB bodies above take minutes to redact).
    from voicetrail.storage import dynamo

    monkeypatch.setattr(dynamo, "INLINE_LIMIT", 100)
    document = load_fixture("vapi/end-of-call-report.json")
    document["message"]["call"]["id"] = "call-large-3"
    document["message"]["transcript"] = random_text(80_000)  # over the 64 KB gzip threshold
    assert post_vapi(vapi, json.dumps(document).encode())["statusCode"] == 200
    [item] = [i for i in moto_table.scan(TableName=TABLE)["Items"] if i["sk"]["S"].startswith("EVT#")]
    assert "body_s3" in item
    packed = bucket.get_object(Bucket=BUCKET, Key=item["body_s3"]["S"])["Body"].read()
    assert json.loads(gzip.decompress(packed))["type"] == "end-of-call-report"


def test_erasure_deletes_a_large_body_with_its_item(moto_table: Any, bucket: Any) -> None:
    bodies = S3BodyStore(bucket, BUCKET)
    DynamoEventStore(moto_table, TABLE, large_bodies=bodies).put_event(
        large_event("call-large-4"), now=time.time()
    )
    items = DynamoCallerItems(moto_table, TABLE, large_bodies=bodies)
    found = items.call_items("CALL#call-large-4")
    assert any("body_s3" in i for i in found)
    items.delete([ItemKey(i["pk"]["S"], i["sk"]["S"]) for i in found])
    assert bucket.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert items.call_items("CALL#call-large-4") == []


# S3 Standard, us-east-1, from AWS's public price list (aws.amazon.com/s3/pricing, read 2026-12):
# PUT/COPY/POST/LIST $0.005 per 1,000; GET $0.0004 per 1,000; storage $0.023 per GB-month (first 50 TB).
# SSE-KMS with an S3 Bucket Key: KMS requests are per bucket key, not per object (negligible here).
PUT_USD, GET_USD, GB_MONTH_USD = 0.005 / 1000, 0.0004 / 1000, 0.023


def test_the_cost_of_one_large_event(moto_table: Any, bucket: Any, capsys: Any) -> None:
    calls: dict[str, int] = {}

    def count(operation: str) -> Any:
        def hook(**_: Any) -> None:
            calls[operation] = calls.get(operation, 0) + 1

        return hook

    for operation in ("PutObject", "GetObject"):
        bucket.meta.events.register(f"before-call.s3.{operation}", count(operation))
    store = DynamoEventStore(moto_table, TABLE, large_bodies=S3BodyStore(bucket, BUCKET))
    event = large_event("call-large-5", size=1_500_000)
    store.put_event(event, now=time.time())
    writes = calls["PutObject"]
    store.call_events("call-large-5", now=time.time())
    [item] = events_items(moto_table)
    size = bucket.head_object(Bucket=BUCKET, Key=item["body_s3"]["S"])["ContentLength"]
    months = (event.expires_at - event.received_at_ms / 1000) / (30 * 86400)
    to_store = writes * PUT_USD + size / 1e9 * GB_MONTH_USD * months
    with capsys.disabled():
        print(
            f"\nlarge event: {size:,} bytes gzipped in S3, {writes} PUT, kept {months:.1f} months: "
            f"${to_store:.8f} per event (+ ${calls['GetObject'] * GET_USD:.7f} per read)"
        )
    assert writes == 1 and calls["GetObject"] == 1 and to_store < 0.0001
