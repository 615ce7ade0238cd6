"""Purge cost vs table size, before and after the expiry day records: tables of 0, 10k and 100k items.

The claim under test: a purge costs what it deletes. Two scenarios per table size:
* an empty run: nothing has expired (every item expires in 1..2190 days);
* an expiry run: 1,000 of the items expired over the last 10 days (at 10k and 100k).
Two purgers per scenario, on the same table:
* before: every bucket of every day (17 a day: 16 shards and the pre-sharding key), as until now;
* after: only the buckets the expiry day records name (the records are written with the items, here as
  the service's writers do: `note_expiry` before each batch).
"requests" counts every read request the purge makes (Query, GetItem, Scan); "items read" every item the
ExpiryIndex returns. The first production run and `purge --dry-run` walk PURGE_LOOKBACK_DAYS (400 days: 401
days x 17 = 6,817 queries before); later runs start at the cursor. On moto an index query walks the whole
table, so "before" at 10k and 100k is run over 14 days (255 buckets; 401 days would take hours on moto),
and the 400-day figure is measured on the empty table. Wall time is moto's (in-process, this machine),
shown for completeness: on DynamoDB a query reads its partition only.

    .venv/bin/python benchmarks/purge.py            # a few minutes (the 100k fill dominates)
    .venv/bin/python benchmarks/purge.py --sizes 0 10000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit_summary

TABLE = "voicetrail-bench"
EXPIRED = 1_000
SIZES = (0, 10_000, 100_000)
DAY = 86_400
SHORT_LOOKBACK = 14  # "before" on a filled moto table (see the docstring)
FULL_LOOKBACK = 400  # PURGE_LOOKBACK_DAYS' default: the first run and every dry run


class CountingClient:
    """Counts what the purge reads and how it calls DynamoDB."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.items_read = 0
        self.queries = 0
        self.gets = 0
        self.batches = 0
        self.scans = 0

    def query(self, **kwargs: Any) -> Any:
        self.queries += 1
        page = self._inner.query(**kwargs)
        self.items_read += len(page.get("Items", [])) if kwargs.get("IndexName") else 0
        return page

    def get_item(self, **kwargs: Any) -> Any:
        self.gets += 1
        return self._inner.get_item(**kwargs)

    def batch_write_item(self, **kwargs: Any) -> Any:
        self.batches += 1
        return self._inner.batch_write_item(**kwargs)

    def scan(self, **kwargs: Any) -> Any:
        self.scans += 1
        return self._inner.scan(**kwargs)

    @property
    def requests(self) -> int:
        return self.queries + self.gets + self.scans

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def fill(client: Any, total: int, now: int, expired: int) -> None:
    """`total` items, the first `expired` of them due over the last 10 days; written as the service does:
    their buckets recorded first (note_expiry), then the items."""
    from voicetrail.domain.calls.ports import StoredEvent
    from voicetrail.domain.retention.classes import RetentionClass
    from voicetrail.storage.dynamo import to_item
    from voicetrail.storage.expiry_days import note_expiry

    classes = [RetentionClass.CONTENT, RetentionClass.METADATA, RetentionClass.AUDIT]
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        note_expiry(client, TABLE, *(request["PutRequest"]["Item"] for request in batch))
        client.batch_write_item(RequestItems={TABLE: batch})
        batch.clear()

    for n in range(total):
        # expired: spread over the last 10 days; alive: tomorrow .. 6 years
        expires_at = now - 60 - (n % 10) * DAY if n < expired else now + DAY + (n % 2190) * DAY
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
            flush()
    if batch:
        flush()


def measure(raw: Any, *, size: int, scenario: str, mode: str, lookback: int, dry_run: bool) -> dict[str, Any]:
    from voicetrail.domain.retention.purge import PurgeConfig
    from voicetrail.wiring.deletion import dynamo_purger

    client = CountingClient(raw)
    purger = dynamo_purger(
        client,
        TABLE,
        config=PurgeConfig(lookback_days=lookback),
        sleep=lambda _: None,
        day_records=mode == "after",
    )
    t0 = time.perf_counter()
    report = purger.run(dry_run=dry_run)
    elapsed = time.perf_counter() - t0
    return {
        "items": size,
        "scenario": scenario,
        "mode": mode,
        "dry_run": "yes" if dry_run else "no",
        "days": report.days,
        "expired": sum(report.expired.values()),
        "deleted": report.deleted_total,
        "buckets": report.buckets,
        "requests": client.requests,
        "items_read": report.items_read,
        "scans": client.scans,
        "moto_s": round(elapsed, 2),
    }


def run_size(total: int) -> list[dict[str, Any]]:
    import boto3
    from moto import mock_aws

    from voicetrail.storage.expiry_days import DynamoExpiryDays
    from voicetrail_cli.dev.local import ensure_table

    now = int(time.time())
    rows = []
    for scenario, expired in (("empty run", 0), ("1k expired", EXPIRED if total else 0)):
        if scenario == "1k expired" and not total:
            continue
        with mock_aws():
            raw = boto3.client("dynamodb", region_name="us-east-1")
            ensure_table(raw, TABLE)
            # A table created with this version: the one-time backfill finds an empty index.
            DynamoExpiryDays(raw, TABLE).backfill(now, now, write=True, more=lambda: True, now=now)
            started = time.perf_counter()
            fill(raw, total, now, expired)
            print(f"  {scenario}: filled {total} items in {time.perf_counter() - started:.1f}s", flush=True)
            lookbacks = [SHORT_LOOKBACK] + ([FULL_LOOKBACK] if total == 0 else [])
            # Dry runs first (they change nothing), so before and after see the same table; then the
            # real run, after only (it deletes).
            runs = [(mode, lookback, True) for lookback in lookbacks for mode in ("before", "after")]
            if total:
                runs.append(("after", FULL_LOOKBACK, True))
            runs.append(("after", FULL_LOOKBACK, False))
            for mode, lookback, dry_run in runs:
                rows.append(
                    measure(raw, size=total, scenario=scenario, mode=mode, lookback=lookback, dry_run=dry_run)
                )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    all_rows: list[dict[str, Any]] = []
    for total in args.sizes:
        print(f"table of {total} items ...", flush=True)
        all_rows += run_size(total)
    header = ["items", "scenario", "mode", "dry_run", "days", "buckets", "requests", "items_read", "expired",
              "deleted", "scans", "moto_s"]  # fmt: skip
    print("\n(moto, in-process, this machine)")
    print("| " + " | ".join(header) + " | requests/expired |")
    print("|" + "---|" * (len(header) + 1))
    for row in all_rows:
        ratio = f"{row['requests'] / row['expired']:.3f}" if row["expired"] else "-"
        print("| " + " | ".join(str(row[h]) for h in header) + f" | {ratio} |")
    after = [r for r in all_rows if r["mode"] == "after" and r["days"] == FULL_LOOKBACK + 1]
    emit_summary(
        "purge",
        {
            "empty_run_requests_after": max(r["requests"] for r in after if r["scenario"] == "empty run"),
            "empty_run_requests_before_400_days": next(
                (r["requests"] for r in all_rows if r["mode"] == "before" and r["days"] == FULL_LOOKBACK + 1),
                None,
            ),
            "scans": sum(r["scans"] for r in all_rows),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
