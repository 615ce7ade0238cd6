"""The do-not-call list: keyed hashes of numbers (HMAC with the deployment's pepper), never the numbers.

Item: pk = DNC#<number hash>, sk = DNC, added_at (N), retention class `audit` (a do-not-call request is
honoured for years: it expires with the audit period, and an erasure request does not remove it, because
it carries no `caller_hash` attribute: the CallerIndex never finds it).
Managed with `voicetrail dnc add|remove|check` (cli/voicetrail_cli/dnc.py); read by the pre-dial gate.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import StoreUnavailableError
from voicetrail.retention import RetentionClass, RetentionPolicy, expiry_bucket

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DNC_SK = "DNC"


def dnc_pk(number_hash: str) -> str:
    return f"DNC#{number_hash}"


class DynamoDoNotCallList:
    def __init__(self, client: DynamoDBClient, table: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def _key(self, number_hash: str) -> dict[str, Any]:
        return {"pk": {"S": dnc_pk(number_hash)}, "sk": {"S": DNC_SK}}

    def contains(self, number_hash: str) -> bool:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=self._key(number_hash), ProjectionExpression="pk"
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"do-not-call read failed ({type(exc).__name__})") from None
        return bool(item)

    def add(self, number_hash: str, *, now: float) -> bool:
        """True when the hash was not on the list before."""
        expires_at = self._retention.expires_at(RetentionClass.AUDIT, now)
        pk = dnc_pk(number_hash)
        try:
            old = self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(number_hash),
                    "added_at": {"N": str(int(now))},
                    "retention_class": {"S": RetentionClass.AUDIT.value},
                    "expires_at": {"N": str(expires_at)},
                    "exp_bucket": {"S": expiry_bucket(expires_at)},
                    "exp_sk": {"S": f"{expires_at:012d}#{pk}#{DNC_SK}"},
                },
                ReturnValues="ALL_OLD",
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"do-not-call write failed ({type(exc).__name__})") from None
        return "Attributes" not in old

    def remove(self, number_hash: str) -> bool:
        """True when the hash was on the list."""
        try:
            old = self._client.delete_item(
                TableName=self._table, Key=self._key(number_hash), ReturnValues="ALL_OLD"
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"do-not-call delete failed ({type(exc).__name__})") from None
        return "Attributes" in old


class InMemoryDoNotCallList:
    def __init__(self, hashes: set[str] | None = None) -> None:
        self.hashes = set(hashes or ())
        self._lock = threading.Lock()

    def contains(self, number_hash: str) -> bool:
        with self._lock:
            return number_hash in self.hashes

    def add(self, number_hash: str, *, now: float) -> bool:
        with self._lock:
            new = number_hash not in self.hashes
            self.hashes.add(number_hash)
            return new

    def remove(self, number_hash: str) -> bool:
        with self._lock:
            present = number_hash in self.hashes
            self.hashes.discard(number_hash)
            return present
