"""The single-table data model: every item type, its keys, the indexes that read it, its retention class.

voicetrail keeps everything in one DynamoDB table (`EventsTable` in template.yaml). This module is the one
place that knows how its keys are built: every `pk`/`sk` and every index key attribute written anywhere
comes from a builder below. `tests/unit/test_data_model.py` checks the indexes against template.yaml, and
`docs/reference/data-model.md` is generated from `ITEM_TYPES` and `INDEXES`
(`make docs-ref-data-model`).

Stored attribute names and key formats are a contract with items already in the table: never rename one.
Pure Python (no boto3): the domain and the docs generator import it freely.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from voicetrail.domain.calls.ports import EVENT_RECORD, RECORDING_RECORD
from voicetrail.domain.identity import (
    CALL_PREFIX,
    CALLER_PREFIX,
    DEFAULT_CONFIG_PK,
    MAX_EVENT_KEY_BYTES,
    SYSTEM_PREFIX,
    TWILIO_CALL_PREFIX,
    call_key_of_pk,
    call_pk,
    config_pk,
    is_twilio_call_pk,
    key_part,
    system_pk,
)
from voicetrail.domain.retention.classes import RetentionClass

# Re-exported: the keys are built from the domain's names of calls, callers and system jobs.
__all__ = [
    "CALLER_PREFIX",
    "CALL_PREFIX",
    "DEFAULT_CONFIG_PK",
    "EVENT_RECORD",
    "RECORDING_RECORD",
    "SYSTEM_PREFIX",
    "TWILIO_CALL_PREFIX",
    "call_key_of_pk",
    "call_pk",
    "config_pk",
    "is_twilio_call_pk",
    "system_pk",
]

# ---- table and indexes -------------------------------------------------------------------------------

PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expires_at"
RETENTION_ATTRIBUTE = "retention_class"

EXPIRY_INDEX = "ExpiryIndex"
CALLER_INDEX = "CallerIndex"
AUDIT_INDEX = "AuditIndex"


# NamedTuples, not dataclasses: this module is on every function's cold start, and a dataclass costs
# about half a millisecond to create there.
class Index(NamedTuple):
    """A global secondary index. All three are sparse: only items that carry the hash key are in it."""

    name: str
    hash_key: str
    range_key: str
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...]
    purpose: str


INDEXES: tuple[Index, ...] = (
    Index(
        EXPIRY_INDEX,
        "exp_bucket",
        "exp_sk",
        "INCLUDE",
        ("retention_class", "recording_sid", "vapi_call_id", "purge_attempts"),
        "The retention purge queries the past expiry buckets that received items (the expiry day records "
        "say which; `exp_sk < now`), never scans; it reads the class and the recording pointers from the "
        "index, one read per expired item.",
    ),
    Index(
        CALLER_INDEX,
        "caller_hash",
        "pk",
        "KEYS_ONLY",
        (),
        "Erasure finds a caller's call partitions and per-caller items from the keyed hash of the number.",
    ),
    Index(
        AUDIT_INDEX,
        "audit_day",
        "audit_sk",
        "KEYS_ONLY",
        (),
        "`audit verify/export --since` find the chains written on a UTC day (every shard) without a Scan.",
    ),
)

# Every attribute an index or the table key reads, with its DynamoDB type (template AttributeDefinitions).
KEY_ATTRIBUTES: dict[str, str] = {
    PK: "S",
    SK: "S",
    "exp_bucket": "S",
    "exp_sk": "S",
    "caller_hash": "S",
    "audit_day": "S",
    "audit_sk": "S",
}

# ---- key builders ------------------------------------------------------------------------------------

EVENT_SK_PREFIX = "EVT#"
SUMMARY_SK = "SUMMARY"
RECORDING_SK_PREFIX = "REC#"
DAY_PK_PREFIX = "CALLS#"
NAMES_SK = "NAMES"
CONSENT_SK = "LIVE#consent"
ESCALATION_SK = "LIVE#escalation"
TOOL_SK_PREFIX = "LIVE#tool#"
RULE_SK_PREFIX = "LIVE#rule#"
CALLER_CONSENT_SK = "CONSENT"
CONFIG_PREFIX = "CONFIG#"
CONFIG_SK = "CONFIG"
CONFIG_INDEX_PK = "CONFIG#index"
AUDIT_SK_PREFIX = "AUDIT#"
CURSOR_SK = "STATE#cursor"
TOPOLOGY_SK = "TOPOLOGY"
DNC_PREFIX = "DNC#"
DNC_SK = "DNC"


def event_sk(record: str, source: str, event_key: str) -> str:
    """`EVT#<source>#<semantic key>`; other records of a call (e.g. `REC`) use their own prefix. The
    semantic key is bounded (MAX_EVENT_KEY_BYTES) so the ExpiryIndex range key (expiry + pk + sk) stays
    under DynamoDB's 1,024 bytes."""
    return f"{record}#{source}#{key_part(event_key, MAX_EVENT_KEY_BYTES)}"


def record_of_sk(sk: str) -> str:
    return sk.split("#", 1)[0]


def recording_sk(recording_sid: str) -> str:
    return f"{RECORDING_SK_PREFIX}{key_part(recording_sid)}"


def day_pk(day: str) -> str:
    """The day index partition: `CALLS#YYYY-MM-DD`, one item per call active that UTC day (sk = call key)."""
    return f"{DAY_PK_PREFIX}{day}"


QUARANTINE_PREFIX = "QRN#"


def quarantine_pk(day: str) -> str:
    """A UTC day's quarantined messages: `QRN#YYYY-MM-DD` (voicetrail.domain.quarantine)."""
    return f"{QUARANTINE_PREFIX}{day}"


def quarantine_pointer_sk(record_id: str) -> str:
    """A quarantined message's pointer in its call's partition: `QRN#<source>#<digest>`."""
    return f"{QUARANTINE_PREFIX}{record_id}"


def tool_sk(tool_call_id: str) -> str:
    return f"{TOOL_SK_PREFIX}{key_part(tool_call_id)}"


def rule_sk(code: str) -> str:
    """An escalation rule snapshot: `LIVE#rule#<code>`, the code being the one the audit record carries."""
    return f"{RULE_SK_PREFIX}{code}"


def tool_call_id_of_sk(sk: str) -> str:
    return sk.removeprefix(TOOL_SK_PREFIX)


def caller_pk(caller_hash: str) -> str:
    return f"{CALLER_PREFIX}{caller_hash}"


def dnc_pk(number_hash: str) -> str:
    """A do-not-call entry: the keyed hash of the number (HMAC with the pepper), never the number."""
    return f"{DNC_PREFIX}{number_hash}"


def audit_sk(seq: int) -> str:
    return f"{AUDIT_SK_PREFIX}{seq:08d}"


CURSOR_PK = system_pk("purge")
AUDIT_DAYS_PK = system_pk("audit-days")
# Which ExpiryIndex buckets received items, one record per expiry day (`EXP#YYYY-MM-DD`), and the state
# of the one-time backfill of those records for items written before they existed (storage.expiry_days).
EXPIRY_DAYS_PK = system_pk("expiry-days")
EXPIRY_DAYS_STATE_SK = "STATE#backfill"
PEPPER_PK = system_pk("pepper")
FINGERPRINT_SK_PREFIX = "FP#"


def fingerprint_sk(fingerprint: str) -> str:
    return f"{FINGERPRINT_SK_PREFIX}{fingerprint}"


ERASURE_TASKS_PK = system_pk("erasure-tasks")
ERASURE_TASK_SK_PREFIX = "TASK#"


def erasure_task_sk(provider: str, target: str) -> str:
    """A follow-up deletion at a provider: one item per (provider, target), so a repeat adds nothing."""
    return f"{ERASURE_TASK_SK_PREFIX}{provider}#{target}"


# What erasure reads of a call's items: keys, class, the pointers to what lives outside DynamoDB, and the
# summary's `days` (the call's entries in the day index go with it).
ERASURE_PROJECTION = (
    "pk",
    "sk",
    "retention_class",
    "recording_sid",
    "vapi_call_id",
    "a_recording_sid",
    "a_vapi_call_id",
    "days",
    "body_s3",
)


def day_index_entries(pk: str, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The day-index items (`CALLS#<day>` / `<call key>`) of a call, from its summary's `days`: erasure
    deletes them with the call, so a report no longer counts it."""
    call_key = call_key_of_pk(pk)
    days: set[str] = set()
    for item in items:
        if item.get(SK, {}).get("S") == SUMMARY_SK:
            days.update(item.get("days", {}).get("SS", ()))
    return [
        {
            PK: {"S": day_pk(day)},
            SK: {"S": call_key},
            RETENTION_ATTRIBUTE: {"S": RetentionClass.METADATA.value},
        }
        for day in sorted(days)
    ]


# ---- index key builders ------------------------------------------------------------------------------


EXPIRY_BUCKET_PREFIX = "EXP#"
AUDIT_DAY_PREFIX = "AUD#"

# Both day-bucketed indexes split each UTC day into INDEX_SHARDS partition keys (`<day>#<shard>`), so that a
# day's index writes spread over that many partitions instead of one (docs/operations/scaling.md: one
# partition key takes ~1,000 writes/s, and a throttled GSI throttles the table). The shard is a stable hash of
# the item's partition key, so all items of one call share a shard and a retried write lands in the same one.
# Readers query every shard of a day plus the unsharded key that items written before sharding carry.
# Never lower INDEX_SHARDS: items in the shards above the new count would no longer be read.
INDEX_SHARDS = 16


def index_shard(pk: str) -> int:
    """The item's shard: CRC-32 of its partition key (stable across processes, unlike hash())."""
    return zlib.crc32(pk.encode("utf-8")) % INDEX_SHARDS


def _day(prefix: str, epoch_s: float) -> str:
    return prefix + time.strftime("%Y-%m-%d", time.gmtime(epoch_s))


def _every_shard(day: str) -> tuple[str, ...]:
    # The unsharded day first: items written before the buckets were sharded (scaling.md, "Migration").
    return (day, *(f"{day}#{shard:02d}" for shard in range(INDEX_SHARDS)))


def expiry_day(epoch_s: float) -> str:
    """`EXP#YYYY-MM-DD`: the UTC day of an expiry, unsharded (the purge cursor names days this way)."""
    return _day(EXPIRY_BUCKET_PREFIX, epoch_s)


def expiry_bucket(expires_at: int, pk: str) -> str:
    """ExpiryIndex hash key of an item: `EXP#YYYY-MM-DD#<shard>`; the purge queries past buckets only."""
    return f"{expiry_day(expires_at)}#{index_shard(pk):02d}"


def expiry_buckets(day_epoch_s: int) -> tuple[str, ...]:
    """Every ExpiryIndex hash key of one UTC day: what the purge reads for that day."""
    return _every_shard(expiry_day(day_epoch_s))


def day_of_bucket(bucket: str) -> str:
    """`EXP#YYYY-MM-DD` of a bucket, sharded (`EXP#YYYY-MM-DD#07`) or not: the day record that lists it."""
    return bucket[: len(EXPIRY_BUCKET_PREFIX) + 10]


def expiry_sk(expires_at: int, pk: str, sk: str) -> str:
    """ExpiryIndex range key: the due time first, so `exp_sk < now` selects exactly what has expired."""
    return f"{expires_at:012d}#{pk}#{sk}"


def expiry_upper_bound(now: int) -> str:
    return f"{now:012d}#"


def audit_day(epoch_s: float, pk: str) -> str:
    """AuditIndex hash key of a record: `AUD#YYYY-MM-DD#<shard>` (UTC day of the record's time)."""
    return f"{_day(AUDIT_DAY_PREFIX, epoch_s)}#{index_shard(pk):02d}"


def audit_marker_day(epoch_s: float) -> str:
    """Sort key of a day marker (`SYS#audit-days`): `AUD#YYYY-MM-DD`, one per day, not sharded."""
    return _day(AUDIT_DAY_PREFIX, epoch_s)


def audit_days(day_epoch_s: int) -> tuple[str, ...]:
    """Every AuditIndex hash key of one UTC day: what `audit verify/export --since` read for that day."""
    return _every_shard(_day(AUDIT_DAY_PREFIX, day_epoch_s))


def audit_index_sk(at_ms: int, pk: str, seq: int) -> str:
    return f"{at_ms:013d}#{pk}#{seq:08d}"


def audit_index_lower_bound(since_ms: int) -> str:
    return f"{since_ms:013d}"


# ---- aggregates: which port and adapters own which items --------------------------------------------


class Aggregate(NamedTuple):
    name: str
    port: str  # the Protocol, declared beside its domain types (voicetrail.domain.*.ports)
    adapter: str  # the DynamoDB adapter, module:class under voicetrail.storage
    memory: str  # the in-memory adapter (tests.support.memory)
    rules: str  # the domain module that holds its rules


AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate(
        "quarantine",
        "QuarantineStore",
        "quarantine:DynamoQuarantineStore",
        "InMemoryQuarantineStore",
        "voicetrail.domain.quarantine",
    ),
    Aggregate(
        "events",
        "EventStore",
        "dynamo:DynamoEventStore",
        "InMemoryEventStore",
        "voicetrail.providers.vapi.service",
    ),
    Aggregate(
        "call ledger",
        "CallLedger",
        "ledger:DynamoCallLedger",
        "InMemoryCallLedger",
        "voicetrail.domain.calls.state",
    ),
    Aggregate("live state", "LiveStore", "live:DynamoLiveStore", "MemoryLiveStore", "voicetrail.domain.live"),
    Aggregate(
        "live config",
        "ConfigSource",
        "live:TableConfigSource",
        "StaticConfigSource",
        "voicetrail.domain.live.config",
    ),
    Aggregate(
        "name memory",
        "NameMemory",
        "names:DynamoNameMemory",
        "InMemoryNameMemory",
        "voicetrail.providers.vapi.names",
    ),
    Aggregate(
        "audit trail",
        "AuditStore",
        "audit:DynamoAuditStore",
        "InMemoryAuditStore",
        "voicetrail.domain.audit.trail",
    ),
    Aggregate(
        "purge cursor",
        "PurgeCursor",
        "purge:DynamoPurgeCursor",
        "InMemoryPurgeCursor",
        "voicetrail.domain.retention.purge",
    ),
    Aggregate(
        "expired items",
        "ExpiredItems",
        "purge:DynamoExpiredItems",
        "InMemoryTable",
        "voicetrail.domain.retention.purge",
    ),
    Aggregate(
        "erasure",
        "CallerItems",
        "erasure:DynamoCallerItems",
        "InMemoryTable",
        "voicetrail.domain.erasure.eraser",
    ),
    Aggregate(
        "erasure follow-ups",
        "ErasureTasks",
        "erasure_tasks:DynamoErasureTasks",
        "InMemoryErasureTasks",
        "voicetrail.domain.erasure.followups",
    ),
    Aggregate(
        "pepper fingerprints",
        "PepperFingerprints",
        "pepper:DynamoPepperFingerprints",
        "MemoryPepperFingerprints",
        "voicetrail.domain.erasure.eraser",
    ),
    Aggregate(
        "call topology",
        "TopologyStore",
        "topology:DynamoTopologyStore",
        "InMemoryTopologyStore",
        "voicetrail.providers.vapi.topology",
    ),
    Aggregate(
        "do-not-call list",
        "DoNotCallList",
        "dnc:DynamoDoNotCallList",
        "InMemoryDoNotCallList",
        "voicetrail.providers.vapi.predial",
    ),
)


# ---- item types --------------------------------------------------------------------------------------

EXPIRY = ("exp_bucket", "exp_sk")


class ItemType(NamedTuple):
    name: str
    aggregate: str  # which adapter of voicetrail.storage writes it
    pk: str
    sk: str
    retention: tuple[RetentionClass, ...]
    index_attributes: tuple[str, ...]  # index key attributes the item carries (when present)
    attributes: tuple[str, ...]  # the other stored attributes (besides pk, sk, expires_at, retention_class)
    description: str

    @property
    def indexes(self) -> tuple[str, ...]:
        return tuple(i.name for i in INDEXES if i.hash_key in self.index_attributes)


ITEM_TYPES: tuple[ItemType, ...] = (
    ItemType(
        "event",
        "events",
        "CALL#<call id>",
        "EVT#<source>#<semantic key>",
        (RetentionClass.CONTENT, RetentionClass.METADATA),
        (*EXPIRY, "caller_hash"),
        (
            "call_id",
            "event_key",
            "source",
            "event_type",
            "received_at_ms",
            "event_ts_ms",
            "body | body_gz | body_s3",
            "redactions",
            "a_<attribute>",
        ),
        "One webhook event (Vapi or Twilio), already sanitised. Written once, conditionally: a retry is a "
        "duplicate. `body_gz` (gzip JSON) replaces `body` above 64 KB; `body_s3` (the object key in the "
        "large-events bucket, storage.large_bodies) replaces `body_gz` above 300 KB gzipped.",
    ),
    ItemType(
        "Vapi recording pointer",
        "events",
        "CALL#<Vapi call id>",
        "REC#vapi#recording",
        (RetentionClass.RECORDING,),
        (*EXPIRY, "caller_hash"),
        (
            "call_id",
            "event_key",
            "source",
            "event_type",
            "received_at_ms",
            "event_ts_ms",
            "body",
            "a_vapi_call_id",
        ),
        "Written with an end-of-call-report that has a recording: at its expiry the purge deletes the call "
        "at Vapi. The `REC` prefix keeps it out of the call's events.",
    ),
    ItemType(
        "kept call audio pointer",
        "events",
        "CALL#elevenlabs:<conversation id>",
        "REC#elevenlabs#audio",
        (RetentionClass.RECORDING,),
        EXPIRY,
        ("call_id", "event_key", "source", "event_type", "received_at_ms", "event_ts_ms", "body"),
        "Only with ElevenLabsKeepAudio: the call's audio is the object `recording/<sha256(pk#sk)>.mp3` of "
        "the large-events bucket, and `body.audio` holds its key, size, sha256 and content type (never "
        "the audio). The purge and erasure delete the object, then the item (storage.audio).",
    ),
    ItemType(
        "call summary",
        "call ledger",
        "CALL#<call key>",
        SUMMARY_SK,
        (RetentionClass.METADATA,),
        EXPIRY,
        (
            "call_key",
            "twilio_call_sid",
            "vapi_call_id",
            "call_status",
            "status_rank",
            "status_seq",
            "status_ts_ms",
            "final_status",
            "answered",
            "direction",
            "answered_by",
            "duration_s",
            "account_sid",
            "from_hash",
            "to_hash",
            "parent_call_sid",
            "tw_first_ms",
            "first_ts_ms",
            "updated_ms",
            "days (SS)",
            "recording_sids (SS)",
            "vapi_ended",
            "ended_reason",
            "cost_usd",
            "vapi_duration_s",
            "escalated",
            "consent",
            "topology",
            "latency (JSON: per-turn timings and the call's latency figures)",
        ),
        "One call, both views (Twilio and Vapi). The call key is `twilio:<CallSid>` when the call has a "
        "Twilio leg, else the Vapi call id. The status never regresses (conditional on `status_rank`).",
    ),
    ItemType(
        "recording pointer",
        "call ledger",
        "CALL#twilio:<CallSid>",
        "REC#<RecordingSid>",
        (RetentionClass.RECORDING,),
        EXPIRY,
        (
            "call_key",
            "recording_sid",
            "call_sid",
            "rec_status",
            "rec_rank",
            "duration_s",
            "channels",
            "account_sid",
            "source",
            "track",
            "error_code",
            "first_ts_ms",
            "updated_ms",
            "purge_attempts",
            "purge_last_outcome",
            "purge_last_attempt_at",
            "purge_due_at",
        ),
        "Points at a recording held at Twilio. The purge deletes the recording there before the item.",
    ),
    ItemType(
        "day marker",
        "call ledger",
        "CALLS#<YYYY-MM-DD>",
        "<call key>",
        (RetentionClass.METADATA,),
        EXPIRY,
        ("call_key",),
        "Which calls were active on a UTC day: the report reads a day range without a Scan.",
    ),
    ItemType(
        "name memory",
        "name memory",
        "CALL#<call id>",
        NAMES_SK,
        (RetentionClass.CONTENT,),
        EXPIRY,
        ("name_hashes (SS)",),
        "Keyed hashes of the caller's name words, so later messages of the call redact them. No name.",
    ),
    ItemType(
        "consent state",
        "live state",
        "CALL#<call id>",
        CONSENT_SK,
        (RetentionClass.METADATA,),
        EXPIRY,
        ("call_id", "state", "asks", "version", "source", "updated_ms", "action"),
        "The call's consent state machine, written with an optimistic `version`.",
    ),
    ItemType(
        "escalation claim",
        "live state",
        "CALL#<call id>",
        ESCALATION_SK,
        (RetentionClass.METADATA,),
        EXPIRY,
        ("call_id", "status", "last_ms", "attempts"),
        "At most one escalation per call: a conditional claim, retried only after a failure.",
    ),
    ItemType(
        "escalation rule snapshot",
        "live state",
        "CALL#<call id>",
        "LIVE#rule#<code>",
        (RetentionClass.METADATA,),
        EXPIRY,
        ("config_key", "config (JSON string)", "rule", "keyword", "fired_at_ms"),
        "The escalation rule as configured when it fired: the whole live config, the item it came from and "
        "the keyword that matched. The escalation's audit record carries the code (a hash of the config).",
    ),
    ItemType(
        "tool result",
        "live state",
        "CALL#<call id>",
        "LIVE#tool#<toolCallId>",
        (RetentionClass.METADATA,),
        EXPIRY,
        ("call_id", "name", "result", "is_error"),
        "A tool call's answer, returned again when Vapi retries the same tool call.",
    ),
    ItemType(
        "caller consent",
        "live state",
        "CALLER#<caller hash>",
        CALLER_CONSENT_SK,
        (RetentionClass.AUDIT,),
        (*EXPIRY, "caller_hash"),
        ("decision", "decided_at"),
        "A returning caller's last consent decision (erasure finds it through the CallerIndex).",
    ),
    ItemType(
        "live config",
        "live config",
        "CONFIG#phone#<phoneNumberId> | CONFIG#assistant#<assistantId> | CONFIG#default",
        CONFIG_SK,
        (),
        (),
        ("config (JSON string)",),
        "An operator's live-call configuration. Written by operators, never expires, never purged.",
    ),
    ItemType(
        "live config index",
        "live config",
        CONFIG_INDEX_PK,
        "<config item pk>",
        (),
        (),
        ("updated_ms",),
        "One entry per config written by `voicetrail config put`: `config list` reads it without a Scan.",
    ),
    ItemType(
        "audit record",
        "audit trail",
        "CALL#<call id> | SYS#<job>",
        "AUDIT#<seq:08d>",
        (RetentionClass.AUDIT,),
        (*EXPIRY, "audit_day", "audit_sk"),
        ("chain", "seq", "kind", "at_ms", "details (M)", "prev_hash", "prev_expires_at", "hash"),
        "One link of an append-only hash chain (per call, per system job). `SYS#erasure` records are the "
        "erasure receipts; `SYS#purge` records one per purge run. Counts and codes only.",
    ),
    ItemType(
        "audit day marker",
        "audit trail",
        AUDIT_DAYS_PK,
        "AUD#<YYYY-MM-DD>",
        (RetentionClass.AUDIT,),
        EXPIRY,
        (),
        "A UTC day that has audit records (written once per process and day): `audit verify` queries the "
        "AuditIndex for these days only, so it reads in proportion to the records, not to the days.",
    ),
    ItemType(
        "expiry day record",
        "purge cursor",
        EXPIRY_DAYS_PK,
        "EXP#<YYYY-MM-DD>",
        (),
        (),
        ("buckets (SS)",),
        "The ExpiryIndex buckets of a UTC expiry day that received items, added before the items are "
        "written (once per process and bucket): the purge queries these buckets only. Deleted by the purge "
        "once the day is clean. No personal data.",
    ),
    ItemType(
        "expiry day backfill",
        "purge cursor",
        EXPIRY_DAYS_PK,
        EXPIRY_DAYS_STATE_SK,
        (),
        (),
        ("complete", "scan_from (M)", "updated_at"),
        "Whether the expiry day records cover every item: absent on a table written before they existed, "
        "until the purge's one-time scan of the ExpiryIndex has recorded its buckets (resumable). Until "
        "then the purge reads every bucket of every day.",
    ),
    ItemType(
        "pepper fingerprint",
        "pepper fingerprints",
        PEPPER_PK,
        "FP#<fingerprint>",
        (),
        (),
        ("first_seen_ms",),
        "A keyed fingerprint of a pepper caller hashes were made with (never the pepper). Erasure refuses "
        "a pepper whose fingerprint is not here. No personal data, never expires.",
    ),
    ItemType(
        "erasure follow-up",
        "erasure follow-ups",
        ERASURE_TASKS_PK,
        "TASK#<provider>#<target>",
        (),
        (),
        (
            "provider",
            "target",
            "call_id",
            "request_id",
            "created_at",
            "due_at",
            "attempts",
            "last_outcome",
            "last_attempt_at",
        ),
        "A deletion an erasure still owes at a provider (a Twilio recording, a Vapi call): written before "
        "the call's items are deleted, retried by every purge run until the provider answers deleted or "
        "gone, then removed. Never expires: it must not vanish before it is done. Provider ids only.",
    ),
    ItemType(
        "purge cursor",
        "purge cursor",
        system_pk("purge"),
        CURSOR_SK,
        (RetentionClass.METADATA,),
        EXPIRY,
        ("oldest_day", "updated_at"),
        "The oldest expiry bucket that may still hold expired items: the next purge run starts there.",
    ),
    ItemType(
        "call topology",
        "call topology",
        "CALL#<Vapi call id>",
        TOPOLOGY_SK,
        (RetentionClass.METADATA,),
        EXPIRY,
        ("role",),
        "Written before voicetrail answers a call's assistant-request with its own assistant (`role = "
        "owner`): later messages of the call run the owner's consent flow. A call without it is observed.",
    ),
    ItemType(
        "do-not-call entry",
        "do-not-call list",
        "DNC#<number hash>",
        DNC_SK,
        (RetentionClass.AUDIT,),
        EXPIRY,
        ("added_at",),
        "A number the pre-dial gate never lets a campaign call, as its keyed hash. Managed with "
        "`voicetrail dnc`; not indexed by caller, so an erasure request leaves it in place.",
    ),
    ItemType(
        "quarantined message",
        "quarantine",
        "QRN#<YYYY-MM-DD>",
        "<source>#<body digest>",
        (RetentionClass.METADATA,),
        EXPIRY,
        (
            "source",
            "reason",
            "detail",
            "received_at_ms",
            "body_gz",
            "truncated",
            "content_type",
            "call_id",
            "replayed_at_ms",
        ),
        "An authenticated message that could not be stored as sent (a bound broken, a wrong shape, a "
        "permanent store refusal): its redacted body (gzip), the reason, once per body and day. "
        "`voicetrail quarantine list/replay`.",
    ),
    ItemType(
        "quarantine pointer",
        "quarantine",
        "CALL#<call id>",
        "QRN#<source>#<body digest>",
        (RetentionClass.METADATA,),
        EXPIRY,
        ("reason", "received_at_ms", "quarantine_day"),
        "Names a quarantined message in its call's partition, so `voicetrail calls show` lists it.",
    ),
)
