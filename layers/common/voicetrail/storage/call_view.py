"""Reads for operators: a whole call partition in one query, a caller's calls through the CallerIndex.

`calls show` reads a call with one query per partition (the Vapi call's, and the Twilio call's when it
has one): events, live state, rule snapshots, the audit chain and the summary all live under the call's
pk, so nothing is read item by item. `RequestCounter` wraps a client to count what a command costs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.storage.batch import query_items
from voicetrail.storage.failures import store_error

CALLER_INDEX = "CallerIndex"


class RequestCounter:
    """A DynamoDB client that counts the requests made through it (by operation)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.counts: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or name.startswith(("get_paginator", "get_waiter", "can_paginate")):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return attr(*args, **kwargs)

        return counted


def query_all(client: Any, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of a Query. Raises StoreUnavailableError."""
    try:
        return list(query_items(client, kwargs))
    except (ClientError, BotoCoreError) as exc:
        raise store_error(exc, "query") from None


def partition_items(client: Any, table: str, pk: str) -> list[dict[str, Any]]:
    """Every item of one partition (raw DynamoDB items), in sort-key order."""
    return query_all(
        client,
        {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        },
    )


def caller_partitions(client: Any, table: str, caller_hash: str) -> list[str]:
    """pks of the call partitions that hold items of this caller (keys only, from the sparse index)."""
    items = query_all(
        client,
        {
            "TableName": table,
            "IndexName": CALLER_INDEX,
            "KeyConditionExpression": "caller_hash = :h",
            "ExpressionAttributeValues": {":h": {"S": caller_hash}},
        },
    )
    return list(dict.fromkeys(i["pk"]["S"] for i in items if i["pk"]["S"].startswith("CALL#")))
