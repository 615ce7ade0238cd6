"""The expiry day records against moto: writers record their buckets before their items, once per process;
the purge reads only recorded buckets, so a run that finds nothing expired makes a handful of requests
whatever the table's size; the one-time backfill covers a table written before the records, resumably."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import TABLE
from tests.fakes.seed import all_keys, event_item, put_all
from voicetrail.domain.calls.ports import StoredEvent
from voicetrail.domain.retention.classes import DAY, RetentionClass
from voicetrail.errors import StoreUnavailableError
from voicetrail.storage import expiry_days
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail.storage.expiry_days import DynamoExpiryDays, note_expiry
from voicetrail.storage.table import EXPIRY_DAYS_PK, EXPIRY_DAYS_STATE_SK, expiry_bucket, expiry_day
from voicetrail.wiring.deletion import dynamo_purger

pytestmark = pytest.mark.integration

NOW = int(time.time())
STORAGE = Path(expiry_days.__file__).resolve().parent


class Counting:
    """Counts every request by operation; passes everything through."""

    def __init__(self, inner: Any, fail: set[str] | None = None) -> None:
        self._inner = inner
        self.calls: dict[str, int] = {}
        self._fail = fail or set()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target) or name.startswith("_") or name in ("meta", "exceptions"):
            return target

        def call(**kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name in self._fail:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, name)
            return target(**kwargs)

        return call

    def reads(self) -> int:
        return sum(self.calls.get(op, 0) for op in ("get_item", "query", "scan", "batch_get_item"))


def event(n: int, expires_at: int) -> StoredEvent:
    return StoredEvent(
        call_id=f"call-{n // 4}",
        event_key=f"evt-{n}",
        source="vapi",
        event_type="transcript",
        retention_class=RetentionClass.CONTENT,
        expires_at=expires_at,
        received_at_ms=NOW * 1000,
        body={"n": n},
    )


def purger(client: Any, **kwargs: Any) -> Any:
    return dynamo_purger(client, TABLE, sleep=lambda _: None, clock=lambda: float(NOW), **kwargs)


def test_a_store_records_each_bucket_once_before_its_items(moto_table: Any) -> None:
    client = Counting(moto_table)
    store = DynamoEventStore(client, TABLE)  # type: ignore[arg-type]
    for n in range(40):  # 10 calls, 4 events each, one expiry day
        store.put_event(event(n, NOW + 30 * DAY), now=NOW)
    buckets = {expiry_bucket(NOW + 30 * DAY, event(n, 0).pk) for n in range(40)}
    assert client.calls["put_item"] == 40
    assert client.calls["update_item"] == len(buckets)  # one record write per new bucket, not per item
    record = moto_table.get_item(
        TableName=TABLE, Key={"pk": {"S": EXPIRY_DAYS_PK}, "sk": {"S": expiry_day(NOW + 30 * DAY)}}
    )
    assert set(record["Item"]["buckets"]["SS"]) == buckets


def test_a_failed_record_write_fails_the_item_write(moto_table: Any) -> None:
    client = Counting(moto_table, fail={"update_item"})
    with pytest.raises(StoreUnavailableError, match="expiry day record"):
        DynamoEventStore(client, TABLE).put_event(event(1, NOW + DAY), now=NOW)  # type: ignore[arg-type]
    assert "put_item" not in client.calls  # the item is not written without its record


@pytest.mark.parametrize("alive", [0, 300])
def test_a_run_that_finds_nothing_expired_makes_a_handful_of_reads(moto_table: Any, alive: int) -> None:
    backfilled(moto_table)
    store = DynamoEventStore(moto_table, TABLE)
    for n in range(alive):
        store.put_event(event(n, NOW + (1 + n % 30) * DAY), now=NOW)
    client = Counting(moto_table)
    for dry_run in (True, False):
        report = purger(client).run(dry_run=dry_run)
        assert report.items_read == 0 and report.buckets == 0 and not report.every_bucket
    # per run: the cursor, the backfill state, one page of day records (the 401 days hold none)
    assert client.reads() <= 2 * 3 and "scan" not in client.calls


def backfilled(client: Any) -> None:
    """A table created with this version: the backfill finds an empty index (no purge run, no cursor)."""
    assert DynamoExpiryDays(client, TABLE).backfill(NOW, NOW, write=True, more=lambda: True, now=NOW) == {}


def test_items_written_through_the_stores_are_purged_from_their_records_alone(moto_table: Any) -> None:
    backfilled(moto_table)
    store = DynamoEventStore(moto_table, TABLE)
    expired = [event(n, NOW - 60 - (n % 5) * DAY) for n in range(60)]
    for item in expired:
        store.put_event(item, now=NOW - 10 * DAY)
    for n in range(60, 80):
        store.put_event(event(n, NOW + DAY), now=NOW)
    client = Counting(moto_table)
    report = purger(client).run()
    assert report.deleted_total == 60 and report.items_read == 60 and "scan" not in client.calls
    assert report.buckets == len({expiry_bucket(e.expires_at, e.pk) for e in expired})
    left = {sk for pk, sk in all_keys(moto_table, TABLE) if pk == EXPIRY_DAYS_PK}
    # clean days before yesterday are forgotten (no writer adds to a past day); the rest stay
    assert min(left - {EXPIRY_DAYS_STATE_SK}) >= expiry_day(NOW - DAY)
    assert expiry_day(NOW + DAY) in left


def test_the_backfill_resumes_where_a_stopped_run_left_it(moto_table: Any) -> None:
    legacy = [
        event_item(f"call-{n}", f"old-{n}", RetentionClass.METADATA, NOW - 60 - (n % 4) * DAY)
        for n in range(45)
    ]
    put_all(moto_table, TABLE, legacy)  # written before the records existed: no record names them
    days = DynamoExpiryDays(moto_table, TABLE, scan_page=10)
    pages = iter(range(2))
    assert (
        days.backfill(NOW - 9 * DAY, NOW, write=True, more=lambda: next(pages, None) is not None, now=NOW)
        is None
    )
    assert days.buckets(NOW - 9 * DAY, NOW) is None  # not complete: the purge would read every bucket
    found = days.backfill(NOW - 9 * DAY, NOW, write=True, more=lambda: True, now=NOW)
    assert found is not None and days.buckets(NOW - 9 * DAY, NOW) is not None
    report = purger(moto_table).run()
    assert report.deleted_total == 45 and not report.every_bucket


def test_a_dry_run_backfills_nothing(moto_table: Any) -> None:
    put_all(moto_table, TABLE, [event_item("call-1", "old", RetentionClass.CONTENT, NOW - 60)])
    before = all_keys(moto_table, TABLE)
    report = purger(moto_table).run(dry_run=True)
    assert sum(report.expired.values()) == 1 and not report.every_bucket
    assert all_keys(moto_table, TABLE) == before


def test_the_memo_is_per_client_so_a_new_table_gets_its_records(moto_table: Any) -> None:
    item = event_item("call-9", "e", RetentionClass.CONTENT, NOW + DAY)
    first, second = Counting(moto_table), Counting(moto_table)
    note_expiry(first, TABLE, item)
    note_expiry(first, TABLE, item)
    note_expiry(second, TABLE, item)
    assert first.calls == {"update_item": 1} and second.calls == {"update_item": 1}


def _calls(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


@pytest.mark.parametrize("module", sorted(p.name for p in STORAGE.glob("*.py")))
def test_every_writer_of_expiry_attributes_records_their_bucket(module: str) -> None:
    """A storage adapter that builds expiry attributes calls note_expiry too (the in-memory twin and the
    builders themselves aside): an item in a bucket no record names would be left to DynamoDB TTL."""
    if module in ("expressions.py", "memory.py", "expiry_days.py", "ports.py", "model.py"):
        return
    calls = _calls(ast.parse((STORAGE / module).read_text()))
    if {"expiry_attributes", "expiry"} & calls:
        assert "note_expiry" in calls, module
