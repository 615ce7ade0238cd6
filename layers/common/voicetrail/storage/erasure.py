"""DynamoDB adapter of erasure on request (port `CallerItems`): a caller's items through the CallerIndex,
a call partition's items (keys, class and recording pointers only) with the call's day-index entries, and
batch deletes. Every store
failure becomes StoreUnavailableError, so the operator's request fails cleanly and can be repeated.
Rules: domain.erasure.eraser; the receipts are audit records of the `SYS#erasure` chain (storage.audit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.items import BatchOutcome, ItemKey, RawItem
from voicetrail.storage.audio import held_objects
from voicetrail.storage.batch import BatchDeleter, query_items
from voicetrail.storage.expressions import s
from voicetrail.storage.failures import store_error
from voicetrail.storage.large_bodies import S3BodyStore
from voicetrail.storage.table import AUDIT_SK_PREFIX, CALLER_INDEX, ERASURE_PROJECTION, SK, day_index_entries

_PROJECTION = ", ".join(ERASURE_PROJECTION)
_T = TypeVar("_T")


class DynamoCallerItems:
    def __init__(
        self,
        client: Any,
        table: str,
        *,
        deleter: BatchDeleter | None = None,
        large_bodies: S3BodyStore | None = None,
    ) -> None:
        self._client = client
        self._table = table
        self._deleter = deleter or BatchDeleter(client, table)
        self._large = large_bodies
        # Bodies kept in S3 (storage.large_bodies) of the items read by call_items: deleted with them.
        self._objects: dict[tuple[str, str], str] = {}

    def caller_items(self, caller_hash: str) -> list[RawItem]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CALLER_INDEX,
            "KeyConditionExpression": "caller_hash = :h",
            "ExpressionAttributeValues": {":h": s(caller_hash)},
        }
        return _guarded(lambda: list(query_items(self._client, kwargs)))

    def call_items(self, pk: str) -> list[RawItem]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(pk)},
            "ProjectionExpression": _PROJECTION,
            "ConsistentRead": True,
        }
        items: list[RawItem] = _guarded(lambda: list(query_items(self._client, kwargs)))
        kept = [i for i in items if not i[SK]["S"].startswith(AUDIT_SK_PREFIX)]  # erasure keeps the chain
        for item in kept:
            if "body_s3" in item:
                self._objects[(item["pk"]["S"], item["sk"]["S"])] = item["body_s3"]["S"]
        return kept + day_index_entries(pk, kept)

    def get(self, key: ItemKey) -> RawItem | None:
        item: RawItem | None = _guarded(
            lambda: self._client.get_item(TableName=self._table, Key=key.dynamo()).get("Item")
        )
        return item

    def delete(self, keys: Sequence[ItemKey]) -> BatchOutcome:
        # The S3 bodies (and kept audio) first: an item is never deleted while its object could outlive it.
        objects = [self._objects.pop(k, "") for k in ((key.pk, key.sk) for key in keys)]
        objects += held_objects(keys)
        if self._large is not None and any(objects):
            self._large.delete([o for o in objects if o])
        return _guarded(lambda: self._deleter.delete(keys))


def _guarded(operation: Callable[[], _T]) -> _T:
    try:
        return operation()
    except (ClientError, BotoCoreError) as exc:
        raise store_error(exc, "erasure") from None
