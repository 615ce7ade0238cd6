"""Multi-item reads and batch deletes that respect DynamoDB's contract.

Queries (`query_items`): every page, following LastEvaluatedKey; the caller maps failures to its error.

Deletes: <= 25 requests per call, UnprocessedItems resent with exponential backoff (full jitter),
throttling errors retried the same way. Keys still unprocessed after the last attempt are returned, not
raised: they stay in the table (and the expiry index), so the next run picks them up again. Deleting a
key that is already gone is a no-op, which makes every retry idempotent.

Reads (`batch_get`): <= 100 keys per call, UnprocessedKeys resent with the same backoff. A key still
unprocessed after the last attempt raises: a reader would otherwise take "not read" for "absent".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.domain.items import BATCH_LIMIT, BatchOutcome, ItemKey
from voicetrail.errors import StoreUnavailableError
from voicetrail.storage.expressions import key
from voicetrail.storage.failures import store_error

__all__ = ["BATCH_LIMIT", "BatchDeleter", "BatchOutcome", "ItemKey", "batch_get", "query_items"]
READ_BATCH_LIMIT = 100  # keys per BatchGetItem (DynamoDB's limit)
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


class BatchDeleter:
    def __init__(
        self,
        client: Any,
        table: str,
        *,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._table = table
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def delete(self, keys: Sequence[ItemKey]) -> BatchOutcome:
        """Delete up to 25 keys (one BatchWriteItem, plus retries of what came back unprocessed)."""
        if len(keys) > BATCH_LIMIT:
            raise ValueError("at most 25 keys per batch")
        outcome = BatchOutcome()
        unique = list(dict.fromkeys(keys))  # a batch must not name the same key twice
        pending = [{"DeleteRequest": {"Key": key(k.pk, k.sk)}} for k in unique]
        attempt = 0
        while pending:
            if attempt >= self._max_attempts:
                break
            if attempt:
                outcome.retries += 1
                cap = min(self._max_delay, self._base_delay * (2**attempt))
                self._sleep(self._rng.uniform(cap / 2, cap))
            attempt += 1
            outcome.calls += 1
            try:
                response = self._client.batch_write_item(RequestItems={self._table: pending})
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in RETRYABLE_CODES:
                    outcome.throttled += 1
                    continue
                raise
            except BotoCoreError:
                continue  # connection trouble: same treatment as a throttle
            pending = list((response.get("UnprocessedItems") or {}).get(self._table, []))
        left = {ItemKey.of(r["DeleteRequest"]["Key"]) for r in pending}
        outcome.failed = [k for k in unique if k in left]
        outcome.deleted = [k for k in unique if k not in left]
        return outcome


def batch_get(
    client: Any,
    table: str,
    keys: Sequence[dict[str, Any]],
    *,
    consistent: bool = False,
    projection: Mapping[str, str] | None = None,
    max_attempts: int = 8,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """The items found under `keys` (typed key maps; duplicates read once), in no particular order.

    `projection` maps placeholder -> attribute name (`{"#c": "config"}`); the key attributes are always
    returned. Raises StoreUnavailableError when a call fails or keys stay unprocessed.
    """
    unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())
    extra: dict[str, Any] = {"ConsistentRead": consistent}
    if projection:
        names = {"#pk": "pk", "#sk": "sk", **projection}
        extra.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
    found: list[dict[str, Any]] = []
    for start in range(0, len(unique), READ_BATCH_LIMIT):
        pending: list[dict[str, Any]] = unique[start : start + READ_BATCH_LIMIT]
        for attempt in range(max_attempts):
            if attempt:
                cap = min(max_delay, base_delay * (2**attempt))
                sleep(random.uniform(cap / 2, cap))  # noqa: S311 - jitter, not security
            try:
                response = client.batch_get_item(RequestItems={table: {"Keys": pending, **extra}})
            except (ClientError, BotoCoreError) as exc:
                raise store_error(exc, "batch_get_item") from None
            found.extend(response.get("Responses", {}).get(table, []))
            pending = list((response.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", []))
            if not pending:
                break
        if pending:
            raise StoreUnavailableError("batch_get_item left keys unprocessed")
    return found


def query_items(client: Any, kwargs: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The items of every page of one Query (botocore's errors pass through: callers name the failure)."""
    request = dict(kwargs)
    while True:
        page = client.query(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
