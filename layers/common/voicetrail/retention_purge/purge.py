"""Find expired items through the sparse ExpiryIndex (one query per past day-bucket) and delete them.

Cost grows with the number of expired items, not with the table. Deletes go in batches of 25 with
UnprocessedItems retried with backoff, and the run stops cleanly before its deadline: the next run
resumes where this one stopped, since deleted items leave the index.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicetrail.retention import DAY, expiry_bucket

BATCH = 25


@dataclass
class PurgeReport:
    scanned_buckets: int = 0
    items_read: int = 0
    deleted: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    stopped_early: bool = False
    dry_run: bool = False
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "scanned_buckets": self.scanned_buckets,
            "items_read": self.items_read,
            "deleted": dict(self.deleted),
            "deleted_total": sum(self.deleted.values()),
            "failures": self.failures,
            "stopped_early": self.stopped_early,
            "dry_run": self.dry_run,
            "duration_ms": self.duration_ms,
        }


class RetentionPurger:
    def __init__(
        self,
        client: Any,
        table: str,
        *,
        lookback_days: int = 30,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table
        self._lookback_days = lookback_days
        self._clock = clock
        self._sleep = sleep

    def run(self, *, dry_run: bool = False, remaining_ms: Callable[[], int] | None = None) -> PurgeReport:
        started = self._clock()
        report = PurgeReport(dry_run=dry_run)
        now = int(started)
        for day in range(self._lookback_days, -1, -1):
            if remaining_ms is not None and remaining_ms() < 5_000:
                report.stopped_early = True
                break
            bucket = expiry_bucket(now - day * DAY)
            report.scanned_buckets += 1
            keys = self._expired_keys(bucket, now, report)
            if not dry_run:
                self._delete(keys, report, remaining_ms)
            else:
                report.deleted.update(k["retention_class"] for k in keys)
        report.duration_ms = int((self._clock() - started) * 1000)
        return report

    def _expired_keys(self, bucket: str, now: int, report: PurgeReport) -> list[dict[str, str]]:
        keys: list[dict[str, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "ExpiryIndex",
            "KeyConditionExpression": "exp_bucket = :b AND exp_sk < :upper",
            "ExpressionAttributeValues": {":b": {"S": bucket}, ":upper": {"S": f"{now:012d}#"}},
        }
        while True:
            page = self._client.query(**kwargs)
            for item in page.get("Items", []):
                report.items_read += 1
                keys.append({"pk": item["pk"]["S"], "sk": item["sk"]["S"], "retention_class": "unknown"})
            if "LastEvaluatedKey" not in page:
                return keys
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _delete(
        self, keys: list[dict[str, str]], report: PurgeReport, remaining_ms: Callable[[], int] | None
    ) -> None:
        for start in range(0, len(keys), BATCH):
            if remaining_ms is not None and remaining_ms() < 5_000:
                report.stopped_early = True
                return
            chunk = keys[start : start + BATCH]
            requests = [
                {"DeleteRequest": {"Key": {"pk": {"S": k["pk"]}, "sk": {"S": k["sk"]}}}} for k in chunk
            ]
            pending = {self._table: requests}
            delay = 0.05
            for _attempt in range(8):
                response = self._client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                self._sleep(delay)
                delay = min(delay * 2, 2.0)
            left = len(pending.get(self._table, [])) if pending else 0
            report.failures += left
            report.deleted["items"] += len(chunk) - left
