"""DynamoDB adapter of voicetrail.vapi.topology.TopologyStore.

Item: pk = CALL#<vapi call id>, sk = TOPOLOGY, role = owner, retention class metadata (with the usual
expiry attributes, so the purge removes it with the call's other metadata).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import StoreUnavailableError
from voicetrail.retention import RetentionClass, RetentionPolicy, expiry_bucket
from voicetrail.storage.ports import call_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TOPOLOGY_SK = "TOPOLOGY"


class DynamoTopologyStore:
    def __init__(self, client: DynamoDBClient, table: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def _key(self, call_id: str) -> dict[str, Any]:
        return {"pk": {"S": call_pk(call_id)}, "sk": {"S": TOPOLOGY_SK}}

    def mark_owner(self, call_id: str, *, now: float) -> None:
        expires_at = self._retention.expires_at(RetentionClass.METADATA, now)
        pk = call_pk(call_id)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(call_id),
                UpdateExpression="SET #r = :r, expires_at = :e, retention_class = :c, "
                "exp_bucket = :b, exp_sk = :s",
                ExpressionAttributeNames={"#r": "role"},
                ExpressionAttributeValues={
                    ":r": {"S": "owner"},
                    ":e": {"N": str(expires_at)},
                    ":c": {"S": RetentionClass.METADATA.value},
                    ":b": {"S": expiry_bucket(expires_at)},
                    ":s": {"S": f"{expires_at:012d}#{pk}#{TOPOLOGY_SK}"},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"topology write failed ({type(exc).__name__})") from None

    def is_owner(self, call_id: str) -> bool:
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key=self._key(call_id),
                ConsistentRead=True,
                ProjectionExpression="#r",
                ExpressionAttributeNames={"#r": "role"},
            ).get("Item", {})
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"topology read failed ({type(exc).__name__})") from None
        return item.get("role", {}).get("S") == "owner"
