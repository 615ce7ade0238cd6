"""Processing one Vapi webhook: the Vapi adapter in front of the shared pipeline.

size check -> authenticate (raw bytes) -> parse (dispatch on type) -> topology (owner/observer)
-> the pipeline (voicetrail.pipeline: consent, sanitise/redact, store once, side effects, metrics)
-> Vapi's own follow-ups (ledger merge, recording pointer, latency) -> observers -> reply.

Consent and retention follow the content (providers.vapi.sanitize): an event that kept caller content
is stored in the `content` retention class, any other in `metadata`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from voicetrail.domain.calls.ports import RECORDING_RECORD, PutOutcome, StoredEvent
from voicetrail.domain.calls.state import CallLedger, merge_vapi_event
from voicetrail.domain.quarantine import Quarantine, Source, kept_if_refused
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.errors import AuthenticationError, AuthFailure, PayloadTooLargeError
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.pipeline.event import NO_CALL_ID, InboundEvent
from voicetrail.pipeline.store_once import AfterStore, EventPipeline
from voicetrail.providers.vapi.auth import VapiAuthConfig, verify_request
from voicetrail.providers.vapi.idempotency import semantic_key
from voicetrail.providers.vapi.messages import (
    EndOfCallReport,
    ParsedMessage,
    StatusUpdate,
    Transcript,
    call_id_hint,
    metric_type,
    parse_envelope,
)
from voicetrail.providers.vapi.sanitize import MessageSanitizer
from voicetrail.providers.vapi.topology import CallRole, CallTopology
from voicetrail.transport.http import InboundRequest, Reply
from voicetrail.transport.payload import bounded_attributes, number_attribute

if TYPE_CHECKING:
    from voicetrail.domain.latency import CallLatency

__all__ = ["NO_CALL_ID", "LiveHooks", "Processed", "VapiRequestGate", "VapiWebhookService"]


# Latency figures come with the end-of-call report only: the module is loaded by the first one, not at
# cold start (a process's first message is almost never its call's last).
def _call_latency(parsed: ParsedMessage) -> CallLatency | None:
    from voicetrail.domain.latency import call_latency

    return call_latency(parsed.raw)


def _latency_metrics(metrics: MetricsRecorder, latency: CallLatency) -> None:
    from voicetrail.domain.latency import LatencyMetrics

    LatencyMetrics(metrics).call_reported(latency)


@dataclass(frozen=True)
class Processed:
    """What happened to one message; responders read it to build their reply."""

    parsed: ParsedMessage
    event: StoredEvent
    outcome: PutOutcome
    role: CallRole = CallRole.OBSERVER


# A responder builds the JSON reply for a message type that expects one (assistant-request, tool-calls...).
Responder = Callable[[Processed], Mapping[str, Any]]
# An observer reacts to a stored message (consent capture, escalation, audit). It must not raise.
Observer = Callable[[Processed], None]
# Decides, before storage, whether caller content of this message may be kept (e.g. no recording consent),
# knowing whether voicetrail owns the call or only observes it.
ContentPolicy = Callable[[ParsedMessage, CallRole], bool]


def _keep_everything(_: ParsedMessage, __: CallRole) -> bool:
    return True


@dataclass(frozen=True)
class LiveHooks:
    """The live features' part in a message: replies, observers and the content (consent) policy.

    With an `assistant-request` responder among `responders`, voicetrail serves assistants and owns the calls
    it answers. `fallback_responders` answer the other request types (providers.vapi.replies)."""

    responders: Mapping[str, Responder] = field(default_factory=dict)
    fallback_responders: Mapping[str, Responder] = field(default_factory=dict)
    observers: Sequence[Observer] = ()
    content_policy: ContentPolicy = _keep_everything

    @property
    def serves_assistants(self) -> bool:
        return "assistant-request" in self.responders

    def responder(self, message_type: str) -> Responder | None:
        return self.responders.get(message_type) or self.fallback_responders.get(message_type)


def _attributes(parsed: ParsedMessage) -> dict[str, str | int | float]:
    """A few non-PII fields lifted out of the body for queries and reports."""
    message = parsed.message
    attrs: dict[str, str | int | float] = {}
    if message.call and message.call.phoneCallProviderId:
        attrs["provider_call_id"] = message.call.phoneCallProviderId
    if isinstance(message, StatusUpdate) and message.status:
        attrs["status"] = message.status
    if isinstance(message, StatusUpdate | EndOfCallReport) and message.endedReason:
        attrs["ended_reason"] = message.endedReason
    if isinstance(message, Transcript):
        if message.role:
            attrs["role"] = message.role
        if message.transcriptType:
            attrs["transcript_type"] = message.transcriptType
    if isinstance(message, EndOfCallReport):
        if message.cost is not None:
            attrs["cost_usd"] = message.cost
        if message.durationSeconds is not None:
            attrs["duration_s"] = message.durationSeconds
    return bounded_attributes(attrs)  # closed tokens and storable numbers only (transport.payload)


def _cost(message: object) -> float | None:
    """The report's cost when it is a storable number (a JS sender may send 1e200: kept in the body only)."""
    if isinstance(message, EndOfCallReport) and message.cost is not None:
        return number_attribute(message.cost)
    return None


def inbound_event(parsed: ParsedMessage) -> InboundEvent:
    """A parsed Vapi message in the pipeline's common terms."""
    message = parsed.message
    report = isinstance(message, EndOfCallReport)
    return InboundEvent(
        source="vapi",
        call_id=message.call_id or NO_CALL_ID,
        event_type=message.type,
        event_key=semantic_key(parsed),
        raw=parsed.raw,
        metric_type=metric_type(message.type),
        event_ts_ms=message.timestamp,
        caller_number=message.caller_number,
        attributes=_attributes(parsed),
        final_report=report,
        cost_usd=number_attribute(message.cost)
        if isinstance(message, EndOfCallReport) and message.cost
        else None,
    )


_RECORDING_KEYS = ("recordingUrl", "stereoRecordingUrl", "recording")


def _has_recording(raw: Mapping[str, Any]) -> bool:
    artifact = raw.get("artifact")
    holders = (raw, artifact) if isinstance(artifact, dict) else (raw,)
    return any(holder.get(key) for holder in holders for key in _RECORDING_KEYS)


def _vapi_recording_pointer(report: StoredEvent, retention: RetentionPolicy, now: float) -> StoredEvent:
    """A `recording`-class item for the audio Vapi holds: at its expiry the purge deletes the call at Vapi
    (the partition names the Vapi call). Twilio-side recordings have their own items (domain.calls.state)."""
    return StoredEvent(
        record=RECORDING_RECORD,
        call_id=report.call_id,
        event_key="recording",
        source="vapi",
        event_type="vapi.recording",
        retention_class=RetentionClass.RECORDING,
        expires_at=retention.expires_at(RetentionClass.RECORDING, now),
        received_at_ms=report.received_at_ms,
        body={"held_by": "vapi"},
        event_ts_ms=report.event_ts_ms,
        caller_hash=report.caller_hash,
        attributes={"vapi_call_id": report.call_id},
    )


class VapiRequestGate:
    """Size check and authentication of a Vapi request, with one re-read of the secret on a mismatch."""

    def __init__(
        self,
        *,
        auth: VapiAuthConfig,
        secrets: SecretResolver,
        max_body_bytes: int,
        metrics: MetricsRecorder,
        logger: Logger,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._auth = auth
        self._secrets = secrets
        self._max_body_bytes = max_body_bytes
        self._metrics = metrics
        self._log = logger
        self._clock = clock

    def check_size(self, request: InboundRequest) -> None:
        if len(request.body) > self._max_body_bytes:
            self._metrics.count("RequestRejected", source="vapi", reason="payload_too_large")
            raise PayloadTooLargeError()

    def authenticate(self, request: InboundRequest) -> None:
        try:
            self._verify(request, self._secrets.values())
        except AuthenticationError as exc:
            # A wrong secret may be a rotated one this process has not seen yet: re-read the store once.
            fresh = self._secrets.refresh() if exc.reason is AuthFailure.INVALID else None
            if fresh is not None:
                try:
                    self._verify(request, fresh)
                    self._metrics.count("SecretRefreshed", source="vapi")
                    return
                except AuthenticationError as retry:
                    exc = retry
            self._metrics.count("AuthRejected", source="vapi", reason=exc.reason.value)
            self._log.warning("request rejected", extra={"reason": exc.reason.value, "source": "vapi"})
            raise exc from None

    def _verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        verify_request(
            self._auth, request.headers, request.body, secrets, now=self._clock(), method=request.method
        )


class VapiWebhookService:
    """The vapi_webhook function's one domain call: gate, parse, pipeline, Vapi follow-ups, reply."""

    def __init__(
        self,
        *,
        gate: VapiRequestGate,
        pipeline: EventPipeline,
        ledger: CallLedger | None = None,
        topology: CallTopology | None = None,
        live: LiveHooks | None = None,
        quarantine: Quarantine | None = None,
    ) -> None:
        self._gate = gate
        self._quarantine = quarantine
        self._pipeline = pipeline
        self._ledger = ledger
        self._topology = topology
        self._live = live or LiveHooks()
        self._metrics = pipeline.metrics

    def handle(self, request: InboundRequest) -> Reply:
        self._metrics.count("WebhookRequests")
        self._gate.check_size(request)
        # After a cold start (or a cache expiry) the pepper is read while the request is authenticated, and
        # its fingerprint recorded (once per process; the pipeline records it if this did not finish).
        with self._pipeline.identity.reading_ahead():
            return self._handle(request)

    def _handle(self, request: InboundRequest) -> Reply:
        self._gate.authenticate(request)
        with kept_if_refused(self._quarantine, Source.VAPI, request, call_id_hint):
            return self._answer(request.body)

    def replay(self, body: bytes) -> Reply:
        """A quarantined body, again (domain.quarantine): authenticated when it first arrived."""
        with self._pipeline.identity.reading_ahead():
            return self._answer(body)

    def _answer(self, raw: bytes) -> Reply:
        parsed = parse_envelope(raw)
        processed = self._process(parsed)
        for observe in self._live.observers:
            observe(processed)
        responder = self._live.responder(parsed.message.type)
        body: Mapping[str, Any] = responder(processed) if responder else {}
        return Reply(status=200, body=dict(body))

    def _role(self, parsed: ParsedMessage, now: float) -> CallRole:
        """Owner when we serve (or served) this call's assistant-request; observer otherwise."""
        call_id = parsed.message.call_id
        if self._topology is None:
            # No topology store (in-process harnesses): a deployment that serves assistants owns its calls.
            return CallRole.OWNER if self._live.serves_assistants else CallRole.OBSERVER
        if not call_id:
            return CallRole.OBSERVER
        if parsed.message.type == "assistant-request" and self._live.serves_assistants:
            # Recorded before the reply, so every later message of the call finds it.
            return self._topology.serve(call_id, now=now)
        return self._topology.role(call_id)

    def _process(self, parsed: ParsedMessage) -> Processed:
        event = inbound_event(parsed)
        # The log context names the call before anything else can log (the topology read included).
        self._pipeline.bind_log(event.call_id)
        role = self._role(parsed, self._pipeline.clock())
        # Asked only when the message carries caller content: most in-call messages cost no consent read.
        persisted = self._pipeline.process(
            event,
            sanitizer=MessageSanitizer.for_event,
            content_policy=lambda: self._live.content_policy(parsed, role),
            role=role.value,
            after_store=self._follow_ups(parsed),
        )
        return Processed(parsed=parsed, event=persisted.event, outcome=persisted.outcome, role=role)

    def _follow_ups(self, parsed: ParsedMessage) -> AfterStore:
        """Vapi's own follow-ups of a stored message: the call ledger, the recording pointer, latency."""
        report = isinstance(parsed.message, EndOfCallReport)

        def follow_up(stored: StoredEvent, outcome: PutOutcome, now: float) -> None:
            latency = _call_latency(parsed) if report else None
            # Join to the call's Twilio view; idempotent, so a retry completes a merge a crash interrupted.
            merge_vapi_event(self._ledger, stored, now=now, latency=latency)
            if report and _has_recording(parsed.raw):
                pointer = _vapi_recording_pointer(stored, self._pipeline.retention, now)
                self._pipeline.records.events.put_event(pointer, now=now)
            if latency is not None and outcome is PutOutcome.STORED:
                _latency_metrics(self._metrics, latency)

        return follow_up
