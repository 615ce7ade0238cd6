"""What the domain needs from storage, independent of DynamoDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from voicetrail.retention import RetentionClass, expiry_bucket


class PutOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"


def call_pk(call_id: str) -> str:
    return f"CALL#{call_id}"


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
        return f"{self.record}#{self.source}#{self.event_key}"

    @property
    def exp_bucket(self) -> str:
        return expiry_bucket(self.expires_at)


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
