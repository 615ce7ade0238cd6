"""A call's memory of its caller's name, as keyed hashes only.

A caller says "my name is Maria Gonzalez" once; the assistant says "Thanks, Maria" in a later message,
with no cue a pattern could use. Each name word learnt is remembered as HMAC(pepper, word) on the call
(item `CALL#<id>` / `NAMES`, retention class content), and later messages of the call redact the words
whose hash matches. The name itself is never stored.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import StoreUnavailableError
from voicetrail.retention import RetentionClass, RetentionPolicy, expiry_bucket
from voicetrail.storage.ports import call_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NAMES_SK = "NAMES"


class NameMemory(Protocol):
    def known(self, call_id: str) -> frozenset[str]: ...

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None: ...


class InMemoryNameMemory:
    def __init__(self) -> None:
        self._calls: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def known(self, call_id: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._calls.get(call_id, ()))

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None:
        with self._lock:
            self._calls.setdefault(call_id, set()).update(hashes)


class DynamoNameMemory:
    def __init__(self, client: DynamoDBClient, table: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def _key(self, call_id: str) -> dict[str, Any]:
        return {"pk": {"S": call_pk(call_id)}, "sk": {"S": NAMES_SK}}

    def known(self, call_id: str) -> frozenset[str]:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=self._key(call_id), ProjectionExpression="name_hashes"
            ).get("Item", {})
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"name memory read failed ({type(exc).__name__})") from None
        return frozenset(item.get("name_hashes", {}).get("SS", ()))

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None:
        if not hashes:
            return
        expires_at = self._retention.expires_at(RetentionClass.CONTENT, now)
        pk = call_pk(call_id)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(call_id),
                UpdateExpression="ADD name_hashes :h SET expires_at = :e, retention_class = :c, "
                "exp_bucket = :b, exp_sk = :s",
                ExpressionAttributeValues={
                    ":h": {"SS": sorted(hashes)},
                    ":e": {"N": str(expires_at)},
                    ":c": {"S": RetentionClass.CONTENT.value},
                    ":b": {"S": expiry_bucket(expires_at)},
                    ":s": {"S": f"{expires_at:012d}#{pk}#{NAMES_SK}"},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"name memory write failed ({type(exc).__name__})") from None
