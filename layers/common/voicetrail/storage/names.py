"""DynamoDB adapter of the name memory (port `NameMemory`): item `CALL#<call id>` / `NAMES`, attribute
`name_hashes` (a string set of keyed hashes), retention class content."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import UpdateBuilder, key, string_set
from voicetrail.storage.failures import store_error
from voicetrail.storage.table import NAMES_SK, call_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoNameMemory:
    def __init__(self, client: DynamoDBClient, table: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def known(self, call_id: str) -> frozenset[str]:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=key(call_pk(call_id), NAMES_SK), ProjectionExpression="name_hashes"
            ).get("Item", {})
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "name memory read") from None
        return frozenset(item.get("name_hashes", {}).get("SS", ()))

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None:
        if not hashes:
            return
        pk = call_pk(call_id)
        u = UpdateBuilder()
        u.add("name_hashes", string_set(hashes))
        u.expiry(
            pk, NAMES_SK, RetentionClass.CONTENT, self._retention.expires_at(RetentionClass.CONTENT, now)
        )
        note_expiry(self._client, self._table, u.expiry_values)
        try:
            self._client.update_item(TableName=self._table, Key=key(pk, NAMES_SK), **u.params())
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "name memory write") from None
