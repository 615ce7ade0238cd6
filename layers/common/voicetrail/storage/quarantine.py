"""DynamoDB adapter of the quarantine (port: domain.quarantine.QuarantineStore).

Items (storage.table, item types `quarantined message` and `quarantine pointer`):
  pk = QRN#<YYYY-MM-DD>   sk = <source>#<digest>       the record: reason, detail, body_gz (gzip of the
                                                       redacted text), call_id, received_at_ms, replayed
  pk = CALL#<call id>     sk = QRN#<source>#<digest>   a pointer, so `calls show` lists it with the call
Both carry the `metadata` retention class and ExpiryIndex keys: the purge deletes them on schedule.
"""

from __future__ import annotations

import gzip
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.quarantine import QuarantineRecord, utc_day
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage.batch import query_items
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import boolean, expiry_attributes, get_n, get_s, key, n, s
from voicetrail.storage.failures import error_code, store_error
from voicetrail.storage.table import PK, call_pk, quarantine_pk, quarantine_pointer_sk


def to_quarantine_item(record: QuarantineRecord, expires_at: int) -> dict[str, Any]:
    pk, sk = quarantine_pk(utc_day(record.received_at_ms)), record.record_id
    item: dict[str, Any] = {
        **key(pk, sk),
        **expiry_attributes(pk, sk, RetentionClass.METADATA, expires_at),
        "source": s(record.source),
        "reason": s(record.reason),
        "detail": s(record.detail),
        "received_at_ms": n(record.received_at_ms),
        "body_gz": {"B": gzip.compress(record.body.encode("utf-8", "replace"))},
        "truncated": boolean(record.truncated),
    }
    if record.content_type:
        item["content_type"] = s(record.content_type)
    if record.call_id:
        item["call_id"] = s(record.call_id)
    return item


def from_quarantine_item(item: dict[str, Any]) -> QuarantineRecord:
    source, _, digest = item["sk"]["S"].partition("#")
    replayed = get_n(item, "replayed_at_ms")
    return QuarantineRecord(
        source=source,
        digest=digest,
        reason=get_s(item, "reason") or "",
        detail=get_s(item, "detail") or "",
        received_at_ms=int(get_n(item, "received_at_ms") or 0),
        body=gzip.decompress(item["body_gz"]["B"]).decode("utf-8") if "body_gz" in item else "",
        truncated=bool(item.get("truncated", {}).get("BOOL")),
        content_type=get_s(item, "content_type") or "",
        call_id=get_s(item, "call_id"),
        replayed_at_ms=int(replayed) if replayed is not None else None,
    )


class DynamoQuarantineStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def keep(self, record: QuarantineRecord, *, expires_at: int) -> bool:
        item = to_quarantine_item(record, expires_at)
        try:
            note_expiry(self._client, self._table, item)  # its bucket's day record first (purge reads it)
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression=f"attribute_not_exists({PK})"
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise store_error(exc, "quarantine put_item") from None
        except BotoCoreError as exc:
            raise store_error(exc, "quarantine put_item") from None
        if record.call_id:
            pk, sk = call_pk(record.call_id), quarantine_pointer_sk(record.record_id)
            pointer = {
                **key(pk, sk),
                **expiry_attributes(pk, sk, RetentionClass.METADATA, expires_at),
                "reason": s(record.reason),
                "received_at_ms": n(record.received_at_ms),
                "quarantine_day": s(utc_day(record.received_at_ms)),
            }
            try:
                note_expiry(self._client, self._table, pointer)
                self._client.put_item(TableName=self._table, Item=pointer)
            except (ClientError, BotoCoreError) as exc:
                raise store_error(exc, "quarantine pointer put_item") from None
        return True

    def list_day(self, day: str, *, now: float) -> list[QuarantineRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "expires_at > :now",
            "ExpressionAttributeValues": {":pk": s(quarantine_pk(day)), ":now": n(int(now))},
        }
        try:
            return [from_quarantine_item(i) for i in query_items(self._client, kwargs)]
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "quarantine query") from None

    def mark_replayed(self, day: str, record_id: str, *, at_ms: int) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(quarantine_pk(day), record_id),
                UpdateExpression="SET replayed_at_ms = :at",
                ConditionExpression=f"attribute_exists({PK})",
                ExpressionAttributeValues={":at": n(at_ms)},
            )
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "quarantine update_item") from None
