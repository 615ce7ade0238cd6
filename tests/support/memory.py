"""In-memory adapters of every storage port, with the same semantics as the DynamoDB ones (unit tests,
benchmarks). The contract tests run both kinds against the same expectations."""

from __future__ import annotations

import calendar
import copy
import dataclasses
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from voicetrail.domain.audit.trail import AuditRecord
from voicetrail.domain.calls.ports import PutOutcome, StoredEvent
from voicetrail.domain.calls.state import (
    CONSENT_OUTCOMES,
    RECORDING_RANK,
    TERMINAL_STATUSES,
    TOPOLOGIES,
    CallSummary,
    CallTransition,
    RecordingUpdate,
    TwilioCallUpdate,
    VapiCallView,
    looks_like_call_sid,
    twilio_call_key,
    utc_day,
)
from voicetrail.domain.erasure.followups import ErasureTask
from voicetrail.domain.items import BATCH_LIMIT, BatchOutcome, ItemKey, RawItem
from voicetrail.domain.latency import CallLatency
from voicetrail.domain.live.store import CallerConsent, ClaimResult, ConsentRecord, RuleSnapshot, ToolResult
from voicetrail.domain.quarantine import QuarantineRecord
from voicetrail.domain.quarantine import utc_day as quarantine_day
from voicetrail.domain.retention.classes import DAY, RetentionClass, RetentionPolicy
from voicetrail.storage.expressions import expiry_attributes, key, n, s
from voicetrail.storage.table import (
    CURSOR_PK,
    CURSOR_SK,
    ERASURE_PROJECTION,
    EVENT_SK_PREFIX,
    EXPIRY_BUCKET_PREFIX,
    PK,
    SK,
    TTL_ATTRIBUTE,
    audit_day,
    audit_days,
    audit_index_sk,
    call_pk,
    day_index_entries,
    day_of_bucket,
    expiry_upper_bound,
)


class InMemoryEventStore:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], StoredEvent] = {}
        self._lock = threading.Lock()

    def put_event(self, event: StoredEvent, *, now: float) -> PutOutcome:
        key = (call_pk(event.call_id), event.sk)
        with self._lock:
            existing = self._items.get(key)
            if existing is not None and existing.expires_at > now:
                return PutOutcome.DUPLICATE
            self._items[key] = event
        return PutOutcome.STORED

    def call_events(self, call_id: str, *, now: float) -> list[StoredEvent]:
        pk = call_pk(call_id)
        with self._lock:
            found = [
                e
                for (p, sk), e in self._items.items()
                if p == pk and sk.startswith(EVENT_SK_PREFIX) and e.expires_at > now
            ]
        return sorted(found, key=lambda e: e.sk)

    def get_event(self, call_id: str, sk: str) -> StoredEvent | None:
        with self._lock:
            return self._items.get((call_pk(call_id), sk))

    def all_events(self) -> list[StoredEvent]:
        with self._lock:
            return list(self._items.values())


class InMemoryCallLedger:
    """The same semantics as DynamoCallLedger, in a dict (unit tests, the contract test runs both)."""

    def __init__(self, retention: RetentionPolicy | None = None) -> None:
        self._retention = retention or RetentionPolicy()
        self.summaries: dict[str, dict[str, Any]] = {}
        self.recording_items: dict[tuple[str, str], dict[str, Any]] = {}

    def _summary(self, call_key: str, ts_ms: int, now: float) -> tuple[dict[str, Any], dict[str, Any]]:
        item = self.summaries.setdefault(call_key, {"call_key": call_key, "days": set()})
        old = {k: (set(v) if isinstance(v, set) else v) for k, v in item.items()}
        item["expires_at"] = self._retention.expires_at(RetentionClass.METADATA, now)
        item["first_ts_ms"] = min(item.get("first_ts_ms", ts_ms), ts_ms)
        item["days"].add(utc_day(ts_ms))
        return item, old

    def apply_twilio(self, update: TwilioCallUpdate, *, now: float) -> CallTransition:
        item, old = self._summary(twilio_call_key(update.call_sid), update.event_ts_ms, now)
        item["twilio_call_sid"] = update.call_sid
        item.setdefault("tw_first_ms", update.event_ts_ms)
        for attr in ("account_sid", "direction", "answered_by", "from_hash", "to_hash", "parent_call_sid"):
            value = getattr(update, attr)
            if value:
                item[attr] = value
        if update.duration_s is not None:
            item["duration_s"] = update.duration_s
        if update.implies_answered:
            item["answered"] = True
        sequence = update.sequence if update.sequence is not None else -1
        applied = False
        if update.rank:
            rank, seq = old.get("status_rank"), old.get("status_seq", -1)
            if rank is None or rank < update.rank or (rank == update.rank and seq < sequence):
                applied = True
                item.update(call_status=update.status, status_rank=update.rank, status_seq=sequence)
                if update.status in TERMINAL_STATUSES:
                    item["final_status"] = update.status
        final = update.status if applied and update.status in TERMINAL_STATUSES else None
        became_final = final is not None and "final_status" not in old
        return CallTransition(
            started="tw_first_ms" not in old,
            answered=update.implies_answered and not old.get("answered", False),
            final_status=final if became_final else None,
            duration_s=update.duration_s if became_final else None,
            status_applied=applied,
        )

    def index_recording(self, update: RecordingUpdate, *, now: float) -> bool:
        key = (update.call_sid, update.recording_sid)
        new = key not in self.recording_items
        item = self.recording_items.setdefault(
            key,
            {
                "recording_sid": update.recording_sid,
                "call_sid": update.call_sid,
                "retention_class": RetentionClass.RECORDING.value,
                "expires_at": self._retention.expires_at(RetentionClass.RECORDING, now),
            },
        )
        for attr in ("account_sid", "source", "track", "error_code", "duration_s", "channels"):
            value = getattr(update, attr)
            if value is not None:
                item[attr] = value
        rank = RECORDING_RANK.get(update.status, 0)
        if item.get("rec_rank") is None or item["rec_rank"] < rank:
            item.update(status=update.status, rec_rank=rank)
        summary, _ = self._summary(twilio_call_key(update.call_sid), update.event_ts_ms, now)
        summary["twilio_call_sid"] = update.call_sid
        summary.setdefault("recording_sids", set()).add(update.recording_sid)
        return new

    def merge_vapi(self, view: VapiCallView, *, now: float) -> None:
        item, _ = self._summary(view.call_key, view.event_ts_ms, now)
        item["platform_call_id" if view.platform else "vapi_call_id"] = view.vapi_call_id
        if view.provider_call_id and looks_like_call_sid(view.provider_call_id):
            item["twilio_call_sid"] = view.provider_call_id
        if view.ended:
            item["vapi_ended"] = True
        for attr, target in (
            ("ended_reason", "ended_reason"),
            ("cost_usd", "cost_usd"),
            ("duration_s", "vapi_duration_s"),
        ):
            value = getattr(view, attr)
            if value is not None:
                item[target] = value
        if view.escalated:
            item["escalated"] = True
        if view.consent in CONSENT_OUTCOMES:
            item["consent"] = view.consent
        if view.topology in TOPOLOGIES:
            item["topology"] = view.topology
        if view.latency is not None:
            item["latency"] = view.latency.to_record()
        if view.platform:
            item["platform"] = view.platform

    def get_summary(self, call_key: str, *, now: float) -> CallSummary | None:
        item = self.summaries.get(call_key)
        if item is None or item["expires_at"] <= now:
            return None
        return self._to_summary(item)

    def summaries_for_days(self, days: Iterable[str], *, now: float) -> list[CallSummary]:
        wanted = set(days)
        found = [
            self._to_summary(item)
            for item in self.summaries.values()
            if item["expires_at"] > now and item["days"] & wanted
        ]
        return sorted(found, key=lambda s: (s.first_ts_ms, s.call_key))

    @staticmethod
    def _to_summary(item: Mapping[str, Any]) -> CallSummary:
        return CallSummary(
            call_key=item["call_key"],
            first_ts_ms=int(item.get("first_ts_ms", 0)),
            expires_at=int(item["expires_at"]),
            twilio_call_sid=item.get("twilio_call_sid"),
            vapi_call_id=item.get("vapi_call_id") or item.get("platform_call_id"),
            status=item.get("call_status"),
            final_status=item.get("final_status"),
            answered=bool(item.get("answered", False)),
            direction=item.get("direction"),
            answered_by=item.get("answered_by"),
            duration_s=item.get("duration_s"),
            vapi_duration_s=item.get("vapi_duration_s"),
            vapi_ended=bool(item.get("vapi_ended", False)),
            ended_reason=item.get("ended_reason"),
            cost_usd=item.get("cost_usd"),
            escalated=bool(item.get("escalated", False)),
            consent=item.get("consent"),
            topology=item.get("topology"),
            recordings=tuple(sorted(item.get("recording_sids", ()))),
            days=tuple(sorted(item["days"])),
            latency=CallLatency.from_record(item.get("latency")),
            platform=item.get("platform"),
        )


class MemoryLiveStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.consent: dict[str, ConsentRecord] = {}
        self.escalations: dict[str, dict[str, Any]] = {}
        self.rule_snapshots: dict[str, list[RuleSnapshot]] = {}
        self.tools: dict[tuple[str, str], ToolResult] = {}
        self.callers: dict[str, CallerConsent] = {}
        self.reads = 0
        self.caller_reads = 0

    def get_consent(self, call_id: str) -> ConsentRecord | None:
        with self._lock:
            self.reads += 1
            return self.consent.get(call_id)

    def save_consent(
        self, call_id: str, record: ConsentRecord, *, expected_version: int | None, now: float
    ) -> bool:
        with self._lock:
            current = self.consent.get(call_id)
            if (current is None) != (expected_version is None):
                return False
            if current is not None and current.version != expected_version:
                return False
            self.consent[call_id] = record
            return True

    def claim_escalation(self, call_id: str, *, now_ms: int, debounce_ms: int, now: float) -> ClaimResult:
        with self._lock:
            item = self.escalations.get(call_id)
            if item is None or (item["status"] == "failed" and item["last_ms"] < now_ms - debounce_ms):
                attempts = (item or {}).get("attempts", 0) + 1
                self.escalations[call_id] = {"status": "claimed", "last_ms": now_ms, "attempts": attempts}
                return ClaimResult.CLAIMED
            return ClaimResult.DEBOUNCED if now_ms - item["last_ms"] < debounce_ms else ClaimResult.ALREADY

    def save_rule_snapshot(self, call_id: str, snapshot: RuleSnapshot, *, now: float) -> None:
        with self._lock:
            kept = self.rule_snapshots.setdefault(call_id, [])
            if snapshot not in kept:
                kept.append(snapshot)

    def finish_escalation(self, call_id: str, *, ok: bool, now: float) -> None:
        with self._lock:
            self.escalations[call_id]["status"] = "done" if ok else "failed"

    def get_tool_results(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]:
        with self._lock:
            return {i: self.tools[(call_id, i)] for i in ids if (call_id, i) in self.tools}

    def put_tool_result(self, call_id: str, result: ToolResult, *, now: float) -> None:
        with self._lock:
            self.tools[(call_id, result.tool_call_id)] = result

    def get_caller_consent(self, caller_hash: str) -> CallerConsent | None:
        with self._lock:
            self.caller_reads += 1
            return self.callers.get(caller_hash)

    def put_caller_consent(self, caller_hash: str, consent: CallerConsent, *, now: float) -> None:
        with self._lock:
            self.callers[caller_hash] = consent


class InMemoryNameMemory:
    def __init__(self) -> None:
        self._calls: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def known(self, call_id: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._calls.get(call_id, ()))

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None:
        with self._lock:
            self._calls.setdefault(call_id, set()).update(hashes)


class InMemoryTopologyStore:
    """The calls voicetrail owns (`TopologyStore`); `reads` counts lookups (tests check the caching)."""

    def __init__(self) -> None:
        self.owners: set[str] = set()
        self.reads = 0
        self._lock = threading.Lock()

    def mark_owner(self, call_id: str, *, now: float) -> None:
        with self._lock:
            self.owners.add(call_id)

    def is_owner(self, call_id: str) -> bool:
        with self._lock:
            self.reads += 1
            return call_id in self.owners


class InMemoryDoNotCallList:
    """The do-not-call list (`DoNotCallList`): keyed hashes in a set."""

    def __init__(self, hashes: set[str] | None = None) -> None:
        self.hashes = set(hashes or ())
        self._lock = threading.Lock()

    def contains(self, number_hash: str) -> bool:
        with self._lock:
            return number_hash in self.hashes

    def add(self, number_hash: str, *, now: float) -> bool:
        with self._lock:
            new = number_hash not in self.hashes
            self.hashes.add(number_hash)
            return new

    def remove(self, number_hash: str) -> bool:
        with self._lock:
            present = number_hash in self.hashes
            self.hashes.discard(number_hash)
            return present


class InMemoryAuditStore:
    """Audit chains in a dict: the same slot rule as DynamoDB (a record's slot is taken once)."""

    def __init__(self) -> None:
        self._chains: dict[str, dict[int, AuditRecord]] = {}
        self._days: set[int] = set()
        self._lock = threading.Lock()

    def tail(self, pk: str) -> AuditRecord | None:
        with self._lock:
            chain = self._chains.get(pk)
            return chain[max(chain)] if chain else None

    def put_new(self, record: AuditRecord) -> bool:
        with self._lock:
            chain = self._chains.setdefault(record.pk, {})
            if record.seq in chain:
                return False
            chain[record.seq] = record
            return True

    def chain(self, pk: str) -> list[AuditRecord]:
        with self._lock:
            chain = self._chains.get(pk, {})
            return [chain[seq] for seq in sorted(chain)]

    def mark_day(self, day_epoch_s: int, *, expires_at: int) -> None:
        with self._lock:
            self._days.add(day_epoch_s - day_epoch_s % DAY)

    def days_with_records(self, since_s: float, until_s: float) -> list[int]:
        first = int(since_s) - int(since_s) % DAY
        with self._lock:
            return sorted(d for d in self._days if first <= d <= until_s)

    def chains_on_day(self, day_epoch_s: int, *, since_ms: int) -> list[str]:
        days = set(audit_days(day_epoch_s))
        with self._lock:
            found = sorted(
                (audit_index_sk(r.at_ms, r.pk, r.seq), r.pk)
                for chain in self._chains.values()
                for r in chain.values()
                if audit_day(r.at_ms // 1000, r.pk) in days and r.at_ms >= since_ms
            )
        return [pk for _, pk in found]


class InMemoryTable:
    """Items as DynamoDB stores them (typed attribute values), for the purge and erasure ports.

    Implements `ExpiredItems`, `CallerItems` and `ItemDeleter` over one dict, with the index rules of
    voicetrail.storage.table: only items with `exp_bucket` are in the ExpiryIndex, only items with
    `caller_hash` in the CallerIndex.
    """

    def __init__(self, items: Iterable[RawItem] = ()) -> None:
        self.items: dict[ItemKey, RawItem] = {}
        self._lock = threading.Lock()
        for item in items:
            self.put(item)

    def put(self, item: RawItem) -> None:
        with self._lock:
            self.items[ItemKey.of(item)] = copy.deepcopy(item)

    def keys(self) -> set[tuple[str, str]]:
        with self._lock:
            return {(k.pk, k.sk) for k in self.items}

    # -- ExpiredItems ------------------------------------------------------------------------------
    def expired_page(
        self, bucket: str, *, now: int, limit: int, start: Any | None
    ) -> tuple[list[RawItem], Any | None]:
        upper = expiry_upper_bound(now)
        with self._lock:
            due = sorted(
                (str(item["exp_sk"]["S"]), item)
                for item in self.items.values()
                if item.get("exp_bucket", {}).get("S") == bucket
                and str(item.get("exp_sk", {}).get("S", "~")) < upper
                and (start is None or str(item["exp_sk"]["S"]) > start)
            )
        page = [copy.deepcopy(item) for _, item in due[:limit]]
        return page, (due[limit - 1][0] if len(due) > limit else None)

    def get(self, key: ItemKey, *, projection: str | None = None) -> RawItem | None:
        with self._lock:
            item = self.items.get(key)
            if item is None:
                return None
            if projection:
                names = {name.strip() for name in projection.split(",")}
                return {k: copy.deepcopy(v) for k, v in item.items() if k in names}
            return copy.deepcopy(item)

    def count_purge_attempt(self, item: RawItem, *, outcome: str, now: int, hold_until: int) -> int:
        with self._lock:
            stored = self.items.get(ItemKey.of(item))
            if stored is None:
                return int(item.get("purge_attempts", {}).get("N", "0")) + 1
            attempts = int(stored.get("purge_attempts", {}).get("N", "0")) + 1
            stored["purge_attempts"] = n(attempts)
            stored["purge_last_outcome"] = s(outcome)
            stored["purge_last_attempt_at"] = n(now)
            stored.setdefault("purge_due_at", stored[TTL_ATTRIBUTE])
            stored[TTL_ATTRIBUTE] = n(hold_until)
            return attempts

    # -- CallerItems -------------------------------------------------------------------------------
    def caller_items(self, caller_hash: str) -> list[RawItem]:
        with self._lock:
            return [
                {PK: item[PK], SK: item[SK], "caller_hash": item["caller_hash"]}
                for key, item in sorted(self.items.items())
                if item.get("caller_hash", {}).get("S") == caller_hash
            ]

    def call_items(self, pk: str) -> list[RawItem]:
        with self._lock:
            items = [
                {k: copy.deepcopy(v) for k, v in item.items() if k in ERASURE_PROJECTION}
                for key, item in sorted(self.items.items())
                if key.pk == pk
            ]
        return items + day_index_entries(pk, items)

    # -- ItemDeleter -------------------------------------------------------------------------------
    def delete(self, keys: Sequence[ItemKey]) -> BatchOutcome:
        if len(keys) > BATCH_LIMIT:
            raise ValueError("at most 25 keys per batch")
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for key in unique:
                self.items.pop(key, None)
        return BatchOutcome(deleted=unique, calls=1)


class InMemoryPurgeCursor:
    """The purge cursor, kept as its item in an InMemoryTable (so the purge sees it like any item)."""

    def __init__(self, table: InMemoryTable) -> None:
        self._table = table

    def read(self) -> int | None:
        item = self._table.get(ItemKey(CURSOR_PK, CURSOR_SK))
        return int(item["oldest_day"]["N"]) if item and "oldest_day" in item else None

    def write(self, day: int, *, now: int, expires_at: int) -> None:
        self._table.put(
            {
                **key(CURSOR_PK, CURSOR_SK),
                "oldest_day": n(day),
                "updated_at": n(now),
                **expiry_attributes(CURSOR_PK, CURSOR_SK, RetentionClass.METADATA, expires_at),
            }
        )


class InMemoryExpiryDays:
    """The expiry day records of an InMemoryTable (port `ExpiryDays`), always complete: a day's buckets are
    those its items carry now, as if every writer had recorded its bucket before writing."""

    def __init__(self, table: InMemoryTable) -> None:
        self._table = table
        self.reads = 0
        self.forgotten: list[int] = []

    def buckets(self, first_day: int, last_day: int) -> dict[int, tuple[str, ...]] | None:
        self.reads += 1
        found: dict[int, set[str]] = {}
        with self._table._lock:
            for item in self._table.items.values():
                bucket = item.get("exp_bucket", {}).get("S")
                if bucket is None:
                    continue
                # The bucket's own day: a held item's TTL moves on, its bucket does not.
                stamp = day_of_bucket(str(bucket)).removeprefix(EXPIRY_BUCKET_PREFIX)
                day = calendar.timegm(time.strptime(stamp, "%Y-%m-%d"))
                if first_day <= day <= last_day:
                    found.setdefault(day, set()).add(str(bucket))
        return {day: tuple(sorted(b)) for day, b in sorted(found.items())}

    def forget(self, day: int) -> None:
        self.forgotten.append(day)

    def backfill(self, first_day: int, last_day: int, *, write: bool, more: Any, now: int) -> Any:
        return self.buckets(first_day, last_day)


class StaticConfigSource:
    """Configs held in memory (tests, benchmarks)."""

    def __init__(self, items: dict[str, str] | None = None) -> None:
        self.items = dict(items or {})
        self.fetches = 0  # keys read
        self.round_trips = 0  # fetch_many calls

    def fetch(self, key: str) -> str | None:
        self.fetches += 1
        return self.items.get(key)

    def fetch_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        self.round_trips += 1
        return {key: self.fetch(key) for key in keys}


class MemoryPepperFingerprints:
    """Pepper fingerprints in a set (port `PepperFingerprints`); `writes` counts the stores made."""

    def __init__(self) -> None:
        self.fingerprints: set[str] = set()
        self.writes = 0

    def record(self, fingerprint: str) -> None:
        if fingerprint not in self.fingerprints:
            self.writes += 1
            self.fingerprints.add(fingerprint)

    def known(self) -> set[str]:
        return set(self.fingerprints)


class InMemoryErasureTasks:
    """Port `ErasureTasks` over a dict keyed by (provider, target), as the table keys them."""

    def __init__(self) -> None:
        self.tasks: dict[tuple[str, str], ErasureTask] = {}

    def add(self, task: ErasureTask) -> None:
        self.tasks.setdefault((task.provider, task.target), task)

    def pending(self, limit: int) -> list[ErasureTask]:
        return [self.tasks[k] for k in sorted(self.tasks)][:limit]

    def update(self, task: ErasureTask) -> None:
        self.tasks[(task.provider, task.target)] = task

    def done(self, task: ErasureTask) -> None:
        self.tasks.pop((task.provider, task.target), None)


class InMemoryQuarantineStore:
    """The quarantine port in memory: records by (day, record id), once each."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], QuarantineRecord] = {}
        self.expiry: dict[tuple[str, str], int] = {}

    def keep(self, record: QuarantineRecord, *, expires_at: int) -> bool:
        slot = (quarantine_day(record.received_at_ms), record.record_id)
        if slot in self.records:
            return False
        self.records[slot] = record
        self.expiry[slot] = expires_at
        return True

    def list_day(self, day: str, *, now: float) -> list[QuarantineRecord]:
        return [r for (d, rid), r in self.records.items() if d == day and self.expiry[(d, rid)] > now]

    def mark_replayed(self, day: str, record_id: str, *, at_ms: int) -> None:
        record = self.records[(day, record_id)]
        self.records[(day, record_id)] = dataclasses.replace(record, replayed_at_ms=at_ms)
