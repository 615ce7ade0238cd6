"""A DynamoDB client wrapper that behaves like the real service where moto does not.

moto accepts BatchWriteItem calls of any size and never returns UnprocessedItems. This wrapper
* rejects batches of more than 25 requests (ValidationException), as DynamoDB does;
* returns part of a batch as UnprocessedItems, per a plan (the part it does process reaches moto);
* raises throttling errors on chosen calls;
* counts items returned by reads, so tests and the benchmark can assert O(expired) cost;
* can run out of "time" through a fake Lambda clock.
Everything else is passed through to the wrapped (moto) client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


def client_error(code: str, operation: str, message: str = "injected") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@dataclass
class FaultPlan:
    # For the n-th batch_write_item call (0-based), how many requests to hand back unprocessed.
    unprocessed: Callable[[int, int], int] = lambda call, size: 0
    # Calls (0-based) of batch_write_item that raise ProvisionedThroughputExceededException.
    throttle_calls: set[int] = field(default_factory=set)


class FaultyDynamo:
    def __init__(self, inner: Any, plan: FaultPlan | None = None) -> None:
        self._inner = inner
        self.plan = plan or FaultPlan()
        self.batch_calls = 0
        self.batch_sizes: list[int] = []
        self.unprocessed_returned = 0
        self.items_read = 0
        self.scans = 0
        self.on_batch: Callable[[], None] | None = None

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        call = self.batch_calls
        self.batch_calls += 1
        if self.on_batch is not None:
            self.on_batch()
        (table, requests), *rest = kwargs["RequestItems"].items()
        assert not rest, "one table per batch"
        self.batch_sizes.append(len(requests))
        if len(requests) > 25:
            raise client_error("ValidationException", "BatchWriteItem", "Too many items requested")
        if call in self.plan.throttle_calls:
            raise client_error("ProvisionedThroughputExceededException", "BatchWriteItem")
        keep = min(len(requests), max(0, self.plan.unprocessed(call, len(requests))))
        processed, unprocessed = requests[: len(requests) - keep], requests[len(requests) - keep :]
        if processed:
            self._inner.batch_write_item(RequestItems={table: processed})
        self.unprocessed_returned += len(unprocessed)
        return {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = self._inner.query(**kwargs)
        self.items_read += len(page.get("Items", []))
        return page

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = self._inner.get_item(**kwargs)
        self.items_read += 1 if "Item" in response else 0
        return response

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        self.scans += 1
        result: dict[str, Any] = self._inner.scan(**kwargs)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class FakeClock:
    """Lambda time: `remaining_ms` drops by `cost_ms` every time `tick` is called (e.g. per batch)."""

    def __init__(self, budget_ms: int) -> None:
        self.left = budget_ms

    def tick(self, cost_ms: int = 1_000) -> None:
        self.left -= cost_ms

    def remaining_ms(self) -> int:
        return self.left
