"""DynamoDB adapters of the retention purge: expired items by ExpiryIndex bucket (port `ExpiredItems`) and
the purge cursor `SYS#purge` / `STATE#cursor` (port `PurgeCursor`). Rules: voicetrail.retention_purge.

Errors are not translated here: a failed read ends the run (the next scheduled run resumes from the
cursor), as it always did.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.items import ItemKey, RawItem
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.storage.expiry_days import note_expiry
from voicetrail.storage.expressions import UpdateBuilder, expiry_attributes, key, n, s
from voicetrail.storage.table import CURSOR_PK, CURSOR_SK, EXPIRY_INDEX, PK, TTL_ATTRIBUTE, expiry_upper_bound


class DynamoExpiredItems:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def expired_page(
        self, bucket: str, *, now: int, limit: int, start: Any | None
    ) -> tuple[list[RawItem], Any | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": EXPIRY_INDEX,
            "KeyConditionExpression": "exp_bucket = :b AND exp_sk < :upper",
            "ExpressionAttributeValues": {":b": s(bucket), ":upper": s(expiry_upper_bound(now))},
            "Limit": limit,
        }
        if start is not None:
            kwargs["ExclusiveStartKey"] = start
        page = self._client.query(**kwargs)
        return list(page.get("Items", [])), page.get("LastEvaluatedKey")

    def get(self, item_key: ItemKey, *, projection: str | None = None) -> RawItem | None:
        return _get_item(self._client, self._table, item_key, consistent=False, projection=projection)

    def count_purge_attempt(self, item: RawItem, *, outcome: str, now: int, hold_until: int) -> int:
        u = UpdateBuilder()
        u.increment("purge_attempts")
        u.set("purge_last_outcome", s(outcome))
        u.set("purge_last_attempt_at", n(now))
        # The due time is kept (it is also in exp_sk); the TTL is held off so DynamoDB cannot drop the item.
        u.set_if_absent_from("purge_due_at", TTL_ATTRIBUTE)
        u.set(TTL_ATTRIBUTE, n(hold_until))
        u.condition = f"attribute_exists({u.name(PK)})"
        try:
            response = self._client.update_item(
                TableName=self._table, Key=ItemKey.of(item).dynamo(), ReturnValues="UPDATED_NEW", **u.params()
            )
        except (ClientError, BotoCoreError):
            # Could not record the attempt: the item stays and is retried; count it as one more.
            return int(item.get("purge_attempts", {}).get("N", "0")) + 1
        return int(response.get("Attributes", {}).get("purge_attempts", {}).get("N", "1"))


class DynamoPurgeCursor:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def read(self) -> int | None:
        item = _get_item(self._client, self._table, ItemKey(CURSOR_PK, CURSOR_SK), consistent=True)
        if item is None or "oldest_day" not in item:
            return None
        return int(item["oldest_day"]["N"])

    def write(self, day: int, *, now: int, expires_at: int) -> None:
        item = {
            **key(CURSOR_PK, CURSOR_SK),
            "oldest_day": n(day),
            "updated_at": n(now),
            **expiry_attributes(CURSOR_PK, CURSOR_SK, RetentionClass.METADATA, expires_at),
        }
        note_expiry(self._client, self._table, item)
        self._client.put_item(TableName=self._table, Item=item)


def _get_item(
    client: Any, table: str, item_key: ItemKey, *, consistent: bool, projection: str | None = None
) -> RawItem | None:
    kwargs: dict[str, Any] = {"TableName": table, "Key": item_key.dynamo(), "ConsistentRead": consistent}
    if projection:
        kwargs["ProjectionExpression"] = projection
    item: RawItem | None = client.get_item(**kwargs).get("Item")
    return item
