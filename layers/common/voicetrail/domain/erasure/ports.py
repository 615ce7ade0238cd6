"""What erasure needs from storage: a caller's items and a call partition's items, deleting them, and the
follow-up tasks of deletions at providers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from voicetrail.domain.items import ItemDeleter, ItemKey, RawItem

if TYPE_CHECKING:
    from voicetrail.domain.erasure.followups import ErasureTask


class CallerItems(ItemDeleter, Protocol):
    """What erasure reads and deletes: a caller's items (CallerIndex) and a call partition's items.
    Every method raises StoreUnavailableError when the store fails."""

    def caller_items(self, caller_hash: str) -> list[RawItem]:
        """Keys of every item that carries the caller hash. Raises StoreUnavailableError."""
        ...

    def call_items(self, pk: str) -> list[RawItem]:
        """Every item of a call partition with its class and pointers (not the bodies)."""
        ...

    def get(self, key: ItemKey) -> RawItem | None: ...


class ErasureTasks(Protocol):
    """Follow-up deletions at providers (voicetrail.domain.erasure.followups), one per (provider, target).
    Every method raises StoreUnavailableError when the store fails."""

    def add(self, task: ErasureTask) -> None:
        """Record a task unless one for the same provider and target exists (the older one is kept)."""
        ...

    def pending(self, limit: int) -> list[ErasureTask]:
        """Up to `limit` open tasks, oldest key first."""
        ...

    def update(self, task: ErasureTask) -> None:
        """Store an attempt's outcome (attempts, last outcome and time)."""
        ...

    def done(self, task: ErasureTask) -> None:
        """Remove a finished (or skipped) task."""
        ...
