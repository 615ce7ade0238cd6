"""What the retention purge needs from storage: expired items by expiry bucket, and its cursor."""

from __future__ import annotations

from typing import Any, Protocol

from voicetrail.domain.items import ItemKey, RawItem


class ExpiredItems(Protocol):
    """What the retention purge reads and changes: expired items by expiry day-bucket."""

    def expired_page(
        self, bucket: str, *, now: int, limit: int, start: Any | None
    ) -> tuple[list[RawItem], Any | None]:
        """One ExpiryIndex page of items of `bucket` due before `now`, and where the next page starts."""
        ...

    def get(self, key: ItemKey, *, projection: str | None = None) -> RawItem | None: ...

    def count_purge_attempt(self, item: RawItem, *, outcome: str, now: int, hold_until: int) -> int:
        """Record one failed external delete and hold the item's TTL until `hold_until`; the attempts so far
        (when the write fails, the item's last known count plus one)."""
        ...


class PurgeCursor(Protocol):
    """Where the next purge run starts (days since the epoch)."""

    def read(self) -> int | None: ...

    def write(self, day: int, *, now: int, expires_at: int) -> None: ...
