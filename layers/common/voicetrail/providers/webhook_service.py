"""The webhook service of a platform whose events are stored as they come (Retell, ElevenLabs).

One request: bound the body (413), authenticate it with the platform's verifier against every active key
(401 with a reason; one re-read of the secret store on a mismatch, for a key rotated since this process
cached it), parse it (400 for a broken envelope), drop what is not stored (ElevenLabs' audio: 200,
counted; or, when the deployment keeps audio, the audio goes to the S3 store with a pointer record), and
hand the event to the provider-neutral pipeline (voicetrail.pipeline), which hashes the caller, asks the
consent policy when the event carries caller content, sanitises, stores it exactly once and audits. A
store outage is a 503, so the platform retries; every other outcome is a 200, duplicates included: the
platform must never be made to resend what is already stored.

The platform's specifics live in a `ProviderAdapter`: its verifier, parser, semantic key, sanitizer spec and
the fields it lifts into the common `InboundEvent`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from voicetrail.domain.calls.ports import KEPT_AUDIO_KEY, RECORDING_RECORD, PutOutcome, StoredEvent
from voicetrail.domain.calls.state import platform_view_from_event
from voicetrail.domain.latency import CallLatency, LatencyMetrics
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.errors import AuthenticationError, AuthFailure, BadRequestError, PayloadTooLargeError
from voicetrail.pipeline.event import InboundEvent, SanitizerFactory
from voicetrail.transport.http import InboundRequest, Reply

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from voicetrail.domain.calls.ports import AudioStore
    from voicetrail.domain.calls.state import CallLedger
    from voicetrail.domain.live.config import ConfigResolver
    from voicetrail.infra.observability import MetricsRecorder
    from voicetrail.infra.secrets import SecretResolver
    from voicetrail.pipeline.store_once import EventPipeline

Parsed = TypeVar("Parsed")


@dataclass(frozen=True)
class Media:
    """A call's audio carried by an event (ElevenLabs' `post_call_audio`), decoded."""

    call_id: str
    data: bytes
    content_type: str
    event_ts_ms: int | None = None


@dataclass(frozen=True)
class MediaPolicy:
    """Whether a deployment keeps the audio an event carries, where, and up to which decoded size."""

    store: AudioStore
    max_bytes: int


class Verifier(Protocol):
    def __call__(
        self, headers: Mapping[str, object], body: bytes, keys: Sequence[str], *, now: float
    ) -> None: ...


@dataclass(frozen=True)
class ProviderAdapter(Generic[Parsed]):
    """What one platform contributes: how its requests are checked, read and named."""

    source: str  # "retell" | "elevenlabs": the metric dimension and the stored `source`
    verify: Verifier
    parse: Callable[[bytes], Parsed]
    inbound: Callable[[Parsed], InboundEvent]
    sanitizer: SanitizerFactory
    # The consent lookup's keys for an event: (our number or its id, the agent id).
    consent_keys: Callable[[Parsed], tuple[str | None, str | None]]
    # Why an event is not stored at all (e.g. "audio"), or None.
    dropped: Callable[[Parsed], str | None] = lambda parsed: None
    # The call's latency figures from its stored end-of-call event (the call record and latency alarms).
    latency: Callable[[StoredEvent], CallLatency | None] = lambda stored: None
    # The audio a dropped event carries, for a deployment that keeps it (raises BadRequestError when broken).
    media: Callable[[Parsed], Media | None] = lambda parsed: None


class ConfigConsent:
    """Whether an observed call's caller content may be kept: the live config of its number or agent.

    voicetrail only observes Retell and ElevenLabs calls (it does not serve their agents), so the config's
    `observer_policy` decides: `store-redacted` (the default) keeps redacted content, `withhold` keeps none,
    and `trust-vapi-consent` keeps none either (these platforms send no Vapi consent evidence). When the
    config cannot be read, nothing is kept (fail closed); the metadata is stored either way.
    """

    def __init__(self, configs: ConfigResolver | None, metrics: MetricsRecorder, source: str) -> None:
        self._configs = configs
        self._metrics = metrics
        self._source = source

    def keeps(self, number_id: str | None, agent_id: str | None) -> bool:
        if self._configs is None:
            return True
        try:
            config = self._configs.resolve(number_id, agent_id).config
        except Exception:
            self._metrics.count("ContentPolicyFailed", source=self._source)
            return False
        return config.observer_policy == "store-redacted"


class ProviderWebhookService(Generic[Parsed]):
    """Authenticates, parses and stores one platform's webhook events (one instance per function)."""

    def __init__(
        self,
        *,
        adapter: ProviderAdapter[Parsed],
        secrets: SecretResolver,
        pipeline: EventPipeline,
        metrics: MetricsRecorder,
        logger: Logger,
        max_body_bytes: int,
        consent: ConfigConsent | None = None,
        ledger: CallLedger | None = None,
        media: MediaPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`ledger` keeps the call's summary (what `voicetrail calls list` and the report read); `media`:
        keep the audio of events that carry it (off: such events are dropped)."""
        self._adapter = adapter
        self._media = media
        self._ledger = ledger
        self._secrets = secrets
        self._pipeline = pipeline
        self._metrics = metrics
        self._log = logger
        self._max_body_bytes = max_body_bytes
        self._consent = consent
        self._clock = clock

    def handle(self, request: InboundRequest) -> Reply:
        source = self._adapter.source
        self._metrics.count("WebhookRequests", source=source)
        if len(request.body) > self._max_body_bytes:
            self._metrics.count("RequestRejected", source=source, reason="payload_too_large")
            raise PayloadTooLargeError()
        # The pepper is read while the request is authenticated (after a cold start or a cache expiry).
        with self._pipeline.identity.reading_ahead():
            self._authenticate(request)
            try:
                parsed = self._adapter.parse(request.body)
                reason = self._adapter.dropped(parsed)
                if reason is not None and self._media is not None:
                    reason = self._keep_media(parsed, self._media)
                    if reason is None:
                        return Reply(status=200, body={})  # kept: the audio never enters the pipeline
            except BadRequestError:
                self._metrics.count("RequestRejected", source=source, reason="bad_request")
                raise
            if reason is not None:
                self._metrics.count("EventDropped", source=source, reason=reason)
                self._log.info("event dropped", extra={"source": source, "reason": reason})
                return Reply(status=200, body={})
            event = self._adapter.inbound(parsed)
            self._pipeline.process(
                event,
                sanitizer=self._adapter.sanitizer,
                content_policy=self._content_policy(parsed),
                role="observer",
                after_store=self._merge_summary,
            )
        return Reply(status=200, body={})

    def _keep_media(self, parsed: Parsed, policy: MediaPolicy) -> str | None:
        """Keep the event's audio (object, then pointer record); why it was not kept, or None."""
        media = self._adapter.media(parsed)  # BadRequestError (400) for audio that is not base64
        if media is None:
            return "audio"
        if len(media.data) > policy.max_bytes:
            return "audio_too_large"
        if not self._content_policy(parsed)():
            return "audio_withheld"  # the number's or agent's observer_policy keeps no caller content
        now = self._clock()
        retention = self._pipeline.retention
        source = self._adapter.source
        pointer = StoredEvent(
            record=RECORDING_RECORD,
            call_id=media.call_id,
            event_key=KEPT_AUDIO_KEY,
            source=source,
            event_type=f"{source}.audio",
            retention_class=RetentionClass.RECORDING,
            expires_at=retention.expires_at(RetentionClass.RECORDING, now),
            received_at_ms=int(now * 1000),
            body={"kept_by": "voicetrail"},
            event_ts_ms=media.event_ts_ms,
        )
        # A store failure raises StoreUnavailableError: 503, and the sender's retry stores it.
        outcome = policy.store.keep(pointer, media.data, content_type=media.content_type, now=now)
        self._metrics.count("AudioKept", source=source, outcome=outcome.value)
        self._log.info(
            "audio kept", extra={"source": source, "outcome": outcome.value, "bytes": len(media.data)}
        )
        return None

    def _merge_summary(self, stored: StoredEvent, outcome: PutOutcome, now: float) -> None:
        """What follows a stored event, idempotent (a resend completes what a crash interrupted): the
        call's summary, and once the call is over, the pointer whose expiry deletes it at the platform."""
        view = platform_view_from_event(stored)
        latency = self._adapter.latency(stored) if view is not None and view.ended else None
        if latency is not None and view is not None:
            view = replace(view, latency=latency)
            if outcome is PutOutcome.STORED:  # counted once per call, like Vapi's end-of-call report
                LatencyMetrics(self._metrics).call_reported(latency)
        if self._ledger is not None and view is not None:
            self._ledger.merge_vapi(view, now=now)
        if view is not None and view.ended:
            self._pipeline.records.events.put_event(self._held_by_platform(stored, now), now=now)

    def _held_by_platform(self, stored: StoredEvent, now: float) -> StoredEvent:
        """A `recording`-class item for what the platform keeps of the call (audio, transcript): at its
        expiry the purge deletes the call there (the partition `CALL#<platform>:<id>` names it)."""
        retention = self._pipeline.retention
        return StoredEvent(
            record=RECORDING_RECORD,
            call_id=stored.call_id,
            event_key="recording",
            source=stored.source,
            event_type=f"{stored.source}.recording",
            retention_class=RetentionClass.RECORDING,
            expires_at=retention.expires_at(RetentionClass.RECORDING, now),
            received_at_ms=stored.received_at_ms,
            body={"held_by": stored.source},
            event_ts_ms=stored.event_ts_ms,
            caller_hash=stored.caller_hash,
        )

    def _content_policy(self, parsed: Parsed) -> Callable[[], bool]:
        consent = self._consent
        if consent is None:
            return lambda: True
        number_id, agent_id = self._adapter.consent_keys(parsed)
        return lambda: consent.keeps(number_id, agent_id)

    def _authenticate(self, request: InboundRequest) -> None:
        source = self._adapter.source
        try:
            self._verify(request, self._secrets.values())
        except AuthenticationError as exc:
            # A wrong key may be a rotated one this process has not seen yet: re-read the store once.
            fresh = self._secrets.refresh() if exc.reason is AuthFailure.INVALID else None
            if fresh is not None:
                try:
                    self._verify(request, fresh)
                    self._metrics.count("SecretRefreshed", source=source)
                    return
                except AuthenticationError as retry:
                    exc = retry
            self._metrics.count("AuthRejected", source=source, reason=exc.reason.value)
            self._log.warning("request rejected", extra={"reason": exc.reason.value, "source": source})
            raise exc from None

    def _verify(self, request: InboundRequest, keys: Sequence[str]) -> None:
        headers: Mapping[str, Any] = request.headers
        self._adapter.verify(headers, request.body, keys, now=self._clock())
