"""Processing one Vapi webhook: the domain function behind the vapi_webhook handler.

size check -> authenticate (raw bytes) -> parse (dispatch on type) -> semantic key -> sanitise/redact
-> one conditional write -> reply. Nothing is acknowledged that is not stored: a store failure raises
StoreUnavailableError, which the HTTP layer answers with 503 so the sender retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from voicetrail.audit import AuditKind
from voicetrail.calls import CallLedger, merge_vapi_event
from voicetrail.errors import AuthenticationError, PayloadTooLargeError, StoreUnavailableError
from voicetrail.hashing import CallerHasher
from voicetrail.http import InboundRequest, Reply
from voicetrail.latency import LatencyMetrics, call_latency
from voicetrail.observability import MetricsRecorder
from voicetrail.redaction import RedactionPolicy
from voicetrail.retention import RetentionClass, RetentionPolicy, class_for_vapi_type
from voicetrail.roi import RoiMetrics
from voicetrail.secrets import SecretResolver
from voicetrail.storage import EventStore, PutOutcome, StoredEvent
from voicetrail.storage.model import RECORDING_RECORD
from voicetrail.vapi.auth import VapiAuthConfig, verify_request
from voicetrail.vapi.idempotency import semantic_key
from voicetrail.vapi.models import (
    EndOfCallReport,
    ParsedMessage,
    StatusUpdate,
    Transcript,
    metric_type,
    parse_envelope,
)
from voicetrail.vapi.names import NameMemory
from voicetrail.vapi.sanitize import MessageSanitizer

if TYPE_CHECKING:
    from voicetrail.redaction import SecondPass

NO_CALL_ID = "no-call"


@dataclass(frozen=True)
class Processed:
    """What happened to one message; responders read it to build their reply."""

    parsed: ParsedMessage
    event: StoredEvent
    outcome: PutOutcome


# A responder builds the JSON reply for a message type that expects one (assistant-request, tool-calls...).
Responder = Callable[[Processed], Mapping[str, Any]]
# An observer reacts to a stored message (consent capture, escalation, audit). It must not raise.
Observer = Callable[[Processed], None]
# Decides, before storage, whether caller content of this message may be kept (e.g. no recording consent).
ContentPolicy = Callable[[ParsedMessage], bool]


def _keep_everything(_: ParsedMessage) -> bool:
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
    return attrs


class AuditAppender(Protocol):
    """The audit trail as the webhook uses it (voicetrail.audit.AuditTrail in production)."""

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
    (the partition names the Vapi call). Twilio-side recordings have their own items (voicetrail.calls)."""
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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._auth = auth
        self._secrets = secrets
        self._pepper = pepper
        self._store = store
        self._retention = retention
        self._metrics = metrics
        self._log = logger
        self._max_body_bytes = max_body_bytes
        self._redaction_policy = redaction_policy
        self._responders = dict(responders or {})
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
            verify_request(
                self._auth,
                request.headers,
                request.body,
                self._secrets.values(),
                now=self._clock(),
                method=request.method,
            )
        except AuthenticationError as exc:
            self._metrics.count("AuthRejected", source="vapi", reason=exc.reason.value)
            self._log.warning("request rejected", extra={"reason": exc.reason.value, "source": "vapi"})
            raise

    def _store_event(self, parsed: ParsedMessage) -> Processed:
        message = parsed.message
        now = self._clock()
        call_id = message.call_id or NO_CALL_ID
        self._log.append_keys(call_id=call_id)
        self._log.set_correlation_id(call_id)
        hasher = CallerHasher(self._pepper.values()[0])
        keep_content = self._content_policy(parsed)
        retention_class = class_for_vapi_type(message.type)
        names = self._names if keep_content and call_id != NO_CALL_ID else None
        known = names.known(call_id) if names and retention_class is RetentionClass.CONTENT else frozenset()
        # The remote second pass (Comprehend) runs only where latency allows: the end-of-call report.
        second_pass = self._second_pass if isinstance(message, EndOfCallReport) else None
        failures_before = getattr(second_pass, "failures", 0)
        sanitizer = MessageSanitizer(hasher, self._redaction_policy, second_pass=second_pass)
        sanitized = sanitizer.sanitize(parsed.raw, keep_content=keep_content, known_names=known)
        if getattr(second_pass, "failures", 0) > failures_before:
            self._metrics.count("SecondPassFailures", source="vapi")
        caller = message.caller_number
        event = StoredEvent(
            call_id=call_id,
            event_key=semantic_key(parsed),
            source="vapi",
            event_type=message.type,
            retention_class=retention_class,
            expires_at=self._retention.expires_at(retention_class, now),
            received_at_ms=int(now * 1000),
            body=sanitized.body,
            event_ts_ms=int(message.timestamp) if message.timestamp is not None else None,
            caller_hash=hasher.hash(caller) if caller else None,
            redactions=dict(sanitized.findings),
            attributes=_attributes(parsed),
        )
        outcome = self._store.put_event(event, now=now)
        latency = call_latency(parsed.raw) if isinstance(message, EndOfCallReport) else None
        # Join to the call's Twilio view; idempotent, so a retry completes a merge a crash interrupted.
        merge_vapi_event(self._calls, event, now=now, latency=latency)
        if isinstance(message, EndOfCallReport) and _has_recording(parsed.raw):
            self._store.put_event(_vapi_recording_pointer(event, self._retention, now), now=now)
        if names is not None and sanitized.name_hashes - known:
            # On duplicates too (the write is idempotent): a retry completes a write a crash interrupted.
            names.remember(call_id, sanitized.name_hashes, now=now)
        if outcome is PutOutcome.STORED:
            self._audit_redactions(call_id, sanitized.findings, now)
        kind = metric_type(message.type)
        if outcome is PutOutcome.DUPLICATE:
            self._metrics.count("EventDuplicate", source="vapi", message_type=kind)
        else:
            self._metrics.count("EventAccepted", source="vapi", message_type=kind)
            if isinstance(message, EndOfCallReport) and message.cost is not None:
                RoiMetrics(self._metrics).call_cost(message.cost)
            if latency is not None:
                LatencyMetrics(self._metrics).call_reported(latency)
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
        return Processed(parsed=parsed, event=event, outcome=outcome)

    def _audit_redactions(self, call_id: str, findings: Mapping[str, int], now: float) -> None:
        """One audit record per stored message that had PII redacted: counts per kind, never values."""
        counts = {kind: count for kind, count in findings.items() if count and kind != "caller_id_hashed"}
        if self._audit is None or not counts or call_id == NO_CALL_ID:
            return
        try:
            self._audit.append(call_id, AuditKind.PII_REDACTED, counts, now)
        except StoreUnavailableError:
            # Not a 503: the retry would be a duplicate and never audit anyway. The metric alarms instead.
            self._metrics.count("AuditAppendFailed", source="vapi")
