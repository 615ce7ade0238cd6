"""What erasure needs from storage: a caller's items and a call partition's items, and deleting them.
The follow-up tasks' port (`ErasureTasks`) is beside its task type in `followups`."""

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
        """Every item that holds the call's data, with its class and pointers (not the bodies): its
        partition's items except the audit records (which erasure keeps), and its day-index entries."""
        ...

    def get(self, key: ItemKey) -> RawItem | None: ...
