"""DynamoDB adapter of the audit trail (port `AuditStore`; rules and verification: domain.audit.trail).

Item `CALL#<call id>` or `SYS#<job>` / `AUDIT#<seq:08d>`; attributes chain, seq (N), kind, at_ms (N),
details (M of S/N), prev_hash, prev_expires_at (N), hash, the expiry attributes, and the AuditIndex keys
audit_day = AUD#YYYY-MM-DD#<shard> and audit_sk = <at_ms:013d>#<pk>#<seq:08d>. A record is written with
`attribute_not_exists(pk)`, so each link of a chain has exactly one successor.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.audit.trail import AuditRecord
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage.batch import query_items
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import expiry_attributes, key, n, s
from voicetrail.storage.failures import store_error
from voicetrail.storage.table import (
    AUDIT_DAY_PREFIX,
    AUDIT_DAYS_PK,
    AUDIT_INDEX,
    AUDIT_SK_PREFIX,
    PK,
    audit_day,
    audit_days,
    audit_index_lower_bound,
    audit_index_sk,
    audit_marker_day,
    audit_sk,
)


def to_audit_item(record: AuditRecord) -> dict[str, Any]:
    details: dict[str, Any] = {
        k: (n(v) if isinstance(v, int) else s(v)) for k, v in sorted(record.details.items())
    }
    return {
        **key(record.pk, audit_sk(record.seq)),
        "chain": s(record.chain),
        "seq": n(record.seq),
        "kind": s(record.kind),
        "at_ms": n(record.at_ms),
        "details": {"M": details},
        "prev_hash": s(record.prev_hash),
        "prev_expires_at": n(record.prev_expires_at),
        "hash": s(record.hash),
        **expiry_attributes(record.pk, audit_sk(record.seq), RetentionClass.AUDIT, record.expires_at),
        "audit_day": s(audit_day(record.at_ms // 1000, record.pk)),
        "audit_sk": s(audit_index_sk(record.at_ms, record.pk, record.seq)),
    }


def from_audit_item(item: Mapping[str, Any]) -> AuditRecord:
    details: dict[str, int | str] = {}
    for name, value in item.get("details", {}).get("M", {}).items():
        details[name] = int(value["N"]) if "N" in value else str(value.get("S", ""))
    return AuditRecord(
        pk=item["pk"]["S"],
        seq=int(item["seq"]["N"]),
        kind=item["kind"]["S"],
        at_ms=int(item["at_ms"]["N"]),
        details=details,
        prev_hash=item["prev_hash"]["S"],
        prev_expires_at=int(item.get("prev_expires_at", {"N": "0"})["N"]),
        expires_at=int(item["expires_at"]["N"]),
        hash=item["hash"]["S"],
    )


class DynamoAuditStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def tail(self, pk: str) -> AuditRecord | None:
        try:
            page = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
                ExpressionAttributeValues={":pk": s(pk), ":a": s(AUDIT_SK_PREFIX)},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "audit tail read") from None
        items = page.get("Items", [])
        return from_audit_item(items[0]) if items else None

    def put_new(self, record: AuditRecord) -> bool:
        item = to_audit_item(record)
        note_expiry(self._client, self._table, item)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=f"attribute_not_exists({PK})",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise store_error(exc, "audit append") from None
            return False
        except BotoCoreError as exc:
            raise store_error(exc, "audit append") from None
        return True

    def chain(self, pk: str) -> list[AuditRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :a)",
            "ExpressionAttributeValues": {":pk": s(pk), ":a": s(AUDIT_SK_PREFIX)},
            "ConsistentRead": True,
        }
        return [from_audit_item(item) for item in self._pages(kwargs)]

    def chains_on_day(self, day_epoch_s: int, *, since_ms: int) -> list[str]:
        """Chains with a record that day since `since_ms`: one query per shard of the day, in time order."""
        found: list[tuple[str, str]] = []
        for day in audit_days(day_epoch_s):
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": AUDIT_INDEX,
                "KeyConditionExpression": "audit_day = :d AND audit_sk >= :from",
                "ExpressionAttributeValues": {":d": s(day), ":from": s(audit_index_lower_bound(since_ms))},
            }
            found.extend((item["audit_sk"]["S"], item["pk"]["S"]) for item in self._pages(kwargs))
        return [pk for _, pk in sorted(found)]

    def mark_day(self, day_epoch_s: int, *, expires_at: int) -> None:
        sk = audit_marker_day(day_epoch_s)
        item = {
            **key(AUDIT_DAYS_PK, sk),
            **expiry_attributes(AUDIT_DAYS_PK, sk, RetentionClass.AUDIT, expires_at),
        }
        note_expiry(self._client, self._table, item)
        try:
            self._client.put_item(TableName=self._table, Item=item)  # idempotent: same key, same day
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "audit day marker write") from None

    def days_with_records(self, since_s: float, until_s: float) -> list[int]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": s(AUDIT_DAYS_PK),
                ":from": s(audit_marker_day(since_s)),
                ":to": s(audit_marker_day(until_s)),
            },
        }
        days = []
        for item in self._pages(kwargs):
            stamp = time.strptime(item["sk"]["S"].removeprefix(AUDIT_DAY_PREFIX), "%Y-%m-%d")
            days.append(calendar.timegm(stamp))
        return days

    def _pages(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        try:
            yield from query_items(self._client, kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "audit read") from None
