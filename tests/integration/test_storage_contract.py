"""One contract, two adapters: the audit trail, the retention purge and erasure run against the DynamoDB
adapters (moto) and the in-memory ones with the same expectations, so the in-memory twins can stand in
for DynamoDB in unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import PEPPER, TABLE
from tests.fakes.seed import (
    all_keys,
    call_sid,
    event_item,
    put_all,
    recording_item,
    recording_sid,
    summary_item,
)
from tests.support.memory import (
    InMemoryAuditStore,
    InMemoryErasureTasks,
    InMemoryExpiryDays,
    InMemoryPurgeCursor,
    InMemoryTable,
    MemoryPepperFingerprints,
)
from voicetrail.domain.audit.trail import AuditKind, AuditReader, AuditStore, AuditTrail
from voicetrail.domain.callers import CallerHasher, PepperFingerprints
from voicetrail.domain.erasure.deleters import ExternalOutcome
from voicetrail.domain.erasure.eraser import ErasureService
from voicetrail.domain.erasure.followups import ErasureTask
from voicetrail.domain.erasure.ports import CallerItems, ErasureTasks
from voicetrail.domain.erasure.providers import Provider as ErasureProvider
from voicetrail.domain.erasure.providers import ProviderRegistry, twilio_recordings_of, vapi_calls_of
from voicetrail.domain.items import ItemKey
from voicetrail.domain.retention.classes import DAY, RetentionClass
from voicetrail.domain.retention.purge import PurgeConfig, RetentionPurger
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.erasure import DynamoCallerItems
from voicetrail.storage.erasure_tasks import DynamoErasureTasks
from voicetrail.storage.pepper import DynamoPepperFingerprints
from voicetrail.storage.table import AUDIT_DAYS_PK, CURSOR_PK, CURSOR_SK, EXPIRY_DAYS_PK, PEPPER_PK, system_pk
from voicetrail.wiring.deletion import dynamo_purger

pytestmark = pytest.mark.integration
NOW = 1_790_000_000


class Provider:
    """Both external deleters: answers from a script per resource, DELETED by default."""

    def __init__(self, **script: list[ExternalOutcome]) -> None:
        self.script = script
        self.asked: list[str] = []

    def _answer(self, resource: str) -> ExternalOutcome:
        self.asked.append(resource)
        answers = self.script.get(resource)
        return answers.pop(0) if answers else ExternalOutcome.DELETED

    def delete_recording(self, recording_sid: str) -> ExternalOutcome:
        return self._answer(recording_sid)

    def delete_call(self, call_id: str) -> ExternalOutcome:
        return self._answer(call_id)


@dataclass
class Stores:
    kind: str
    client: Any = None
    table: InMemoryTable | None = None
    audit_store: AuditStore | None = None
    task_store: InMemoryErasureTasks | None = None

    def put(self, items: list[dict[str, Any]]) -> None:
        if self.table is not None:
            for item in items:
                self.table.put(item)
        else:
            put_all(self.client, TABLE, items)

    def stored_keys(self) -> set[tuple[str, str]]:
        if self.table is not None:
            return self.table.keys()
        return all_keys(self.client, TABLE)

    def item(self, pk: str, sk: str) -> dict[str, Any] | None:
        if self.table is not None:
            return self.table.get(ItemKey(pk, sk))
        found: dict[str, Any] | None = self.client.get_item(
            TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}
        ).get("Item")
        return found

    def audit(self) -> AuditTrail:
        assert self.audit_store is not None
        return AuditTrail(self.audit_store, sleep=lambda _: None)

    def purger(self, provider: Provider) -> RetentionPurger:
        options: dict[str, Any] = {
            "recordings": provider,
            "calls": provider,
            "audit": self.audit(),
            "config": PurgeConfig(lookback_days=5),
            "clock": lambda: float(NOW),
        }
        if self.table is not None:
            cursor, days = InMemoryPurgeCursor(self.table), InMemoryExpiryDays(self.table)
            return RetentionPurger(self.table, cursor, self.table, days=days, **options)
        return dynamo_purger(self.client, TABLE, sleep=lambda _: None, **options)

    def eraser(self, provider: Provider) -> ErasureService:
        items: CallerItems = self.table if self.table is not None else DynamoCallerItems(self.client, TABLE)
        pepper = SecretResolver(SecretRef("env", "P"), fetch=lambda ref, age, /, *, force=False: PEPPER)
        fingerprints: PepperFingerprints = (
            MemoryPepperFingerprints()
            if self.table is not None
            else DynamoPepperFingerprints(self.client, TABLE)
        )
        fingerprints.record(CallerHasher(PEPPER).fingerprint())  # as the webhooks do
        return ErasureService(
            items,
            pepper=pepper,
            fingerprints=fingerprints,
            providers=registry(provider),
            tasks=self.tasks(),
            audit=self.audit(),
            clock=lambda: NOW,
        )

    def tasks(self) -> ErasureTasks:
        if self.table is not None:
            if self.task_store is None:
                self.task_store = InMemoryErasureTasks()
            return self.task_store
        return DynamoErasureTasks(self.client, TABLE)


def registry(provider: Provider) -> ProviderRegistry:
    return ProviderRegistry(
        [
            ErasureProvider("twilio", "recording", twilio_recordings_of, provider.delete_recording),
            ErasureProvider("vapi", "call", vapi_calls_of, provider.delete_call),
        ]
    )


@pytest.fixture(params=["dynamo", "memory"])
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    if request.param == "memory":
        table = InMemoryTable()
        # The in-memory audit chains live beside the table: the purge and erasure see no audit items.
        yield Stores("memory", table=table, audit_store=InMemoryAuditStore())
        return
    moto_table = request.getfixturevalue("moto_table")
    yield Stores("dynamo", client=moto_table, audit_store=DynamoAuditStore(moto_table, TABLE))


def test_audit_chains_link_verify_and_are_found_by_day(stores: Stores) -> None:
    trail = stores.audit()
    first = trail.append("call-1", AuditKind.CONSENT_ASKED, {"asks": 1}, NOW)
    second = trail.append("call-1", AuditKind.CONSENT_GIVEN, {"source": "disclosure"}, NOW + 1)
    trail.append_system("purge", AuditKind.PURGE, {"deleted_total": 0}, NOW + 2)
    trail.append("call-2", AuditKind.PII_REDACTED, {"ssn": 1}, NOW + DAY)
    assert second.prev_hash == first.hash and second.seq == 2
    reader = AuditReader(stores.audit_store)  # type: ignore[arg-type]
    assert reader.chains_since(NOW, now=NOW + DAY) == ["CALL#call-1", system_pk("purge"), "CALL#call-2"]
    assert reader.chains_since(NOW + 2, now=NOW + DAY) == [system_pk("purge"), "CALL#call-2"]
    assert [r.seq for r in reader.call_records("call-1")] == [1, 2]
    report = reader.verify(["CALL#call-1", "CALL#call-2", system_pk("purge")], now=NOW + DAY)
    assert report.ok and report.records == 4 and report.chains == 3


def test_the_purge_deletes_what_expired_and_holds_a_recording_it_could_not_release(stores: Stores) -> None:
    expired, alive = NOW - DAY, NOW + DAY
    stores.put(
        [
            event_item("vapi-1", "t1", RetentionClass.CONTENT, expired),
            event_item("vapi-1", "t2", RetentionClass.CONTENT, alive),
            event_item("vapi-2", "s1", RetentionClass.METADATA, NOW - 5),
            recording_item(call_sid(1), recording_sid(1), expired),
            summary_item(call_sid(1), "vapi-1", alive),
            recording_item(call_sid(2), recording_sid(2), expired),
            summary_item(call_sid(2), "vapi-9", alive),
        ]
    )
    provider = Provider(**{"vapi-9": [ExternalOutcome.RETRY] * 2})

    report = stores.purger(provider).run()

    assert report.deleted == {"content": 1, "metadata": 1, "recording": 1}
    assert report.recordings_pending == 1 and report.failures == 1
    # Both read the buckets that received items only (the expiry day records), never every bucket.
    assert not report.every_bucket and 0 < report.buckets <= 6
    assert sorted(provider.asked) == sorted([recording_sid(1), "vapi-1", recording_sid(2), "vapi-9"])
    keys = stores.stored_keys()
    assert ("CALL#vapi-1", "EVT#vapi#t1") not in keys and ("CALL#vapi-1", "EVT#vapi#t2") in keys
    held = stores.item(f"CALL#twilio:{call_sid(2)}", f"REC#{recording_sid(2)}")
    assert held is not None and held["purge_attempts"]["N"] == "1"
    assert int(held["expires_at"]["N"]) == NOW + 7 * DAY and int(held["purge_due_at"]["N"]) == expired
    cursor = stores.item(CURSOR_PK, CURSOR_SK)
    assert cursor is not None and int(cursor["oldest_day"]["N"]) == (expired - expired % DAY) // DAY * DAY

    # The due time stays in exp_sk: the next run (from the cursor) asks again, until Vapi says yes.
    again = stores.purger(provider).run()
    assert again.deleted_total == 0 and again.recordings_pending == 1
    assert not again.every_bucket and again.buckets >= 1  # the held item's bucket is still named
    held = stores.item(f"CALL#twilio:{call_sid(2)}", f"REC#{recording_sid(2)}")
    assert held is not None and held["purge_attempts"]["N"] == "2"
    last = stores.purger(provider).run()
    assert last.deleted == {"recording": 1} and stores.item(f"CALL#twilio:{call_sid(2)}", "SUMMARY")
    assert stores.item(f"CALL#twilio:{call_sid(2)}", f"REC#{recording_sid(2)}") is None
    runs = AuditReader(stores.audit_store).chain_records(system_pk("purge"))  # type: ignore[arg-type]
    assert [r.details["deleted_total"] for r in runs] == [3, 0, 1] and runs[1].prev_hash == runs[0].hash


def test_erasure_removes_a_callers_items_and_keeps_a_receipt(stores: Stores) -> None:
    hasher = CallerHasher(PEPPER)
    mine, theirs = hasher.hash("+14155550123"), hasher.hash("+14155550199")
    stores.put(
        [
            event_item("vapi-a", "t1", RetentionClass.CONTENT, NOW + DAY, caller_hash=mine),
            event_item(
                f"twilio:{call_sid(1)}", "status#1", RetentionClass.METADATA, NOW + DAY, caller_hash=mine
            ),
            recording_item(call_sid(1), recording_sid(1), NOW + DAY),
            {**summary_item(call_sid(1), "vapi-a", NOW + DAY), "days": {"SS": ["2026-09-21"]}},
            {"pk": {"S": "CALLS#2026-09-21"}, "sk": {"S": f"twilio:{call_sid(1)}"}},  # the day index entry
            {"pk": {"S": f"CALLER#{mine}"}, "sk": {"S": "CONSENT"}, "caller_hash": {"S": mine}},
            event_item("vapi-b", "t1", RetentionClass.CONTENT, NOW + DAY, caller_hash=theirs),
        ]
    )
    provider = Provider()

    result = stores.eraser(provider).erase("+14155550123").as_dict()

    assert result["complete"] and result["calls_found"] == 2 and result["calls_erased"] == 2
    assert result["items_deleted"] == {"content": 1, "metadata": 3, "recording": 1, "caller": 1}
    assert sorted(provider.asked) == sorted([recording_sid(1), "vapi-a"])
    assert {(p["provider"], p["status"]) for p in result["providers"]} == {
        ("twilio", "deleted"),
        ("vapi", "deleted"),
    }
    assert stores.tasks().pending(10) == []  # done inline: no follow-up left
    left = stores.stored_keys()
    # Besides the audit trail (records, day markers) and the pepper fingerprint: only the other caller's call.
    kept = {AUDIT_DAYS_PK, PEPPER_PK, EXPIRY_DAYS_PK}  # no personal data: markers, fingerprints, day records
    assert {pk for pk, sk in left if not sk.startswith("AUDIT#") and pk not in kept} == {"CALL#vapi-b"}
    assert ("CALL#vapi-b", "EVT#vapi#t1") in left
    reader = AuditReader(stores.audit_store)  # type: ignore[arg-type]
    (receipt,) = reader.chain_records(system_pk("erasure"))
    assert receipt.details["items_deleted"] == 6 and receipt.details["complete"] == 1
    assert [r.kind for r in reader.call_records("vapi-a")] == ["erasure"]


def test_erasure_follow_up_tasks_are_added_once_updated_and_closed(stores: Stores) -> None:
    tasks = stores.tasks()
    first = ErasureTask("vapi", "call-1", "call-1", "r1", NOW, NOW + 25 * DAY)
    tasks.add(first)
    tasks.add(ErasureTask("vapi", "call-1", "call-1", "r2", NOW + 5, NOW + 30 * DAY))  # a repeat: kept once
    tasks.add(ErasureTask("twilio", recording_sid(1), "twilio:x", "r1", NOW, NOW + 25 * DAY))
    assert [(t.provider, t.request_id) for t in tasks.pending(10)] == [("twilio", "r1"), ("vapi", "r1")]
    assert len(tasks.pending(1)) == 1
    tasks.update(first.attempted("retry", NOW + 60))
    (vapi,) = [t for t in tasks.pending(10) if t.provider == "vapi"]
    assert (vapi.attempts, vapi.last_outcome, vapi.last_attempt_at) == (1, "retry", NOW + 60)
    tasks.done(vapi)
    assert [t.provider for t in tasks.pending(10)] == ["twilio"]
