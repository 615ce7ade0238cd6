"""The call ledger: one summary record per call that joins the Twilio view and the Vapi view.

Its items (the call summary, recording pointers, day markers) are described in voicetrail.storage.table;
the port is `voicetrail.domain.calls.ports.CallLedger`, its adapters `storage.ledger` (DynamoDB) and
`tests.support.memory` (in memory).

The call key is `twilio:<CallSid>` for every call that has a Twilio leg (Twilio callbacks know the
CallSid; every Vapi message carries it as `call.phoneCallProviderId`), and the Vapi call id for calls
without one (web calls). The summary therefore lives in the same partition as the Twilio events, and
`vapi_call_id` points at the Vapi events (`CALL#<vapi call id>`). Both sides write it with UpdateItem,
so arrival order between Twilio and Vapi does not matter.

The Twilio status never regresses: the status is written by a conditional UpdateItem on a status rank
(queued < ringing < in-progress < terminal), ties broken by SequenceNumber. Facts that are true
whatever the order (direction, answered-by, duration, "was answered") are merged unconditionally.
Every write is idempotent, so a retried callback may be re-applied safely: metrics are derived from
what changed (ALL_OLD), never from the number of deliveries.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from voicetrail.domain.calls.ports import StoredEvent
    from voicetrail.domain.latency import CallLatency

# Twilio CallStatus -> rank. Terminal statuses share the top rank: a call ends once.
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
STATUS_RANK: Mapping[str, int] = {
    "queued": 1,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    **dict.fromkeys(TERMINAL_STATUSES, 4),
}
# A call was answered if it was ever in progress, or ended as `completed` (Twilio's answered-and-ended).
ANSWERED_STATUSES = frozenset({"in-progress", "completed"})
RECORDING_RANK: Mapping[str, int] = {
    "in-progress": 1,
    "paused": 1,
    "stopped": 1,
    "processing": 1,
    "completed": 2,
    "absent": 2,
    "failed": 2,
    "deleted": 3,
}
CONSENT_OUTCOMES = frozenset({"granted", "denied", "unclear"})
TOPOLOGIES = frozenset({"owner", "observer"})
# Vapi ended reasons that mean the assistant handed the call to a human.
ESCALATION_ENDED_REASONS = frozenset({"assistant-forwarded-call"})


def status_rank(status: str | None) -> int:
    return STATUS_RANK.get(status or "", 0)


def twilio_call_key(call_sid: str) -> str:
    return f"twilio:{call_sid}"


def looks_like_call_sid(value: str | None) -> bool:
    return bool(value) and len(value or "") == 34 and (value or "").startswith("CA")


def summary_call_key(provider_call_id: str | None, vapi_call_id: str) -> str:
    """The one key of a call: its Twilio CallSid when it has one, else the Vapi call id."""
    if provider_call_id and looks_like_call_sid(provider_call_id):
        return twilio_call_key(provider_call_id)
    return vapi_call_id


def utc_day(ts_ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts_ms // 1000))


@dataclass(frozen=True)
class TwilioCallUpdate:
    """What one Twilio voice status callback says about its call (numbers already hashed)."""

    call_sid: str
    status: str | None
    sequence: int | None
    event_ts_ms: int
    account_sid: str | None = None
    direction: str | None = None
    answered_by: str | None = None
    duration_s: int | None = None
    from_hash: str | None = None
    to_hash: str | None = None
    parent_call_sid: str | None = None

    @property
    def rank(self) -> int:
        return status_rank(self.status)

    @property
    def implies_answered(self) -> bool:
        return self.status in ANSWERED_STATUSES


@dataclass(frozen=True)
class CallTransition:
    """What changed in the call's state because of one update (drives the ROI metrics, once per call)."""

    started: bool = False  # first Twilio callback ever seen for this call
    answered: bool = False  # the call became answered
    final_status: str | None = None  # the call reached a terminal status
    duration_s: int | None = None  # the call's duration, when it became terminal
    status_applied: bool = False  # this update's status became the call's status


@dataclass(frozen=True)
class RecordingUpdate:
    """A Twilio recording status callback, as the call ledger records it."""

    call_sid: str
    recording_sid: str
    status: str
    event_ts_ms: int
    account_sid: str | None = None
    duration_s: int | None = None
    channels: int | None = None
    source: str | None = None
    track: str | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class VapiCallView:
    """The Vapi side of a call, as far as one Vapi message tells it."""

    vapi_call_id: str
    event_ts_ms: int
    provider_call_id: str | None = None
    ended: bool = False
    ended_reason: str | None = None
    cost_usd: float | None = None
    duration_s: float | None = None
    escalated: bool = False
    consent: str | None = None  # granted | denied | unclear
    topology: str | None = None  # owner | observer (voicetrail.providers.vapi.topology)
    latency: CallLatency | None = None  # from the end-of-call-report's performanceMetrics
    # The voice platform that carried the call when it is not Vapi ("retell", "elevenlabs"): the view is
    # then that platform's side of the call, under the same fields.
    platform: str | None = None

    @property
    def call_key(self) -> str:
        return summary_call_key(self.provider_call_id, self.vapi_call_id)


@dataclass(frozen=True)
class CallSummary:
    """One call, both views. Read by the report."""

    call_key: str
    first_ts_ms: int
    expires_at: int
    twilio_call_sid: str | None = None
    vapi_call_id: str | None = None
    status: str | None = None
    final_status: str | None = None
    answered: bool = False
    direction: str | None = None
    answered_by: str | None = None
    duration_s: int | None = None
    vapi_duration_s: float | None = None
    vapi_ended: bool = False
    ended_reason: str | None = None
    cost_usd: float | None = None
    escalated: bool = False
    consent: str | None = None
    topology: str | None = None
    recordings: tuple[str, ...] = ()
    days: tuple[str, ...] = ()
    latency: CallLatency | None = None
    platform: str | None = None  # "retell" | "elevenlabs"; None for Vapi (and Twilio-only) calls

    @property
    def voice_platform(self) -> str | None:
        """Which voice platform carried the call: Retell, ElevenLabs, Vapi, or None (Twilio view only)."""
        if self.platform:
            return self.platform
        return "vapi" if self.vapi_call_id else None

    @property
    def handle_time_s(self) -> float | None:
        """Seconds the call lasted: Twilio's CallDuration, else Vapi's durationSeconds."""
        if self.duration_s is not None:
            return float(self.duration_s)
        return self.vapi_duration_s

    @property
    def was_answered(self) -> bool:
        if self.answered:
            return True
        # No Twilio status for this call (a web call, or status callbacks not configured): the call was
        # answered if the assistant talked at all, so the report works from Vapi's view alone.
        return self.status is None and (self.vapi_duration_s or 0) > 0


class CallLedger(Protocol):
    """The call ledger: one summary per call joining its Twilio and Vapi views (domain.calls.state)."""

    def apply_twilio(self, update: TwilioCallUpdate, *, now: float) -> CallTransition: ...

    def index_recording(self, update: RecordingUpdate, *, now: float) -> bool:
        """Index a recording; True when this recording was seen for the first time."""
        ...

    def merge_vapi(self, view: VapiCallView, *, now: float) -> None: ...

    def get_summary(self, call_key: str, *, now: float) -> CallSummary | None: ...

    def summaries_for_days(self, days: Iterable[str], *, now: float) -> list[CallSummary]: ...


def vapi_view_from_event(event: StoredEvent) -> VapiCallView | None:
    """The Vapi side of a call from a stored Vapi event, or None when it tells nothing worth a write.

    Status updates, transfers and the end-of-call-report are merged; other message types are not
    (they carry nothing the summary needs, and merging every transcript would cost a write each).
    """
    if event.source != "vapi" or event.call_id in ("", "no-call"):
        return None
    if event.event_type not in ("status-update", "end-of-call-report", "transfer-update"):
        return None
    attrs = event.attributes
    provider = attrs.get("provider_call_id")
    reason = attrs.get("ended_reason")
    cost = attrs.get("cost_usd")
    duration = attrs.get("duration_s")
    ended = event.event_type == "end-of-call-report" or attrs.get("status") == "ended"
    topology = attrs.get("topology")
    return VapiCallView(
        vapi_call_id=event.call_id,
        event_ts_ms=event.event_ts_ms or event.received_at_ms,
        provider_call_id=str(provider) if provider else None,
        ended=ended,
        ended_reason=str(reason) if reason else None,
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
        duration_s=float(duration) if isinstance(duration, int | float) else None,
        escalated=event.event_type == "transfer-update" or reason in ESCALATION_ENDED_REASONS,
        topology=str(topology) if topology in TOPOLOGIES else None,
    )


# Events of the observed platforms that tell the call's summary something (the rest would cost a write each
# and tell it nothing): when it started, how it ended, what it cost, whether a human took it over.
OBSERVED_PLATFORMS = frozenset({"retell", "elevenlabs"})
_OBSERVED_STARTS = frozenset({"call_started"})
_OBSERVED_ENDS = frozenset({"call_ended", "post_call_transcription", "call_initiation_failure"})
_OBSERVED_TRANSFERS = frozenset({"transfer_bridged"})


def platform_view_from_event(event: StoredEvent) -> VapiCallView | None:
    """The platform side of a Retell or ElevenLabs call from one of its stored events, or None."""
    if event.source not in OBSERVED_PLATFORMS or event.call_id in ("", "no-call"):
        return None
    kind = event.event_type
    if kind not in _OBSERVED_STARTS | _OBSERVED_ENDS | _OBSERVED_TRANSFERS:
        return None
    attrs = event.attributes
    reason = attrs.get("ended_reason")
    cost = attrs.get("cost_usd")
    duration = attrs.get("duration_s")
    return VapiCallView(
        vapi_call_id=event.call_id,
        event_ts_ms=event.event_ts_ms or event.received_at_ms,
        # No Twilio join: the summary stays in the call's own partition (`CALL#<platform>:<id>`), which
        # erasure finds through the caller's events. These platforms keep their Twilio numbers' callbacks.
        provider_call_id=None,
        ended=kind in _OBSERVED_ENDS,
        ended_reason=str(reason) if reason and kind in _OBSERVED_ENDS else None,
        cost_usd=float(cost) if isinstance(cost, int | float) and kind in _OBSERVED_ENDS else None,
        duration_s=float(duration) if isinstance(duration, int | float) and kind in _OBSERVED_ENDS else None,
        escalated=kind in _OBSERVED_TRANSFERS,
        topology="observer",
        platform=event.source,
    )


def merge_vapi_event(
    ledger: CallLedger | None, event: StoredEvent, *, now: float, latency: CallLatency | None = None
) -> None:
    """The one call the Vapi side makes after storing an event: joins it to its Twilio call.

    `latency` is the end-of-call-report's performance figures (not lifted into the event's attributes:
    the per-turn list is not a flat attribute).
    """
    if ledger is None:
        return
    view = vapi_view_from_event(event)
    if view is not None:
        ledger.merge_vapi(replace(view, latency=latency) if latency else view, now=now)
