"""DynamoDB adapter of the erasure follow-ups (port `ErasureTasks`; rules: domain.erasure.followups).

Item `SYS#erasure-tasks` / `TASK#<provider>#<target>`: one partition, read with one paged Query per purge
run (open tasks are few: each is an erasure a provider has not confirmed yet). No expiry attributes: a
task must never be purged or dropped by TTL before it is done. Every store failure becomes
StoreUnavailableError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.erasure.followups import ErasureTask
from voicetrail.domain.items import ItemKey
from voicetrail.errors import StoreUnavailableError
from voicetrail.storage.batch import BatchDeleter, query_items
from voicetrail.storage.expressions import key, n, s
from voicetrail.storage.table import ERASURE_TASK_SK_PREFIX, ERASURE_TASKS_PK, PK, erasure_task_sk

_T = TypeVar("_T")


def to_task_item(task: ErasureTask) -> dict[str, Any]:
    return {
        **key(ERASURE_TASKS_PK, erasure_task_sk(task.provider, task.target)),
        "provider": s(task.provider),
        "target": s(task.target),
        "call_id": s(task.call_id),
        "request_id": s(task.request_id),
        "created_at": n(task.created_at),
        "due_at": n(task.due_at),
        "attempts": n(task.attempts),
        "last_outcome": s(task.last_outcome),
        "last_attempt_at": n(task.last_attempt_at),
    }


def from_task_item(item: Mapping[str, Any]) -> ErasureTask:
    return ErasureTask(
        provider=item["provider"]["S"],
        target=item["target"]["S"],
        call_id=item["call_id"]["S"],
        request_id=item["request_id"]["S"],
        created_at=int(item["created_at"]["N"]),
        due_at=int(item["due_at"]["N"]),
        attempts=int(item.get("attempts", {"N": "0"})["N"]),
        last_outcome=item.get("last_outcome", {"S": "queued"})["S"],
        last_attempt_at=int(item.get("last_attempt_at", {"N": "0"})["N"]),
    )


class DynamoErasureTasks:
    def __init__(self, client: Any, table: str, *, deleter: BatchDeleter | None = None) -> None:
        self._client = client
        self._table = table
        # BatchWriteItem, which both functions that touch tasks may already call: no DeleteItem grant.
        self._deleter = deleter or BatchDeleter(client, table)

    def add(self, task: ErasureTask) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_task_item(task),
                ConditionExpression=f"attribute_not_exists({PK})",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreUnavailableError("erasure task write failed") from None
        except BotoCoreError:
            raise StoreUnavailableError("erasure task write failed") from None

    def pending(self, limit: int) -> list[ErasureTask]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :t)",
            "ExpressionAttributeValues": {":pk": s(ERASURE_TASKS_PK), ":t": s(ERASURE_TASK_SK_PREFIX)},
            "ConsistentRead": True,
        }
        return _guarded(lambda: [from_task_item(i) for i in islice(query_items(self._client, kwargs), limit)])

    def update(self, task: ErasureTask) -> None:
        _guarded(lambda: self._client.put_item(TableName=self._table, Item=to_task_item(task)))

    def done(self, task: ErasureTask) -> None:
        item_key = ItemKey(ERASURE_TASKS_PK, erasure_task_sk(task.provider, task.target))
        outcome = _guarded(lambda: self._deleter.delete([item_key]))
        if outcome.failed:
            raise StoreUnavailableError("erasure task delete failed")


def _guarded(operation: Callable[[], _T]) -> _T:
    try:
        return operation()
    except (ClientError, BotoCoreError):
        raise StoreUnavailableError("erasure tasks: store failed") from None
