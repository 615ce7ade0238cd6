"""What calls and their events need from storage: the event store (store once), the call ledger, a call's
name memory and topology. Adapters: `voicetrail.storage` (DynamoDB) and `tests/support` (in memory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from voicetrail.domain.identity import MAX_EVENT_KEY_BYTES, call_pk, key_part
from voicetrail.domain.retention.classes import RetentionClass

# What a call's stored record is: a webhook event, or a pointer to a recording a provider holds.
EVENT_RECORD = "EVT"
RECORDING_RECORD = "REC"
# A call's audio kept in our own object store (ElevenLabs `post_call_audio`, when the deployment asks):
# its pointer is the `REC#<source>#audio` record, of the `recording` retention class.
KEPT_AUDIO_KEY = "audio"


def is_kept_audio(sk: str) -> bool:
    """Whether a sort key is a kept-audio pointer (the object goes wherever the item goes)."""
    return sk.startswith(f"{RECORDING_RECORD}#") and sk.endswith(f"#{KEPT_AUDIO_KEY}") and sk.count("#") == 2


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
    record: str = EVENT_RECORD

    @property
    def pk(self) -> str:
        """The call's name (domain.identity), under which all its records are kept."""
        return call_pk(self.call_id)

    @property
    def sk(self) -> str:
        """The event's identity within its call: `<record>#<source>#<semantic key>` (the table's sort key)."""
        return f"{self.record}#{self.source}#{key_part(self.event_key, MAX_EVENT_KEY_BYTES)}"


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


class AudioStore(Protocol):
    """Where a call's audio is kept when a deployment keeps it: the bytes in an object store, a pointer
    record (key, size, sha256, content type) in the table; never the audio in the table."""

    def keep(self, pointer: StoredEvent, audio: bytes, *, content_type: str, now: float) -> PutOutcome:
        """Store the audio once under the pointer's (pk, sk): a resend is a DUPLICATE that uploads nothing.
        The object is written before its pointer. Raises StoreUnavailableError / StoreRejectedError."""
        ...


class NameMemory(Protocol):
    """A call's memory of its caller's name words, as keyed hashes."""

    def known(self, call_id: str) -> frozenset[str]: ...

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None: ...


class TopologyStore(Protocol):
    """Which calls voicetrail owns (it served their assistant-request): voicetrail.providers.vapi.topology."""

    def mark_owner(self, call_id: str, *, now: float) -> None:
        """Record that voicetrail served this call's assistant-request. Idempotent."""
        ...

    def is_owner(self, call_id: str) -> bool: ...
