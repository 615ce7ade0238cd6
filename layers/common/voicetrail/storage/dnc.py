"""DynamoDB adapter of the do-not-call list (port `DoNotCallList`): keyed hashes of numbers (HMAC with the
deployment's pepper), never the numbers (voicetrail.storage.table, item type `do-not-call entry`).

Item: pk = DNC#<number hash>, sk = DNC, added_at (N), retention class `audit` (a do-not-call request is
honoured for years: it expires with the audit period). It carries no `caller_hash`, so the CallerIndex
never finds it and an erasure request leaves it in place. Managed with `voicetrail dnc add|remove|check`
(cli/voicetrail_cli/dnc.py); read by the pre-dial gate (voicetrail.providers.vapi.predial).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import expiry_attributes, key, n
from voicetrail.storage.failures import store_error
from voicetrail.storage.table import DNC_SK, PK, dnc_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDoNotCallList:
    def __init__(self, client: DynamoDBClient, table: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def contains(self, number_hash: str) -> bool:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=key(dnc_pk(number_hash), DNC_SK), ProjectionExpression=PK
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "do-not-call read") from None
        return bool(item)

    def add(self, number_hash: str, *, now: float) -> bool:
        pk = dnc_pk(number_hash)
        expires_at = self._retention.expires_at(RetentionClass.AUDIT, now)
        item = {
            **key(pk, DNC_SK),
            "added_at": n(int(now)),
            **expiry_attributes(pk, DNC_SK, RetentionClass.AUDIT, expires_at),
        }
        note_expiry(self._client, self._table, item)
        try:
            old = self._client.put_item(
                TableName=self._table,
                Item=item,
                ReturnValues="ALL_OLD",
            )
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "do-not-call write") from None
        return "Attributes" not in old

    def remove(self, number_hash: str) -> bool:
        try:
            old = self._client.delete_item(
                TableName=self._table, Key=key(dnc_pk(number_hash), DNC_SK), ReturnValues="ALL_OLD"
            )
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "do-not-call delete") from None
        return "Attributes" in old
