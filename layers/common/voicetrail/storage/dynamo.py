"""DynamoDB adapter for the EventStore port, and the DynamoDB client every adapter is built with.

Item (see voicetrail.storage.table, item types `event` and `Vapi recording pointer`):
  pk = CALL#<call id>          sk = EVT#<source>#<semantic key>
  expires_at (N, TTL)          retention_class (S)
  exp_bucket / exp_sk          sparse ExpiryIndex: the purge queries expired day-buckets, never scans
  caller_hash                  sparse CallerIndex: erasure finds a caller's calls without the number
  body (S, JSON) or body_gz (B, gzip JSON when large) or body_s3 (S, the S3 object key when the gzip
  is still over 300 KB: storage.large_bodies)

A put is one conditional write: `attribute_not_exists(pk) OR expires_at < :now`. A retry or a
concurrent duplicate fails the condition and is reported as DUPLICATE at the cost of one write unit.
"""

from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.calls.ports import PutOutcome, StoredEvent
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage.batch import query_items
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import expiry_attributes, key, n
from voicetrail.storage.failures import error_code, store_error
from voicetrail.storage.large_bodies import INLINE_LIMIT, S3BodyStore, object_key
from voicetrail.storage.table import EVENT_SK_PREFIX, PK, TTL_ATTRIBUTE, call_pk, record_of_sk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Bodies above this are gzipped to stay far from DynamoDB's 400 KB item limit.
GZIP_THRESHOLD = 64_000
_PUT_CONDITION = f"attribute_not_exists({PK}) OR {TTL_ATTRIBUTE} < :now"


def dynamodb_client(endpoint_url: str | None = None, region: str | None = None) -> DynamoDBClient:
    """A client of the process's shared session, with tight timeouts (see voicetrail.infra.aws)."""
    from voicetrail.infra import aws

    client: DynamoDBClient = aws.client("dynamodb", endpoint_url=endpoint_url, region=region)
    return client


def to_item(event: StoredEvent) -> dict[str, Any]:
    body = json.dumps(event.body, separators=(",", ":"), ensure_ascii=False)
    pk = call_pk(event.call_id)
    item: dict[str, Any] = {
        **key(pk, event.sk),
        "call_id": {"S": event.call_id},
        "event_key": {"S": event.event_key},
        "source": {"S": event.source},
        "event_type": {"S": event.event_type},
        **expiry_attributes(pk, event.sk, event.retention_class, event.expires_at),
        "received_at_ms": {"N": str(event.received_at_ms)},
    }
    encoded = body.encode("utf-8", "surrogatepass")
    if len(encoded) > GZIP_THRESHOLD:
        item["body_gz"] = {"B": gzip.compress(encoded)}
    else:
        item["body"] = {"S": body}
    if event.event_ts_ms is not None:
        item["event_ts_ms"] = {"N": str(event.event_ts_ms)}
    if event.caller_hash:
        item["caller_hash"] = {"S": event.caller_hash}
    if event.redactions:
        item["redactions"] = {"M": {k: {"N": str(v)} for k, v in sorted(event.redactions.items())}}
    for name, value in event.attributes.items():
        item[f"a_{name}"] = {"S": value} if isinstance(value, str) else n(value)
    return item


def from_item(item: dict[str, Any]) -> StoredEvent:
    """The event an item holds. A body kept in S3 (`body_s3`) is named, not read: DynamoEventStore reads it
    when it has the bucket (readers of raw items, such as `calls show`, show the pointer)."""
    if "body_gz" in item:
        body = json.loads(gzip.decompress(item["body_gz"]["B"]).decode("utf-8"))
    elif "body_s3" in item:
        body = {"stored_in_s3": item["body_s3"]["S"]}
    else:
        body = json.loads(item.get("body", {"S": "{}"})["S"])
    attributes: dict[str, str | int | float] = {}
    for name, value in item.items():
        if name.startswith("a_"):
            attributes[name[2:]] = value["S"] if "S" in value else float(value["N"])
    return StoredEvent(
        record=record_of_sk(item["sk"]["S"]),
        call_id=item["call_id"]["S"],
        event_key=item["event_key"]["S"],
        source=item["source"]["S"],
        event_type=item["event_type"]["S"],
        retention_class=RetentionClass(item["retention_class"]["S"]),
        expires_at=int(item["expires_at"]["N"]),
        received_at_ms=int(item["received_at_ms"]["N"]),
        body=body,
        event_ts_ms=int(item["event_ts_ms"]["N"]) if "event_ts_ms" in item else None,
        caller_hash=item["caller_hash"]["S"] if "caller_hash" in item else None,
        redactions={k: int(v["N"]) for k, v in item.get("redactions", {}).get("M", {}).items()},
        attributes=attributes,
    )


class DynamoEventStore:
    def __init__(
        self, client: DynamoDBClient, table_name: str, *, large_bodies: S3BodyStore | None = None
    ) -> None:
        """`large_bodies`: where bodies too large for an item go (storage.large_bodies). Without it such an
        event is refused for good (StoreRejectedError: 422, and the webhook quarantines it)."""
        self._client = client
        self._table = table_name
        self._large = large_bodies

    def _offload(self, item: dict[str, Any], event: StoredEvent) -> None:
        """A gzipped body over INLINE_LIMIT goes to S3 first; the item keeps its object key."""
        packed = item.get("body_gz", {}).get("B")
        if self._large is None or packed is None or len(packed) <= INLINE_LIMIT:
            return
        object_name = object_key(event.retention_class.value, item["pk"]["S"], item["sk"]["S"])
        self._large.put(object_name, packed)
        del item["body_gz"]
        item["body_s3"] = {"S": object_name}

    def _read(self, item: dict[str, Any]) -> StoredEvent:
        if "body_s3" in item and self._large is not None:
            item = {**item, "body_gz": {"B": self._large.get(item["body_s3"]["S"])}}
        return from_item(item)

    def put_event(self, event: StoredEvent, *, now: float) -> PutOutcome:
        try:
            item = to_item(event)
        except (UnicodeError, ValueError, OverflowError, TypeError) as exc:
            # An item that cannot even be encoded is a permanent failure, never a "retry".
            raise store_error(exc, "to_item") from None
        self._offload(item, event)
        try:
            note_expiry(self._client, self._table, item)  # its bucket's day record first (purge reads it)
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=_PUT_CONDITION,
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return PutOutcome.DUPLICATE
            raise store_error(exc, "put_item") from None
        except BotoCoreError as exc:
            raise store_error(exc, "put_item") from None
        return PutOutcome.STORED

    def call_events(self, call_id: str, *, now: float) -> list[StoredEvent]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :evt)",
            # TTL deletion lags by days: never return what has expired.
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": {
                ":pk": {"S": call_pk(call_id)},
                ":evt": {"S": EVENT_SK_PREFIX},
                ":now": {"N": str(int(now))},
            },
        }
        try:
            return [self._read(i) for i in query_items(self._client, kwargs)]
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "query") from None

    def get_event(self, call_id: str, sk: str) -> StoredEvent | None:
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": call_pk(call_id)}, "sk": {"S": sk}},
                ConsistentRead=True,
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "get_item") from None
        return self._read(item) if item else None
