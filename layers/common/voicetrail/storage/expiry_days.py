"""Which ExpiryIndex buckets received items, per expiry day, so the retention purge reads the buckets that can
hold expired items and no others (port `ExpiryDays`; the rules: voicetrail.domain.retention.purge).

Writers: before an item that carries expiry attributes is written, `note_expiry(client, table, attrs)` adds
its bucket to the day record `SYS#expiry-days` / `EXP#YYYY-MM-DD` (UpdateItem ADD to a string set), once per
process, client, table and bucket. A day has 17 buckets, so a warm Lambda process writes a day's record at
most 17 times in its life, whatever the traffic: a small write per new (day, shard), not per item. The record
is written first: a record may name a bucket that holds nothing (one empty query), but an item is never in a
bucket its day's record does not name. A failed record write fails the item's write (the sender retries).

Reader (`DynamoExpiryDays`): one query over the day records of the purge's range (a few items per page:
the days that have buckets), then the purge queries those buckets only. A run that finds nothing expired
reads the backfill state and one page of day records.

Backfill: a table written before the records existed holds items no record names. Until the state item
`SYS#expiry-days` / `STATE#backfill` says `complete`, `buckets` answers None (the purge then reads every
bucket of every day, as it always did) and `backfill` scans the ExpiryIndex once, keys only, recording
every bucket it sees; the scan resumes where the last run stopped (`scan_from`). A dry run scans without
writing. Run it after a deploy has finished (the scheduled purge does): an item written by the previous
version after the scan passed its place would be found by DynamoDB TTL only.
"""

from __future__ import annotations

import calendar
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from voicetrail.errors import StoreUnavailableError
from voicetrail.storage.expressions import key, n, s
from voicetrail.storage.table import (
    EXPIRY_BUCKET_PREFIX,
    EXPIRY_DAYS_PK,
    EXPIRY_DAYS_STATE_SK,
    EXPIRY_INDEX,
    day_of_bucket,
    expiry_day,
)

BucketsByDay = dict[int, tuple[str, ...]]  # UTC day (epoch seconds of its midnight) -> its buckets
_MEMO_LIMIT = 4096  # (table, bucket) pairs remembered per client; past it the memo starts over
_NOTED: weakref.WeakKeyDictionary[Any, set[tuple[str, str]]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def note_expiry(client: Any, table: str, *items: Mapping[str, Any]) -> None:
    """Before writing `items` (whole items or the expiry attributes of an update): record their buckets in
    their days' records, unless this process already did. Raises StoreUnavailableError."""
    buckets = {str(item["exp_bucket"]["S"]) for item in items if "exp_bucket" in item}
    if not buckets:
        return
    with _LOCK:
        seen = _NOTED.setdefault(client, set())
        new = sorted(b for b in buckets if (table, b) not in seen)
    try:
        for day, day_buckets in _by_day(new).items():
            _add_buckets(client, table, day, day_buckets)
    except (ClientError, BotoCoreError) as exc:
        raise StoreUnavailableError(f"expiry day record write failed ({type(exc).__name__})") from None
    with _LOCK:
        if len(seen) + len(new) > _MEMO_LIMIT:
            seen.clear()
        seen.update((table, b) for b in new)


def _by_day(buckets: Iterable[str]) -> dict[str, list[str]]:
    days: dict[str, list[str]] = defaultdict(list)
    for bucket in buckets:
        days[day_of_bucket(bucket)].append(bucket)
    return days


def _add_buckets(client: Any, table: str, day: str, buckets: Iterable[str]) -> None:
    client.update_item(
        TableName=table,
        Key=key(EXPIRY_DAYS_PK, day),
        UpdateExpression="ADD #b :b",
        ExpressionAttributeNames={"#b": "buckets"},
        ExpressionAttributeValues={":b": {"SS": sorted(set(buckets))}},
    )


def _day_epoch(day: str) -> int:
    return calendar.timegm(time.strptime(day.removeprefix(EXPIRY_BUCKET_PREFIX), "%Y-%m-%d"))


class DynamoExpiryDays:
    """The day records of one table: read by the purge, forgotten when a day is clean, backfilled once."""

    def __init__(self, client: Any, table: str, *, scan_page: int = 1000) -> None:
        self._client = client
        self._table = table
        self._scan_page = scan_page
        self.reads = 0  # requests made (state read, record pages, scan pages): the purge reports them

    def buckets(self, first_day: int, last_day: int) -> BucketsByDay | None:
        """The buckets named by the records of days `first_day..last_day`; None until the backfill is done."""
        if not self._state().get("complete", {}).get("BOOL", False):
            return None
        found: BucketsByDay = {}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": s(EXPIRY_DAYS_PK),
                ":from": s(expiry_day(first_day)),
                ":to": s(expiry_day(last_day)),
            },
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**kwargs)
            self.reads += 1
            for item in page.get("Items", []):
                found[_day_epoch(item["sk"]["S"])] = tuple(sorted(item.get("buckets", {}).get("SS", [])))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def forget(self, day: int) -> None:
        """The day is clean and no writer adds to it any more: drop its record."""
        self._client.delete_item(TableName=self._table, Key=key(EXPIRY_DAYS_PK, expiry_day(day)))

    def backfill(
        self, first_day: int, last_day: int, *, write: bool, more: Callable[[], bool], now: int
    ) -> BucketsByDay | None:
        """Scan the ExpiryIndex (keys only) for buckets no record may name. `write`: record them and
        resume from the saved place; else (a dry run) scan from the start and keep nothing. The buckets of
        `first_day..last_day` when the scan finished, None when `more()` said stop first."""
        start = self._state().get("scan_from", {}).get("M") if write else None
        seen: dict[str, set[str]] = defaultdict(set)
        while more():
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": EXPIRY_INDEX,
                "ProjectionExpression": "exp_bucket",
                "Limit": self._scan_page,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._client.scan(**kwargs)
            self.reads += 1
            found = _by_day(str(item["exp_bucket"]["S"]) for item in page.get("Items", []))
            for day, buckets in found.items():
                seen[day].update(buckets)
                if write:
                    _add_buckets(self._client, self._table, day, buckets)
            start = page.get("LastEvaluatedKey")
            if write:
                self._save_state(start, now=now)
            if not start:
                first, last = expiry_day(first_day), expiry_day(last_day)
                return {
                    _day_epoch(day): tuple(sorted(b))
                    for day, b in sorted(seen.items())
                    if first <= day <= last
                }
        return None

    def _state(self) -> dict[str, Any]:
        response = self._client.get_item(
            TableName=self._table, Key=key(EXPIRY_DAYS_PK, EXPIRY_DAYS_STATE_SK), ConsistentRead=True
        )
        self.reads += 1
        item: dict[str, Any] = response.get("Item") or {}
        return item

    def _save_state(self, scan_from: Mapping[str, Any] | None, *, now: int) -> None:
        item: dict[str, Any] = {
            **key(EXPIRY_DAYS_PK, EXPIRY_DAYS_STATE_SK),
            "complete": {"BOOL": scan_from is None},
            "updated_at": n(now),
        }
        if scan_from is not None:
            item["scan_from"] = {"M": dict(scan_from)}
        self._client.put_item(TableName=self._table, Item=item)
