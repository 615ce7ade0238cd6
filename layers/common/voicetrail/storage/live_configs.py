"""Writing and listing per-number live configs in the events table (the webhook reads them through
voicetrail.live.config.TableConfigSource).

  pk = CONFIG#phone#<id> | CONFIG#assistant#<id> | CONFIG#default   sk = CONFIG   config (S, JSON)
  pk = CONFIG#index      sk = <that pk>                                          updated_ms (N)

The index partition lets `voicetrail config list` answer with one query instead of a Scan.
Config items hold business settings (prompts, keywords, transfer numbers), never caller data, and have
no expiry.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import StoreUnavailableError
from voicetrail.live.config import CONFIG_SK

INDEX_PK = "CONFIG#index"


class TableConfigStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, key: str, raw: str, *, now: float | None = None) -> None:
        updated = str(int((now if now is not None else time.time()) * 1000))
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {"pk": {"S": key}, "sk": {"S": CONFIG_SK}, "config": {"S": raw}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {"pk": {"S": INDEX_PK}, "sk": {"S": key}, "updated_ms": {"N": updated}},
                        }
                    },
                ]
            )
        except (ClientError, BotoCoreError):
            raise StoreUnavailableError("config write failed") from None

    def get(self, key: str) -> str | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": key}, "sk": {"S": CONFIG_SK}}, ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError):
            raise StoreUnavailableError("config read failed") from None
        return str(item["config"]["S"]) if item and "S" in item.get("config", {}) else None

    def list(self) -> list[tuple[str, int]]:
        """(key, updated_ms) of every config written through this store."""
        out: list[tuple[str, int]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": INDEX_PK}},
        }
        try:
            while True:
                page = self._client.query(**kwargs)
                out.extend((i["sk"]["S"], int(i["updated_ms"]["N"])) for i in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return out
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError):
            raise StoreUnavailableError("config list failed") from None
