"""The pipeline's steps: caller identity -> consent -> sanitise -> persist once -> side effects -> metrics.

Nothing is acknowledged that is not stored: a store failure raises StoreUnavailableError, which the HTTP
layer answers with 503 so the sender retries. Side effects follow the *stored* event: a resend that the
store reports as a duplicate re-applies what the first delivery recorded (idempotently), never what the
resend itself would have decided.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from voicetrail.domain.audit.trail import AuditDetailsError, AuditKind
from voicetrail.domain.callers import CallerHasher, PepperFingerprints, record_pepper_fingerprint
from voicetrail.domain.calls.ports import EventStore, NameMemory, PutOutcome, StoredEvent
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.domain.roi import RoiMetrics
from voicetrail.errors import StoreRejectedError, StoreUnavailableError
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.pipeline.consent import CONTENT_KEPT, NO_CONTENT, ContentDecision
from voicetrail.pipeline.event import NO_CALL_ID, InboundEvent, Persisted, SanitizedPayload, SanitizerFactory

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from voicetrail.redaction import RedactionPolicy, SecondPass

# Findings that are not PII redactions: a caller id turned into its keyed hash.
_NOT_REDACTIONS = frozenset({"caller_id_hashed"})


class AuditAppender(Protocol):
    """The audit trail as the pipeline uses it (voicetrail.domain.audit.trail.AuditTrail in production)."""

    def append(
        self, call_id: str, kind: AuditKind, details: Mapping[str, int | str], now: float
    ) -> object: ...


# A provider's own follow-up of a persisted event (e.g. Vapi's ledger merge and recording pointer). It runs
# for duplicates too, so it must be idempotent: a retry completes what a crash interrupted.
AfterStore = Callable[[StoredEvent, PutOutcome, float], None]


@dataclass(frozen=True)
class CallerIdentity:
    """Hashing callers: the pepper (a secret) and where the fingerprints of peppers in use are kept."""

    pepper: SecretResolver
    fingerprints: PepperFingerprints | None = None

    @contextmanager
    def reading_ahead(self) -> Iterator[None]:
        """The pepper read in the background for a request's whole span, its fingerprint recorded once."""
        with self.pepper.reading_ahead(then=partial(record_pepper_fingerprint, self.fingerprints)):
            yield

    def hasher(self) -> CallerHasher:
        return CallerHasher(self.pepper.values()[0])

    def record_in_use(self, hasher: CallerHasher) -> None:
        """Lets erasure detect a wrong pepper. A background record of it ends first: one write, not two."""
        if self.fingerprints is not None:
            self.pepper.settle()
            self.fingerprints.record(hasher.fingerprint())


@dataclass(frozen=True)
class Redaction:
    """How caller content is redacted: the policy, and the optional remote second pass (Comprehend)."""

    policy: RedactionPolicy | None = None
    second_pass: SecondPass | None = None


@dataclass(frozen=True)
class CallRecords:
    """Where a call's records go: its events (stored once), its name memory and its audit trail."""

    events: EventStore
    names: NameMemory | None = None
    audit: AuditAppender | None = None


@dataclass(frozen=True)
class Telemetry:
    """Where a request's metrics and log lines go (never a payload, a secret or PII)."""

    metrics: MetricsRecorder
    logger: Logger


class _KnownNames:
    """The call's remembered name hashes, read at most once and only when content is kept."""

    def __init__(self, names: NameMemory | None, call_id: str) -> None:
        self.memory = names if call_id != NO_CALL_ID else None
        self._call_id = call_id
        self._known: frozenset[str] | None = None

    def __call__(self) -> frozenset[str]:
        if self._known is None and self.memory is not None:
            self._known = self.memory.known(self._call_id)
        return self._known or frozenset()

    @property
    def already(self) -> frozenset[str]:
        return self._known or frozenset()


class EventPipeline:
    """Stores one provider event exactly once, redacted, and applies what follows from it."""

    def __init__(
        self,
        *,
        identity: CallerIdentity,
        records: CallRecords,
        retention: RetentionPolicy,
        telemetry: Telemetry,
        redaction: Redaction | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.identity = identity
        self.records = records
        self.retention = retention
        self._redaction = redaction or Redaction()
        self.metrics = telemetry.metrics
        self._log = telemetry.logger
        self.clock = clock

    def process(
        self,
        event: InboundEvent,
        *,
        sanitizer: SanitizerFactory,
        content_policy: Callable[[], bool] = lambda: True,
        role: str | None = None,
        after_store: AfterStore | None = None,
    ) -> Persisted:
        now = self.clock()
        self.bind_log(event.call_id)
        hasher = self.identity.hasher()
        decision = ContentDecision(content_policy)
        known = _KnownNames(self.records.names, event.call_id)
        sanitized = self._sanitise(event, sanitizer, hasher, decision, known)
        if event.caller_number:
            self.identity.record_in_use(hasher)
        stored = self._build(event, sanitized, decision, role, hasher, now)
        outcome = self.records.events.put_event(stored, now=now)
        if after_store is not None:
            after_store(stored, outcome, now)
        if known.memory is not None and (sanitized.name_hashes or decision.label != NO_CONTENT):
            self._remember_names(stored, outcome, known, now)
        if outcome is PutOutcome.STORED:
            self._audit_redactions(event.source, stored.call_id, sanitized.findings, now)
        self._count(event, outcome, sanitized)
        return Persisted(event=stored, outcome=outcome, redactions=dict(sanitized.findings))

    # -- steps -------------------------------------------------------------------------------------

    def bind_log(self, call_id: str) -> None:
        """Every log line of the request names the call (never the caller)."""
        self._log.append_keys(call_id=call_id)
        self._log.set_correlation_id(call_id)

    def _sanitise(
        self,
        event: InboundEvent,
        sanitizer: SanitizerFactory,
        hasher: CallerHasher,
        decision: ContentDecision,
        known: _KnownNames,
    ) -> SanitizedPayload:
        # The remote second pass (Comprehend) runs only where latency allows: the call's last report.
        second_pass = self._redaction.second_pass if event.final_report else None
        failures_before = getattr(second_pass, "failures", 0)
        walker = sanitizer(hasher, self._redaction.policy, second_pass)
        sanitized = walker.sanitize(dict(event.raw), keep_content=decision, known_names=known)
        if getattr(second_pass, "failures", 0) > failures_before:
            self.metrics.count("SecondPassFailures", source=event.source)
        if sanitized.name_hashes and known.memory is not None:
            decision()  # names learnt (e.g. from `customer.name`) are remembered only with consent
        return sanitized

    def _build(
        self,
        event: InboundEvent,
        sanitized: SanitizedPayload,
        decision: ContentDecision,
        role: str | None,
        hasher: CallerHasher,
        now: float,
    ) -> StoredEvent:
        retention_class = RetentionClass.CONTENT if sanitized.content_kept else RetentionClass.METADATA
        attributes: dict[str, str | int | float] = dict(event.attributes)
        if role is not None:
            attributes["topology"] = role
        attributes["content"] = decision.label
        if decision.label == CONTENT_KEPT and sanitized.name_hashes:
            # Keyed hashes only: what this event's side effect writes, so a resend can re-apply exactly it.
            attributes["name_hashes"] = ",".join(sorted(sanitized.name_hashes))
        return StoredEvent(
            call_id=event.call_id,
            event_key=event.event_key,
            source=event.source,
            event_type=event.event_type,
            retention_class=retention_class,
            expires_at=self.retention.expires_at(retention_class, now),
            received_at_ms=int(now * 1000),
            body=sanitized.body,
            event_ts_ms=event.event_ts_ms,
            caller_hash=hasher.hash(event.caller_number) if event.caller_number else None,
            redactions=dict(sanitized.findings),
            attributes=attributes,
        )

    def _remember_names(
        self, event: StoredEvent, outcome: PutOutcome, known: _KnownNames, now: float
    ) -> None:
        """The name-memory side effect of the event as it was *stored*: the first delivery's decision.

        On a duplicate the stored event is read back and its recorded hashes re-applied (an idempotent set
        union), which completes a write a crash interrupted, and never writes what the first delivery
        withheld (a resend after consent was granted must not remember names from a withheld message).
        """
        memory = known.memory
        if memory is None:
            return
        stored = (
            event if outcome is PutOutcome.STORED else self.records.events.get_event(event.call_id, event.sk)
        )
        if stored is None or stored.attributes.get("content") != CONTENT_KEPT:
            return
        hashes = frozenset(h for h in str(stored.attributes.get("name_hashes", "")).split(",") if h)
        if hashes - known.already:
            memory.remember(event.call_id, hashes, now=now)

    def _audit_redactions(self, source: str, call_id: str, findings: Mapping[str, int], now: float) -> None:
        """One audit record per stored message that had PII redacted: counts per kind, never values."""
        counts = {kind: count for kind, count in findings.items() if count and kind not in _NOT_REDACTIONS}
        audit = self.records.audit
        if audit is None or not counts or call_id == NO_CALL_ID:
            return
        try:
            audit.append(call_id, AuditKind.PII_REDACTED, counts, now)
        except (StoreUnavailableError, StoreRejectedError):
            # Not a 503: the retry would be a duplicate and never audit anyway. The metric alarms instead.
            self.metrics.count("AuditAppendFailed", source=source)
        except AuditDetailsError:
            # A call id no audit chain can be named after (Vapi's are UUIDs): the event is stored; the
            # metric alarms (same dimensions as above: the AuditAppendFailed alarm). Never a 500.
            self.metrics.count("AuditAppendFailed", source=source)
            self._log.warning("audit append failed", extra={"source": source, "reason": "chain_id"})

    def _count(self, event: InboundEvent, outcome: PutOutcome, sanitized: SanitizedPayload) -> None:
        kind = event.metric_type
        if outcome is PutOutcome.DUPLICATE:
            self.metrics.count("EventDuplicate", source=event.source, message_type=kind)
        else:
            self.metrics.count("EventAccepted", source=event.source, message_type=kind)
            if event.cost_usd is not None:
                RoiMetrics(self.metrics).call_cost(event.cost_usd)
            redacted = sum(v for k, v in sanitized.findings.items() if k not in _NOT_REDACTIONS)
            if redacted:
                self.metrics.count("PiiRedacted", value=redacted, source=event.source)
        self._log.info(
            "event processed",
            extra={
                "message_type": kind,
                "outcome": outcome.value,
                "redactions": int(sum(sanitized.findings.values())),
            },
        )
