"""Composition root for the vapi_webhook function: settings -> adapters -> service."""

from __future__ import annotations

import time
from dataclasses import replace

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditTrail
from voicetrail.domain.callers import CallerHasher
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.pipeline.store_once import CallerIdentity, CallRecords, EventPipeline, Redaction, Telemetry
from voicetrail.providers.vapi.predial import PredialGate, RecordedConsent
from voicetrail.providers.vapi.replies import PredialResponder, base_responders
from voicetrail.providers.vapi.service import LiveHooks, VapiRequestGate, VapiWebhookService
from voicetrail.providers.vapi.topology import CallTopology
from voicetrail.settings import VapiWebhookSettings
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.dnc import DynamoDoNotCallList
from voicetrail.storage.dynamo import DynamoEventStore, dynamodb_client
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail.storage.live import DynamoLiveStore
from voicetrail.storage.names import DynamoNameMemory
from voicetrail.storage.pepper import DynamoPepperFingerprints
from voicetrail.storage.topology import DynamoTopologyStore
from voicetrail.wiring.comprehend import comprehend_second_pass
from voicetrail.wiring.quarantine import build_quarantine


def build_vapi_service(
    settings: VapiWebhookSettings, *, logger: Logger, metrics: MetricsRecorder
) -> VapiWebhookService:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    policy = settings.redaction_policy()
    calls = DynamoCallLedger(client, settings.table_name, settings.retention)
    audit = AuditTrail(DynamoAuditStore(client, settings.table_name), retention=settings.retention)
    pepper = SecretResolver(settings.pepper_ref, max_age=settings.secret_cache_seconds)
    predial_gate = PredialGate(
        policy=settings.predial_policy,
        dnc=DynamoDoNotCallList(client, settings.table_name, settings.retention),
        consent=RecordedConsent(DynamoLiveStore(client, settings.table_name, settings.retention)),
        audit=audit,
        clock=time.time,
    )
    predial = PredialResponder(predial_gate, lambda: CallerHasher(pepper.values()[0]), metrics)
    live = LiveHooks()
    if settings.live_enabled:
        # Live call control (voicetrail.domain.live): httpx is imported only when a control request is sent.
        from voicetrail.providers.vapi.live_outcomes import CallOutcomeReporter
        from voicetrail.wiring.live import build_live_features

        features = build_live_features(
            settings, client, logger=logger, metrics=metrics, outcomes=CallOutcomeReporter(calls, metrics)
        )
        live = LiveHooks(
            responders=features.responders(),
            observers=(features.observe,),
            content_policy=features.content_policy,
        )
    pipeline = EventPipeline(
        identity=CallerIdentity(pepper, DynamoPepperFingerprints(client, settings.table_name)),
        records=CallRecords(
            events=DynamoEventStore(client, settings.table_name, large_bodies=settings.large_bodies()),
            names=DynamoNameMemory(client, settings.table_name, settings.retention),
            audit=audit,
        ),
        retention=settings.retention,
        telemetry=Telemetry(metrics, logger),
        redaction=Redaction(
            policy=policy,
            second_pass=comprehend_second_pass() if settings.comprehend_second_pass else None,
        ),
    )
    request_gate = VapiRequestGate(
        auth=settings.auth,
        secrets=SecretResolver(settings.vapi_secret_ref, max_age=settings.secret_cache_seconds),
        max_body_bytes=settings.max_body_bytes,
        metrics=metrics,
        logger=logger,
    )
    return VapiWebhookService(
        gate=request_gate,
        pipeline=pipeline,
        ledger=calls,
        topology=CallTopology(DynamoTopologyStore(client, settings.table_name, settings.retention)),
        live=replace(live, fallback_responders=base_responders(predial=predial)),
        quarantine=build_quarantine(client, settings.table_name, settings.retention, metrics, policy),
    )
