"""What erasure needs from storage: a caller's items and a call partition's items, and deleting them."""

from __future__ import annotations

from typing import Protocol

from voicetrail.domain.items import ItemDeleter, ItemKey, RawItem


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
