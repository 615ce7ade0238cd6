"""Processing one Vapi webhook: the domain function behind the vapi_webhook handler.

size check -> authenticate (raw bytes) -> parse (dispatch on type) -> topology (owner/observer)
-> semantic key -> sanitise/redact -> one conditional write -> side effects -> reply.
Nothing is acknowledged that is not stored: a store failure raises StoreUnavailableError, which the HTTP
layer answers with 503 so the sender retries.

Consent and retention follow the content (providers.vapi.sanitize): an event that kept caller content
is stored in the `content` retention class, any other in `metadata`. Side effects (the call's name
memory) follow the *stored* event's decision: a resend that the store reports as a duplicate re-applies
what the first delivery recorded (idempotently), never what the resend itself would have decided.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditDetailsError, AuditKind
from voicetrail.domain.callers import CallerHasher, PepperFingerprints, record_pepper_fingerprint
from voicetrail.domain.calls.ports import RECORDING_RECORD, EventStore, PutOutcome, StoredEvent
from voicetrail.domain.calls.state import CallLedger, merge_vapi_event
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.domain.roi import RoiMetrics
from voicetrail.errors import (
    AuthenticationError,
    AuthFailure,
    PayloadTooLargeError,
    StoreRejectedError,
    StoreUnavailableError,
)
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.providers.vapi.auth import VapiAuthConfig, verify_request
from voicetrail.providers.vapi.idempotency import semantic_key
from voicetrail.providers.vapi.messages import (
    EndOfCallReport,
    ParsedMessage,
    StatusUpdate,
    Transcript,
    metric_type,
    parse_envelope,
)
from voicetrail.providers.vapi.names import NameMemory
from voicetrail.providers.vapi.sanitize import MessageSanitizer
from voicetrail.providers.vapi.topology import CallRole, CallTopology
from voicetrail.redaction import RedactionPolicy
from voicetrail.transport.http import InboundRequest, Reply
from voicetrail.transport.payload import bounded_attributes

if TYPE_CHECKING:
    from voicetrail.domain.latency import CallLatency
    from voicetrail.redaction import SecondPass

NO_CALL_ID = "no-call"


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

CONTENT_KEPT, CONTENT_WITHHELD, NO_CONTENT = "kept", "withheld", "none"


class _LazyDecision:
    """The content policy's answer for one message, asked at most once and only if needed."""

    def __init__(self, ask: Callable[[], bool]) -> None:
        self._ask = ask
        self._answer: bool | None = None

    def __call__(self) -> bool:
        if self._answer is None:
            self._answer = bool(self._ask())
        return self._answer

    @property
    def label(self) -> str:
        if self._answer is None:
            return NO_CONTENT
        return CONTENT_KEPT if self._answer else CONTENT_WITHHELD


def _keep_everything(_: ParsedMessage, __: CallRole) -> bool:
    return True


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
    return bounded_attributes(attrs)  # closed tokens and storable numbers only (voicetrail.transport.payload)


class AuditAppender(Protocol):
    """The audit trail as the webhook uses it (voicetrail.domain.audit.trail.AuditTrail in production)."""

    def append(
        self, call_id: str, kind: AuditKind, details: Mapping[str, int | str], now: float
    ) -> object: ...


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


class VapiWebhookService:
    def __init__(
        self,
        *,
        auth: VapiAuthConfig,
        secrets: SecretResolver,
        pepper: SecretResolver,
        store: EventStore,
        retention: RetentionPolicy,
        metrics: MetricsRecorder,
        logger: Logger,
        max_body_bytes: int,
        redaction_policy: RedactionPolicy | None = None,
        responders: Mapping[str, Responder] | None = None,
        observers: Sequence[Observer] = (),
        content_policy: ContentPolicy = _keep_everything,
        second_pass: SecondPass | None = None,
        calls: CallLedger | None = None,
        audit: AuditAppender | None = None,
        names: NameMemory | None = None,
        topology: CallTopology | None = None,
        fallback_responders: Mapping[str, Responder] | None = None,
        pepper_fingerprints: PepperFingerprints | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`responders` are the live features' answers: with an `assistant-request` responder among them,
        voicetrail serves assistants and owns the calls it answers. `fallback_responders` answer the other
        request types (providers.vapi.replies). `pepper_fingerprints` records which pepper caller hashes
        are made with, so erasure can refuse a wrong one."""
        self._pepper_fingerprints = pepper_fingerprints
        self._auth = auth
        self._secrets = secrets
        self._pepper = pepper
        self._store = store
        self._retention = retention
        self._metrics = metrics
        self._log = logger
        self._max_body_bytes = max_body_bytes
        self._redaction_policy = redaction_policy
        self._responders = {**(fallback_responders or {}), **(responders or {})}
        self._serves_assistants = "assistant-request" in (responders or {})
        self._topology = topology
        self._observers = tuple(observers)
        self._content_policy = content_policy
        self._second_pass = second_pass
        self._calls = calls
        self._audit = audit
        self._names = names
        self._clock = clock

    def handle(self, request: InboundRequest) -> Reply:
        self._metrics.count("WebhookRequests")
        if len(request.body) > self._max_body_bytes:
            self._metrics.count("RequestRejected", source="vapi", reason="payload_too_large")
            raise PayloadTooLargeError()
        # After a cold start (or a cache expiry) the pepper is read while the request is authenticated, and
        # its fingerprint recorded (once per process; _store_event records it if this did not finish).
        with self._pepper.reading_ahead(then=partial(record_pepper_fingerprint, self._pepper_fingerprints)):
            return self._handle(request)

    def _handle(self, request: InboundRequest) -> Reply:
        self._authenticate(request)
        parsed = parse_envelope(request.body)
        processed = self._store_event(parsed)
        for observe in self._observers:
            observe(processed)
        responder = self._responders.get(parsed.message.type)
        body: Mapping[str, Any] = responder(processed) if responder else {}
        return Reply(status=200, body=dict(body))

    def _authenticate(self, request: InboundRequest) -> None:
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

    def _role(self, parsed: ParsedMessage, now: float) -> CallRole:
        """Owner when we serve (or served) this call's assistant-request; observer otherwise."""
        call_id = parsed.message.call_id
        if self._topology is None:
            # No topology store (in-process harnesses): a deployment that serves assistants owns its calls.
            return CallRole.OWNER if self._serves_assistants else CallRole.OBSERVER
        if not call_id:
            return CallRole.OBSERVER
        if parsed.message.type == "assistant-request" and self._serves_assistants:
            # Recorded before the reply, so every later message of the call finds it.
            return self._topology.serve(call_id, now=now)
        return self._topology.role(call_id)

    def _store_event(self, parsed: ParsedMessage) -> Processed:
        message = parsed.message
        now = self._clock()
        call_id = message.call_id or NO_CALL_ID
        self._log.append_keys(call_id=call_id)
        self._log.set_correlation_id(call_id)
        hasher = CallerHasher(self._pepper.values()[0])
        role = self._role(parsed, now)
        # Asked only when the message carries caller content: most in-call messages cost no consent read.
        decision = _LazyDecision(lambda: self._content_policy(parsed, role))
        names = self._names if call_id != NO_CALL_ID else None
        known_names: list[frozenset[str]] = []  # read at most once, and only when content is kept

        def known() -> frozenset[str]:
            if names is not None and not known_names:
                known_names.append(names.known(call_id))
            return known_names[0] if known_names else frozenset()

        # The remote second pass (Comprehend) runs only where latency allows: the end-of-call report.
        second_pass = self._second_pass if isinstance(message, EndOfCallReport) else None
        failures_before = getattr(second_pass, "failures", 0)
        sanitizer = MessageSanitizer(hasher, self._redaction_policy, second_pass=second_pass)
        sanitized = sanitizer.sanitize(parsed.raw, keep_content=decision, known_names=known)
        if getattr(second_pass, "failures", 0) > failures_before:
            self._metrics.count("SecondPassFailures", source="vapi")
        caller = message.caller_number
        if caller and self._pepper_fingerprints is not None:
            self._pepper.settle()  # a background record of it ends first: one write, not two
            self._pepper_fingerprints.record(hasher.fingerprint())  # lets erasure detect a wrong pepper
        retention_class = RetentionClass.CONTENT if sanitized.content_kept else RetentionClass.METADATA
        attributes = _attributes(parsed)
        attributes["topology"] = role.value
        if sanitized.name_hashes and names is not None:
            decision()  # names learnt (e.g. from `customer.name`) are remembered only with consent
        attributes["content"] = decision.label
        if decision.label == CONTENT_KEPT and sanitized.name_hashes:
            # Keyed hashes only: what this event's side effect writes, so a resend can re-apply exactly it.
            attributes["name_hashes"] = ",".join(sorted(sanitized.name_hashes))
        event = StoredEvent(
            call_id=call_id,
            event_key=semantic_key(parsed),
            source="vapi",
            event_type=message.type,
            retention_class=retention_class,
            expires_at=self._retention.expires_at(retention_class, now),
            received_at_ms=int(now * 1000),
            body=sanitized.body,
            event_ts_ms=message.timestamp,
            caller_hash=hasher.hash(caller) if caller else None,
            redactions=dict(sanitized.findings),
            attributes=attributes,
        )
        outcome = self._store.put_event(event, now=now)
        latency = _call_latency(parsed) if isinstance(message, EndOfCallReport) else None
        # Join to the call's Twilio view; idempotent, so a retry completes a merge a crash interrupted.
        merge_vapi_event(self._calls, event, now=now, latency=latency)
        if isinstance(message, EndOfCallReport) and _has_recording(parsed.raw):
            self._store.put_event(_vapi_recording_pointer(event, self._retention, now), now=now)
        if names is not None and (sanitized.name_hashes or decision.label != NO_CONTENT):
            already = known_names[0] if known_names else frozenset[str]()
            self._apply_name_memory(event, outcome, already, now)
        if outcome is PutOutcome.STORED:
            self._audit_redactions(call_id, sanitized.findings, now)
        kind = metric_type(message.type)
        if outcome is PutOutcome.DUPLICATE:
            self._metrics.count("EventDuplicate", source="vapi", message_type=kind)
        else:
            self._metrics.count("EventAccepted", source="vapi", message_type=kind)
            if isinstance(message, EndOfCallReport) and "cost_usd" in attributes:  # a storable cost only
                RoiMetrics(self._metrics).call_cost(float(attributes["cost_usd"]))
            if latency is not None:
                _latency_metrics(self._metrics, latency)
            redacted = sum(v for k, v in sanitized.findings.items() if k != "caller_id_hashed")
            if redacted:
                self._metrics.count("PiiRedacted", value=redacted, source="vapi")
        self._log.info(
            "event processed",
            extra={
                "message_type": kind,
                "outcome": outcome.value,
                "redactions": int(sum(sanitized.findings.values())),
            },
        )
        return Processed(parsed=parsed, event=event, outcome=outcome, role=role)

    def _apply_name_memory(
        self, event: StoredEvent, outcome: PutOutcome, already: frozenset[str], now: float
    ) -> None:
        """The name-memory side effect of the event as it was *stored*: the first delivery's decision.

        On a duplicate the stored event is read back and its recorded hashes re-applied (an idempotent set
        union), which completes a write a crash interrupted, and never writes what the first delivery
        withheld (a resend after consent was granted must not remember names from a withheld message).
        """
        if self._names is None:
            return
        stored = event if outcome is PutOutcome.STORED else self._store.get_event(event.call_id, event.sk)
        if stored is None or stored.attributes.get("content") != CONTENT_KEPT:
            return
        hashes = frozenset(h for h in str(stored.attributes.get("name_hashes", "")).split(",") if h)
        if hashes - already:
            self._names.remember(event.call_id, hashes, now=now)

    def _audit_redactions(self, call_id: str, findings: Mapping[str, int], now: float) -> None:
        """One audit record per stored message that had PII redacted: counts per kind, never values."""
        counts = {kind: count for kind, count in findings.items() if count and kind != "caller_id_hashed"}
        if self._audit is None or not counts or call_id == NO_CALL_ID:
            return
        try:
            self._audit.append(call_id, AuditKind.PII_REDACTED, counts, now)
        except (StoreUnavailableError, StoreRejectedError):
            # Not a 503: the retry would be a duplicate and never audit anyway. The metric alarms instead.
            self._metrics.count("AuditAppendFailed", source="vapi")
        except AuditDetailsError:
            # A call id no audit chain can be named after (Vapi's are UUIDs): the event is stored; the
            # metric alarms (same dimensions as above: the AuditAppendFailed alarm). Never a 500.
            self._metrics.count("AuditAppendFailed", source="vapi")
            self._log.warning("audit append failed", extra={"source": "vapi", "reason": "chain_id"})
