"""The common event: what a provider adapter hands the pipeline, and what the pipeline hands back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from voicetrail.domain.calls.ports import PutOutcome, StoredEvent

if TYPE_CHECKING:
    from collections import Counter

    from voicetrail.domain.callers import CallerHasher
    from voicetrail.redaction import RedactionPolicy, SecondPass

# Events that name no call (e.g. a tool call outside one) are stored under this partition.
NO_CALL_ID = "no-call"


@dataclass(frozen=True)
class InboundEvent:
    """One authenticated, parsed provider message, in the terms every platform shares."""

    source: str  # "vapi", "twilio", "retell", "elevenlabs": the provider that sent it
    call_id: str  # the provider's call id, or NO_CALL_ID
    event_type: str  # the provider's own message type, as sent (stored)
    event_key: str  # the semantic key: resends of one event share it, distinct events never do
    raw: Mapping[str, Any]  # the parsed payload, before sanitising (never stored or logged as is)
    metric_type: str  # a closed-set label for metrics and logs (unknown types collapse to one label)
    event_ts_ms: int | None = None
    caller_number: str | None = None  # hashed with the pepper; never stored in clear
    attributes: Mapping[str, str | int | float] = field(default_factory=dict)
    final_report: bool = False  # the call's last report: the remote second pass may run on it
    cost_usd: float | None = None  # the call's cost, when this event reports it (ROI)


class SanitizedPayload(Protocol):
    """What a provider's sanitizer returns (voicetrail.providers.vapi.sanitize.SanitizedMessage)."""

    body: dict[str, Any]
    findings: Counter[str]
    name_hashes: frozenset[str]
    content_kept: bool


class Sanitizer(Protocol):
    """A provider's payload walker, made for one event with the call's caller hasher."""

    def sanitize(
        self,
        raw: dict[str, Any],
        *,
        keep_content: bool | Callable[[], bool] = True,
        known_names: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
    ) -> SanitizedPayload: ...


# Builds the sanitizer for one event: (caller hasher, redaction policy, optional second pass).
SanitizerFactory = Callable[["CallerHasher", "RedactionPolicy | None", "SecondPass | None"], Sanitizer]


@dataclass(frozen=True)
class Persisted:
    """What the pipeline did with one event: the event as built, and whether it was new."""

    event: StoredEvent
    outcome: PutOutcome
    redactions: Mapping[str, int]
