"""What the domain needs from storage, independent of DynamoDB: one Protocol per aggregate.

Adapters: DynamoDB in `voicetrail.storage.<aggregate>` (and `storage.dynamo` for events), in memory in
`voicetrail.storage.memory`. Keys come from `voicetrail.storage.model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from voicetrail.retention import RetentionClass
from voicetrail.storage.model import call_pk as call_pk
from voicetrail.storage.model import event_sk, expiry_bucket

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from voicetrail.audit import AuditRecord
    from voicetrail.calls import CallSummary, CallTransition, RecordingUpdate, TwilioCallUpdate, VapiCallView
    from voicetrail.live.store import CallerConsent, ClaimResult, ConsentRecord, RuleSnapshot, ToolResult

# An item as DynamoDB returns it (attribute name -> typed value): what the purge and erasure walk over.
RawItem = dict[str, Any]
BATCH_LIMIT = 25  # keys per batch delete (DynamoDB's BatchWriteItem limit)


class ItemKey(NamedTuple):
    """The primary key of any item of the table (hashable and ordered by pk, then sk)."""

    pk: str
    sk: str

    def dynamo(self) -> dict[str, dict[str, str]]:
        return {"pk": {"S": self.pk}, "sk": {"S": self.sk}}

    @classmethod
    def of(cls, item: RawItem) -> ItemKey:
        return cls(pk=item["pk"]["S"], sk=item["sk"]["S"])


class BatchOutcome:
    """What one batch delete did. A plain class: dataclasses cost ~0.5 ms each at cold start."""

    __slots__ = ("calls", "deleted", "failed", "retries", "throttled")

    def __init__(
        self, deleted: list[ItemKey] | None = None, failed: list[ItemKey] | None = None, calls: int = 0
    ) -> None:
        self.deleted: list[ItemKey] = deleted or []
        self.failed: list[ItemKey] = failed or []
        self.calls = calls
        self.retries = 0
        self.throttled = 0


class PutOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class StoredEvent:
    """One webhook event, already sanitised. `pk`/`sk` make it unique: `sk` is the semantic key."""

    call_id: str
    event_key: str
    source: str  # "vapi" | "twilio"
    event_type: str
    retention_class: RetentionClass
    expires_at: int
    received_at_ms: int
    body: dict[str, Any]
    event_ts_ms: int | None = None
    caller_hash: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, str | int | float] = field(default_factory=dict)
    # "EVT" for webhook events; other records of a call (e.g. "REC" recording pointers) use their own prefix
    # so that reading a call's events never returns them.
    record: str = "EVT"

    @property
    def pk(self) -> str:
        return call_pk(self.call_id)

    @property
    def sk(self) -> str:
        return event_sk(self.record, self.source, self.event_key)

    @property
    def exp_bucket(self) -> str:
        return expiry_bucket(self.expires_at, self.pk)


class EventStore(Protocol):
    def put_event(self, event: StoredEvent, *, now: float) -> PutOutcome:
        """Store once; a repeated (pk, sk) is a DUPLICATE no-op. Raises StoreUnavailableError."""
        ...

    def call_events(self, call_id: str, *, now: float) -> list[StoredEvent]:
        """Unexpired events of a call, in key order."""
        ...

    def get_event(self, call_id: str, sk: str) -> StoredEvent | None:
        """The stored event at (call, sk), strongly consistent; None when absent."""
        ...


class CallLedger(Protocol):
    """The call ledger: one summary per call joining its Twilio and Vapi views (voicetrail.calls)."""

    def apply_twilio(self, update: TwilioCallUpdate, *, now: float) -> CallTransition: ...

    def index_recording(self, update: RecordingUpdate, *, now: float) -> bool:
        """Index a recording; True when this recording was seen for the first time."""
        ...

    def merge_vapi(self, view: VapiCallView, *, now: float) -> None: ...

    def get_summary(self, call_key: str, *, now: float) -> CallSummary | None: ...

    def summaries_for_days(self, days: Iterable[str], *, now: float) -> list[CallSummary]: ...


class LiveStore(Protocol):
    """Per-call live state: consent, escalation, tool results, and a returning caller's consent."""

    def get_consent(self, call_id: str) -> ConsentRecord | None: ...

    def save_consent(
        self, call_id: str, record: ConsentRecord, *, expected_version: int | None, now: float
    ) -> bool:
        """Write if the stored version is `expected_version` (None: no record yet). False on conflict."""
        ...

    def claim_escalation(self, call_id: str, *, now_ms: int, debounce_ms: int, now: float) -> ClaimResult: ...

    def finish_escalation(self, call_id: str, *, ok: bool, now: float) -> None: ...

    def save_rule_snapshot(self, call_id: str, snapshot: RuleSnapshot, *, now: float) -> None:
        """Keep the escalation rule as configured when it fired (idempotent: keyed by the content's hash)."""
        ...

    def get_tool_results(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]: ...

    def put_tool_result(self, call_id: str, result: ToolResult, *, now: float) -> None: ...

    def get_caller_consent(self, caller_hash: str) -> CallerConsent | None: ...

    def put_caller_consent(self, caller_hash: str, consent: CallerConsent, *, now: float) -> None: ...


class ConfigSource(Protocol):
    """Where live-call configs are kept (the table, SSM, or memory)."""

    def fetch(self, key: str) -> str | None:
        """The raw JSON text stored under `key`, None when absent. Raises on I/O failure."""
        ...

    def fetch_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        """`fetch` of several keys in one round trip where the store allows it. Raises on I/O failure."""
        ...


class NameMemory(Protocol):
    """A call's memory of its caller's name words, as keyed hashes."""

    def known(self, call_id: str) -> frozenset[str]: ...

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None: ...


class AuditStore(Protocol):
    """The hash-chained audit trail: one chain per call or system job (voicetrail.audit)."""

    def tail(self, pk: str) -> AuditRecord | None:
        """The chain's last record (consistent read). Raises StoreUnavailableError."""
        ...

    def put_new(self, record: AuditRecord) -> bool:
        """Write the record if its slot is free; False when another writer took it."""
        ...

    def chain(self, pk: str) -> list[AuditRecord]:
        """Every record of a chain, in seq order."""
        ...

    def chains_on_day(self, day_epoch_s: int, *, since_ms: int) -> list[str]:
        """pks of chains with a record on that UTC day at or after `since_ms` (AuditIndex order)."""
        ...

    def mark_day(self, day_epoch_s: int, *, expires_at: int) -> None:
        """Remember that this UTC day has audit records (idempotent)."""
        ...

    def days_with_records(self, since_s: float, until_s: float) -> list[int]:
        """Start (epoch seconds) of every UTC day in [since, until] that has audit records: one read."""
        ...


class PepperFingerprints(Protocol):
    """Keyed fingerprints of the peppers caller hashes were made with (never a pepper)."""

    def record(self, fingerprint: str) -> None:
        """Remember that caller hashes are made with this pepper (idempotent, cheap after the first)."""
        ...

    def known(self) -> set[str]:
        """Fingerprints of every pepper hashes were made with."""
        ...


class ItemDeleter(Protocol):
    def delete(self, keys: Sequence[ItemKey]) -> BatchOutcome:
        """Delete up to 25 keys; keys still unprocessed after the retries come back as `failed`."""
        ...


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


class CallerItems(ItemDeleter, Protocol):
    """What erasure reads and deletes: a caller's items (CallerIndex) and a call partition's items.
    Every method raises StoreUnavailableError when the store fails."""

    def caller_items(self, caller_hash: str) -> list[RawItem]:
        """Keys of every item that carries the caller hash. Raises StoreUnavailableError."""
        ...

    def call_items(self, pk: str) -> list[RawItem]:
        """Every item of a call partition with its class and pointers (not the bodies)."""
        ...

    def get(self, key: ItemKey) -> RawItem | None: ...


class TopologyStore(Protocol):
    """Which calls voicetrail owns (it served their assistant-request): voicetrail.vapi.topology."""

    def mark_owner(self, call_id: str, *, now: float) -> None:
        """Record that voicetrail served this call's assistant-request. Idempotent."""
        ...

    def is_owner(self, call_id: str) -> bool: ...


class DoNotCallList(Protocol):
    """The pre-dial gate's do-not-call list, as keyed hashes of numbers (voicetrail.vapi.predial)."""

    def contains(self, number_hash: str) -> bool: ...

    def add(self, number_hash: str, *, now: float) -> bool:
        """True when the hash was not on the list before."""
        ...

    def remove(self, number_hash: str) -> bool:
        """True when the hash was on the list."""
        ...
