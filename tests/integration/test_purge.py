"""Retention purge against moto: exactly the expired items go, at one read per expired item; faults,
deadline stops and provider failures leave work for the next run, never a wrong deletion."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TABLE, FakeContext, function_env, load_function
from tests.fakes.dynamo import FakeClock, FaultPlan, FaultyDynamo
from tests.fakes.seed import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    VAPI_KEY,
    all_keys,
    call_sid,
    event_item,
    put_all,
    recording_item,
    recording_sid,
    summary_item,
)
from tests.fakes.servers import FakeTwilio, FakeVapi
from tests.support.metrics import MemoryRecorder
from voicetrail.domain.audit.trail import AuditKind, AuditReader, AuditTrail, system_pk
from voicetrail.domain.erasure.deleters import TwilioRecordingDeleter, VapiCallDeleter
from voicetrail.domain.retention.classes import DAY, RetentionClass
from voicetrail.domain.retention.purge import PurgeConfig, RetentionPurger
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.table import (
    AUDIT_DAYS_PK,
    CURSOR_PK,
    EXPIRY_DAYS_PK,
    EXPIRY_DAYS_STATE_SK,
    audit_marker_day,
    expiry_day,
)
from voicetrail.wiring.deletion import dynamo_purger

pytestmark = pytest.mark.integration

NOW = int(time.time())
CLASSES = [RetentionClass.CONTENT, RetentionClass.METADATA, RetentionClass.AUDIT]


def _resolver(value: str) -> SecretResolver:
    return SecretResolver(SecretRef("env", "X"), fetch=lambda ref, age: value)


def mixed_items(expired: int, alive: int) -> tuple[list[dict[str, Any]], set[tuple[str, str]]]:
    """`expired` items spread over the last 10 days (some expired seconds ago), `alive` ones expiring
    later today, tomorrow and in years; every class."""
    items, gone = [], set()
    for n in range(expired):
        rclass = CLASSES[n % 3]
        expires_at = NOW - 5 if n % 7 == 0 else NOW - (n % 10) * DAY - 60
        item = event_item(f"call-{n % 13}", f"old-{n}", rclass, expires_at)
        items.append(item)
        gone.add((item["pk"]["S"], item["sk"]["S"]))
    for n in range(alive):
        rclass = CLASSES[n % 3]
        expires_at = [NOW + 30, NOW + DAY, NOW + 2190 * DAY][n % 3]
        items.append(event_item(f"call-{n % 13}", f"new-{n}", rclass, expires_at))
    return items, gone


@pytest.fixture
def faulty(moto_table: Any) -> FaultyDynamo:
    return FaultyDynamo(moto_table)


def purger(client: Any, **kwargs: Any) -> RetentionPurger:
    kwargs.setdefault("sleep", lambda _: None)
    kwargs.setdefault("clock", lambda: float(NOW))  # the seeded ages stay right however long the suite runs
    kwargs.setdefault("audit", AuditTrail(DynamoAuditStore(client, TABLE), sleep=lambda _: None))
    return dynamo_purger(client, TABLE, **kwargs)


def test_exactly_the_expired_items_go_at_one_read_each(faulty: FaultyDynamo, moto_table: Any) -> None:
    items, gone = mixed_items(expired=130, alive=90)
    put_all(moto_table, TABLE, items)
    before = all_keys(moto_table, TABLE)
    metrics = MemoryRecorder()

    report = purger(faulty, metrics=metrics).run()

    after = all_keys(moto_table, TABLE)
    assert before - after == gone  # exactly the expired ones are gone...
    assert {k for k in after - before if k[0] != EXPIRY_DAYS_PK} == {
        (CURSOR_PK, "STATE#cursor"),
        (system_pk("purge"), "AUDIT#00000001"),
        (AUDIT_DAYS_PK, audit_marker_day(NOW)),  # the day marker: audit verify reads days with records
    }
    # ...and the expiry day records: the backfill's state, and days from yesterday on (clean past days go)
    records = {sk for pk, sk in after if pk == EXPIRY_DAYS_PK} - {EXPIRY_DAYS_STATE_SK}
    assert records and min(records) >= expiry_day(NOW - DAY)
    assert report.deleted_total == 130 and report.failures == 0 and not report.stopped_early
    assert report.deleted == {"content": 44, "metadata": 43, "audit": 43}
    assert report.items_read == 130  # O(expired): the index read returns nothing else
    assert not report.every_bucket and report.buckets <= 10 * 13  # only buckets that received items
    # The items were seeded as a table written before the day records existed: one backfill scan of the
    # ExpiryIndex (keys only, once in a table's life), never a scan of the table.
    assert faulty.scans == 1 and max(faulty.batch_sizes) <= 25
    assert metrics.total("PurgeRuns") == 1 and metrics.total("PurgeDeleted") == 130
    assert metrics.total("PurgeDeletedByClass", retention_class="content") == 44


def test_each_run_writes_one_audit_record_with_counts(faulty: FaultyDynamo, moto_table: Any) -> None:
    items, _ = mixed_items(expired=30, alive=5)
    put_all(moto_table, TABLE, items)
    purger(faulty).run()
    purger(faulty).run()
    records = AuditReader(DynamoAuditStore(moto_table, TABLE)).chain_records(system_pk("purge"))
    assert [r.kind for r in records] == ["purge", "purge"]
    assert records[0].details["deleted_total"] == 30 and records[1].details["deleted_total"] == 0
    assert records[1].prev_hash == records[0].hash
    assert {"deleted_content", "failures", "duration_ms", "items_read"} <= set(records[0].details)


def test_a_second_run_reads_from_the_cursor_only(faulty: FaultyDynamo, moto_table: Any) -> None:
    put_all(moto_table, TABLE, mixed_items(expired=20, alive=5)[0])
    first = purger(faulty).run()
    second = purger(faulty).run()
    assert first.days == 401  # first run: the whole lookback...
    assert not first.every_bucket and first.buckets <= 10 * 13  # ...but only buckets that received items
    assert second.days == 1 and second.items_read == 0  # then: from the cursor (today) only
    assert second.buckets <= 13 and second.index_reads == 2  # the backfill state, one page of day records
    walk = purger(faulty, day_records=False).run()  # without the records: 17 buckets a day
    assert walk.every_bucket and walk.buckets == 17 and walk.items_read == 0


def test_dry_run_counts_and_changes_nothing(faulty: FaultyDynamo, moto_table: Any) -> None:
    put_all(moto_table, TABLE, mixed_items(expired=40, alive=10)[0])
    before = all_keys(moto_table, TABLE)
    report = purger(faulty).run(dry_run=True)
    assert all_keys(moto_table, TABLE) == before
    assert sum(report.expired.values()) == 40 and report.deleted_total == 0 and faulty.batch_calls == 0


def test_unprocessed_items_and_throttles_are_retried_with_backoff(moto_table: Any) -> None:
    items, gone = mixed_items(expired=120, alive=10)
    put_all(moto_table, TABLE, items)
    plan = FaultPlan(unprocessed=lambda call, size: size // 2 if call % 3 == 0 else 0, throttle_calls={1, 4})
    client = FaultyDynamo(moto_table, plan)
    sleeps: list[float] = []

    report = purger(client, sleep=sleeps.append).run()

    assert report.deleted_total == 120 and report.failures == 0
    assert not gone & all_keys(moto_table, TABLE)
    assert client.unprocessed_returned > 0 and max(client.batch_sizes) <= 25
    assert len(sleeps) >= 4 and all(0 < s <= 2.0 for s in sleeps)


def test_items_still_unprocessed_after_all_attempts_stay_for_the_next_run(moto_table: Any) -> None:
    items, gone = mixed_items(expired=50, alive=0)
    put_all(moto_table, TABLE, items)
    stubborn = FaultyDynamo(moto_table, FaultPlan(unprocessed=lambda call, size: 1))  # one never goes
    report = purger(stubborn).run()
    left = gone & all_keys(moto_table, TABLE)
    assert report.failures == len(left) == stubborn.batch_calls // 8  # one stubborn key per batch
    assert report.deleted_total == 50 - len(left) and left
    again = purger(FaultyDynamo(moto_table)).run()
    assert again.deleted_total == len(left) and not gone & all_keys(moto_table, TABLE)


def test_a_run_stops_before_the_deadline_and_the_next_resumes(moto_table: Any) -> None:
    items, gone = mixed_items(expired=200, alive=20)
    put_all(moto_table, TABLE, items)
    clock = FakeClock(budget_ms=60_000)
    client = FaultyDynamo(moto_table)
    client.on_batch = lambda: clock.tick(5_000)  # every batch costs 5 s of Lambda time

    first = purger(client, config=PurgeConfig(safety_ms=20_000)).run(remaining_ms=clock.remaining_ms)

    assert first.stopped_early and 0 < first.deleted_total < 200
    left = gone & all_keys(moto_table, TABLE)
    assert len(left) == 200 - first.deleted_total
    client.on_batch = None
    second = purger(client).run(remaining_ms=FakeContext().get_remaining_time_in_millis)
    assert not second.stopped_early and second.deleted_total == len(left)
    assert not gone & all_keys(moto_table, TABLE)
    # the living, the cursor, two audit records, the audit day marker (and the expiry day records)
    assert len({k for k in all_keys(moto_table, TABLE) if k[0] != EXPIRY_DAYS_PK}) == 20 + 1 + 2 + 1


# ---- recordings at Twilio and Vapi ------------------------------------------------------------------


@pytest.fixture
def providers() -> Iterator[tuple[FakeTwilio, FakeVapi]]:
    twilio, vapi = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN), FakeVapi(VAPI_KEY)
    with twilio.running(), vapi.running():
        yield twilio, vapi


def recording_purger(client: Any, twilio: FakeTwilio, vapi: FakeVapi, **kwargs: Any) -> RetentionPurger:
    return purger(
        client,
        recordings=TwilioRecordingDeleter(ACCOUNT_SID, _resolver(AUTH_TOKEN), base_url=twilio.base_url),
        calls=VapiCallDeleter(_resolver(VAPI_KEY), base_url=vapi.base_url),
        **kwargs,
    )


def test_expired_recordings_are_deleted_at_twilio_and_vapi_first(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    old, young = NOW - DAY, NOW + DAY
    items = [
        recording_item(call_sid(1), recording_sid(1), old),
        recording_item(call_sid(1), recording_sid(2), old),
        summary_item(call_sid(1), "vapi-call-1", young),
        recording_item(call_sid(2), recording_sid(3), old),  # a Twilio-only call: no Vapi side
        recording_item(call_sid(3), recording_sid(4), young),  # not expired: untouched
    ]
    put_all(moto_table, TABLE, items)
    twilio.existing |= {recording_sid(n) for n in (1, 2, 3, 4)}
    vapi.existing.add("vapi-call-1")
    metrics = MemoryRecorder()

    report = recording_purger(FaultyDynamo(moto_table), twilio, vapi, metrics=metrics).run()

    assert report.deleted == {"recording": 3} and report.failures == 0
    assert twilio.existing == {recording_sid(4)} and not vapi.existing
    assert len(vapi.deletes()) == 1  # one DELETE /call per call, not per recording
    assert report.twilio_deleted == 3 and report.vapi_deleted == 1
    keys = all_keys(moto_table, TABLE)
    assert (f"CALL#twilio:{call_sid(3)}", f"REC#{recording_sid(4)}") in keys
    assert not any(sk.startswith("REC#") and pk.endswith(call_sid(1)) for pk, sk in keys)
    assert metrics.total("PurgeExternalDeleted", provider="twilio") == 3


def test_vapi_503_keeps_the_pointer_holds_ttl_and_retries_next_run(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    put_all(
        moto_table,
        TABLE,
        [
            recording_item(call_sid(7), recording_sid(7), NOW - 60),
            summary_item(call_sid(7), "vapi-7", NOW + DAY),
        ],
    )
    twilio.existing.add(recording_sid(7))
    vapi.existing.add("vapi-7")
    vapi.fail["vapi-7"] = [503, 503, 503]
    key = {"pk": {"S": f"CALL#twilio:{call_sid(7)}"}, "sk": {"S": f"REC#{recording_sid(7)}"}}
    metrics = MemoryRecorder()

    for run in (1, 2, 3):
        report = recording_purger(FaultyDynamo(moto_table), twilio, vapi, metrics=metrics).run(from_days=3)
        assert report.deleted_total == 0 and report.recordings_pending == 1
        item = moto_table.get_item(TableName=TABLE, Key=key)["Item"]
        assert int(item["purge_attempts"]["N"]) == run
        assert int(item["expires_at"]["N"]) >= NOW + 7 * DAY  # TTL cannot drop the only pointer
        assert int(item["purge_due_at"]["N"]) == NOW - 60
    assert metrics.total("PurgeRecordingStuck") == 1  # the third failure raises the alarm metric
    assert twilio.existing == set()  # Twilio's side went on the first run

    final = recording_purger(FaultyDynamo(moto_table), twilio, vapi).run(from_days=3)
    assert final.deleted == {"recording": 1} and not vapi.existing
    assert "Item" not in moto_table.get_item(TableName=TABLE, Key=key)
    assert twilio.deletes(404)  # the retry asked Twilio again and took "already gone" as done


def test_without_provider_credentials_recordings_stay_pending(moto_table: Any) -> None:
    put_all(moto_table, TABLE, [recording_item(call_sid(9), recording_sid(9), NOW - 60)])
    report = purger(FaultyDynamo(moto_table)).run()
    assert report.recordings_pending == 1 and report.deleted_total == 0


def test_the_handler_purges_with_providers_from_settings(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi], monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio, vapi = providers
    put_all(
        moto_table,
        TABLE,
        [
            recording_item(call_sid(5), recording_sid(5), NOW - 60),
            summary_item(call_sid(5), "vapi-5", NOW - 60),
            event_item("vapi-5", "t1", RetentionClass.CONTENT, NOW - 60),
        ],
    )
    twilio.existing.add(recording_sid(5))
    vapi.existing.add("vapi-5")
    env = function_env(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TEST_TWILIO_TOKEN=AUTH_TOKEN,
        VAPI_API_KEY_REF="env:TEST_VAPI_KEY",
        TEST_VAPI_KEY=VAPI_KEY,
        TWILIO_API_BASE_URL=twilio.base_url,
        VAPI_API_BASE_URL=vapi.base_url,
    )
    module = load_function("retention_purge", env, monkeypatch)
    result = module.lambda_handler({"dry_run": False}, FakeContext())
    assert result["deleted"] == {"recording": 1, "metadata": 1, "content": 1}
    assert not twilio.existing and not vapi.existing
    dry = module.lambda_handler({"dry_run": True}, FakeContext())
    assert dry["dry_run"] is True and dry["deleted_total"] == 0


def test_items_written_before_sharding_are_still_purged_and_audited(
    faulty: FaultyDynamo, moto_table: Any
) -> None:
    # A deployed table keeps its unsharded day keys (`EXP#<day>`, `AUD#<day>`) until they expire: the
    # readers query them beside the shards (docs/operations/scaling.md, "Migration").
    from voicetrail.storage.table import expiry_bucket, expiry_day

    legacy = event_item("call-legacy", "old", RetentionClass.CONTENT, NOW - DAY)
    legacy["exp_bucket"] = {"S": expiry_day(NOW - DAY)}
    sharded = event_item("call-sharded", "old", RetentionClass.CONTENT, NOW - DAY)
    assert (
        sharded["exp_bucket"]["S"]
        == expiry_bucket(NOW - DAY, "CALL#call-sharded")
        != legacy["exp_bucket"]["S"]
    )
    put_all(moto_table, TABLE, [legacy, sharded])
    report = purger(faulty).run()
    assert report.deleted_total == 2
    assert not {("CALL#call-legacy", "EVT#vapi#old"), ("CALL#call-sharded", "EVT#vapi#old")} & all_keys(
        moto_table, TABLE
    )

    trail = AuditTrail(DynamoAuditStore(moto_table, TABLE), sleep=lambda _: None)
    trail.append("call-audited", AuditKind.PII_REDACTED, {"ssn": 1}, NOW)
    old = moto_table.get_item(
        TableName=TABLE, Key={"pk": {"S": "CALL#call-audited"}, "sk": {"S": "AUDIT#00000001"}}
    )
    day = time.strftime("%Y-%m-%d", time.gmtime(NOW))
    moto_table.update_item(
        TableName=TABLE,
        Key={"pk": old["Item"]["pk"], "sk": old["Item"]["sk"]},
        UpdateExpression="SET audit_day = :d",
        ExpressionAttributeValues={":d": {"S": f"AUD#{day}"}},
    )
    reader = AuditReader(DynamoAuditStore(moto_table, TABLE))
    assert "CALL#call-audited" in reader.chains_since(NOW - 60, now=NOW + 60)
