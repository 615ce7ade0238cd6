"""Purge cost vs table size: tables of 10k and 100k items with the same 1k expired.

The claim under test: the purge's cost grows with the number of expired items, not with the table.
"items read" counts every item DynamoDB returns to the purge (index query results + GetItem), which is
what a purge is billed for in read units; the target is items read <= 1.1 x items expired.

Runs on in-process moto with the table created from template.yaml (same indexes and projections).
Wall time on moto is shown for completeness, but moto answers an index query by walking every item of
the table, so moto's time grows with the table where DynamoDB's does not: read the items-read column.

    .venv/bin/python benchmarks/purge.py            # ~1-2 minutes
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit_summary

TABLE = "voicetrail-bench"
EXPIRED = 1_000
SIZES = (10_000, 100_000)
DAY = 86_400


class CountingClient:
    """Counts what the purge reads and how it calls DynamoDB."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.items_read = 0
        self.queries = 0
        self.batches = 0
        self.scans = 0

    def query(self, **kwargs: Any) -> Any:
        self.queries += 1
        page = self._inner.query(**kwargs)
        self.items_read += len(page.get("Items", []))
        return page

    def get_item(self, **kwargs: Any) -> Any:
        response = self._inner.get_item(**kwargs)
        self.items_read += "Item" in response
        return response

    def batch_write_item(self, **kwargs: Any) -> Any:
        self.batches += 1
        return self._inner.batch_write_item(**kwargs)

    def scan(self, **kwargs: Any) -> Any:
        self.scans += 1
        return self._inner.scan(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def fill(client: Any, total: int, now: int) -> None:
    from voicetrail.domain.calls.ports import StoredEvent
    from voicetrail.domain.retention.classes import RetentionClass
    from voicetrail.storage.dynamo import to_item

    classes = [RetentionClass.CONTENT, RetentionClass.METADATA, RetentionClass.AUDIT]
    batch: list[dict[str, Any]] = []
    for n in range(total):
        # expired: spread over the last 10 days; alive: tomorrow .. 6 years
        expires_at = now - 60 - (n % 10) * DAY if n < EXPIRED else now + DAY + (n % 2190) * DAY
        item = to_item(
            StoredEvent(
                call_id=f"call-{n // 20}",
                event_key=f"evt-{n}",
                source="vapi",
                event_type="transcript",
                retention_class=classes[n % 3],
                expires_at=expires_at,
                received_at_ms=now * 1000,
                body={"transcript": "[redacted] " * 8, "n": n},
            )
        )
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={TABLE: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={TABLE: batch})


def run_size(total: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from voicetrail.domain.retention.purge import PurgeConfig
    from voicetrail.wiring.deletion import dynamo_purger
    from voicetrail_cli.local import ensure_table

    now = int(time.time())
    with mock_aws():
        raw = boto3.client("dynamodb", region_name="us-east-1")
        ensure_table(raw, TABLE)
        started = time.perf_counter()
        fill(raw, total, now)
        fill_s = time.perf_counter() - started
        rows = []
        for run in ("first", "second"):
            client = CountingClient(raw)
            # 14 days of buckets: the expired items span 10. (The first production run walks
            # PURGE_LOOKBACK_DAYS once; later runs start at the cursor, usually today's bucket.)
            purger = dynamo_purger(client, TABLE, config=PurgeConfig(lookback_days=14), sleep=lambda _: None)
            t0 = time.perf_counter()
            report = purger.run()
            elapsed = time.perf_counter() - t0
            rows.append(
                {
                    "table_items": total,
                    "run": run,
                    "expired": sum(report.expired.values()),
                    "deleted": report.deleted_total,
                    "items_read": client.items_read,
                    "queries": client.queries,
                    "batch_writes": client.batches,
                    "scans": client.scans,
                    "moto_s": round(elapsed, 2),
                }
            )
        left = raw.describe_table(TableName=TABLE)["Table"].get("ItemCount")
        print(f"  filled {total} items in {fill_s:.1f}s; items left after purge: {left}", flush=True)
    return {"rows": rows}


def main() -> int:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    all_rows: list[dict[str, Any]] = []
    for total in SIZES:
        print(f"table of {total} items, {EXPIRED} expired ...", flush=True)
        all_rows += run_size(total)["rows"]
    header = [
        "table_items",
        "run",
        "expired",
        "deleted",
        "items_read",
        "queries",
        "batch_writes",
        "scans",
        "moto_s",
    ]
    print("\n| " + " | ".join(header) + " | read/expired |")
    print("|" + "---|" * (len(header) + 1))
    for row in all_rows:
        ratio = f"{row['items_read'] / row['expired']:.2f}" if row["expired"] else "-"
        print("| " + " | ".join(str(row[h]) for h in header) + f" | {ratio} |")
    first = [r for r in all_rows if r["run"] == "first"]
    emit_summary(
        "purge",
        {
            "read_per_expired_10k": round(first[0]["items_read"] / first[0]["expired"], 3),
            "read_per_expired_100k": round(first[1]["items_read"] / first[1]["expired"], 3),
            "scans": sum(r["scans"] for r in all_rows),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
