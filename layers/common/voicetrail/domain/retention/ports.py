"""What the retention purge needs from storage: expired items by expiry bucket, which buckets received
items (the expiry day records), and its cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from voicetrail.domain.items import ItemKey, RawItem

if TYPE_CHECKING:
    from collections.abc import Callable


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


class ExpiryDays(Protocol):
    """Which expiry buckets received items, per UTC day (voicetrail.storage.expiry_days). Days are epoch
    seconds of their UTC midnight; a day's buckets are ExpiryIndex hash keys."""

    reads: int  # requests made so far (the purge reports them)

    def buckets(self, first_day: int, last_day: int) -> dict[int, tuple[str, ...]] | None:
        """The buckets of each day in the range that received items; None while the records do not cover
        every item yet (the purge then reads every bucket)."""
        ...

    def forget(self, day: int) -> None:
        """Drop a clean past day's record."""
        ...

    def backfill(
        self, first_day: int, last_day: int, *, write: bool, more: Callable[[], bool], now: int
    ) -> dict[int, tuple[str, ...]] | None:
        """Find (and with `write`, record) the buckets of items written before the records existed; the
        range's buckets when done, None when `more()` said stop first."""
        ...


class PurgeCursor(Protocol):
    """Where the next purge run starts (days since the epoch)."""

    def read(self) -> int | None: ...

    def write(self, day: int, *, now: int, expires_at: int) -> None: ...
