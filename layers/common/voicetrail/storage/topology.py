"""DynamoDB adapter of the call topology (port `TopologyStore`): item `CALL#<Vapi call id>` / `TOPOLOGY`,
attribute `role = owner`, retention class metadata (voicetrail.storage.table, item type `call topology`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import UpdateBuilder, get_s, key, s
from voicetrail.storage.failures import store_error
from voicetrail.storage.table import TOPOLOGY_SK, call_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

OWNER = "owner"


class DynamoTopologyStore:
    def __init__(self, client: DynamoDBClient, table: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def mark_owner(self, call_id: str, *, now: float) -> None:
        pk = call_pk(call_id)
        u = UpdateBuilder()
        u.set("role", s(OWNER))
        u.expiry(
            pk, TOPOLOGY_SK, RetentionClass.METADATA, self._retention.expires_at(RetentionClass.METADATA, now)
        )
        note_expiry(self._client, self._table, u.expiry_values)
        try:
            self._client.update_item(TableName=self._table, Key=key(pk, TOPOLOGY_SK), **u.params())
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "topology write") from None

    def is_owner(self, call_id: str) -> bool:
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key=key(call_pk(call_id), TOPOLOGY_SK),
                ConsistentRead=True,
                ProjectionExpression="#r",
                ExpressionAttributeNames={"#r": "role"},
            ).get("Item", {})
        except (ClientError, BotoCoreError) as exc:
            raise store_error(exc, "topology read") from None
        return get_s(item, "role") == OWNER
