"""One builder of the Vapi service for tests and benchmarks, from the settings a test cares about."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger

from voicetrail.domain.callers import PepperFingerprints
from voicetrail.domain.calls.ports import EventStore, NameMemory
from voicetrail.domain.calls.state import CallLedger
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.pipeline.store_once import (
    AuditAppender,
    CallerIdentity,
    CallRecords,
    EventPipeline,
    Redaction,
    Telemetry,
)
from voicetrail.providers.vapi.auth import VapiAuthConfig
from voicetrail.providers.vapi.service import (
    ContentPolicy,
    LiveHooks,
    Observer,
    Responder,
    VapiRequestGate,
    VapiWebhookService,
)
from voicetrail.providers.vapi.topology import CallTopology
from voicetrail.redaction import RedactionPolicy


def vapi_service(
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
    content_policy: ContentPolicy | None = None,
    second_pass: Any = None,
    calls: CallLedger | None = None,
    audit: AuditAppender | None = None,
    names: NameMemory | None = None,
    topology: CallTopology | None = None,
    fallback_responders: Mapping[str, Responder] | None = None,
    pepper_fingerprints: PepperFingerprints | None = None,
    clock: Callable[[], float] = time.time,
) -> VapiWebhookService:
    live = LiveHooks(
        responders=dict(responders or {}),
        fallback_responders=dict(fallback_responders or {}),
        observers=tuple(observers),
    )
    if content_policy is not None:
        live = LiveHooks(live.responders, live.fallback_responders, live.observers, content_policy)
    pipeline = EventPipeline(
        identity=CallerIdentity(pepper, pepper_fingerprints),
        records=CallRecords(events=store, names=names, audit=audit),
        retention=retention,
        telemetry=Telemetry(metrics, logger),
        redaction=Redaction(policy=redaction_policy, second_pass=second_pass),
        clock=clock,
    )
    gate = VapiRequestGate(
        auth=auth, secrets=secrets, max_body_bytes=max_body_bytes, metrics=metrics, logger=logger, clock=clock
    )
    return VapiWebhookService(gate=gate, pipeline=pipeline, ledger=calls, topology=topology, live=live)
