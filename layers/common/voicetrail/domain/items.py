"""Items as the retention purge and erasure see them: keys and batch outcomes, independent of DynamoDB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence


# An item as DynamoDB returns it (attribute name -> typed value): what the purge and erasure walk over.
RawItem = dict[str, Any]

BATCH_LIMIT = 25  # keys per batch delete (DynamoDB's BatchWriteItem limit)


class ItemKey(NamedTuple):
    """The primary key of any item of the table (hashable and ordered by pk, then sk)."""

    pk: str
    sk: str

    def dynamo(self) -> dict[str, dict[str, str]]:
        return {"pk": {"S": self.pk}, "sk": {"S": self.sk}}

    @classmethod
    def of(cls, item: RawItem) -> ItemKey:
        return cls(pk=item["pk"]["S"], sk=item["sk"]["S"])


class BatchOutcome:
    """What one batch delete did. A plain class: dataclasses cost ~0.5 ms each at cold start."""

    __slots__ = ("calls", "deleted", "failed", "retries", "throttled")

    def __init__(
        self, deleted: list[ItemKey] | None = None, failed: list[ItemKey] | None = None, calls: int = 0
    ) -> None:
        self.deleted: list[ItemKey] = deleted or []
        self.failed: list[ItemKey] = failed or []
        self.calls = calls
        self.retries = 0
        self.throttled = 0


class ItemDeleter(Protocol):
    def delete(self, keys: Sequence[ItemKey]) -> BatchOutcome:
        """Delete up to 25 keys; keys still unprocessed after the retries come back as `failed`."""
        ...
