"""Composition root for the retell_webhook and elevenlabs_webhook functions: settings -> adapters ->
pipeline -> service. Both share everything but their adapter and their secret."""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditTrail
from voicetrail.domain.live.config import ConfigResolver
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.pipeline.store_once import CallerIdentity, CallRecords, EventPipeline, Redaction, Telemetry
from voicetrail.providers.webhook_service import ConfigConsent, ProviderAdapter, ProviderWebhookService
from voicetrail.redaction import ComprehendPiiPass
from voicetrail.settings import ObservedWebhookSettings
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.dynamo import DynamoEventStore, dynamodb_client
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail.storage.names import DynamoNameMemory
from voicetrail.storage.pepper import DynamoPepperFingerprints

Parsed = TypeVar("Parsed")


def _configs(
    settings: ObservedWebhookSettings, client: Any, metrics: MetricsRecorder
) -> ConfigResolver | None:
    spec = settings.live_config_source
    if spec == "off":
        return None
    if spec.startswith("ssm:"):
        from voicetrail.storage.ssm_config import SsmConfigSource

        source: Any = SsmConfigSource(spec.removeprefix("ssm:"), max_age=settings.live_config_cache_seconds)
    else:
        from voicetrail.storage.live import TableConfigSource

        source = TableConfigSource(client, settings.table_name)
    return ConfigResolver(source, cache_seconds=settings.live_config_cache_seconds, metrics=metrics)


def build_observed_service(
    adapter: ProviderAdapter[Parsed],
    settings: ObservedWebhookSettings,
    secret_ref: SecretRef,
    *,
    logger: Logger,
    metrics: MetricsRecorder,
) -> ProviderWebhookService[Parsed]:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    pepper = SecretResolver(settings.pepper_ref, max_age=settings.secret_cache_seconds)
    pipeline = EventPipeline(
        identity=CallerIdentity(pepper, DynamoPepperFingerprints(client, settings.table_name)),
        records=CallRecords(
            events=DynamoEventStore(client, settings.table_name),
            names=DynamoNameMemory(client, settings.table_name, settings.retention),
            audit=AuditTrail(DynamoAuditStore(client, settings.table_name), retention=settings.retention),
        ),
        retention=settings.retention,
        telemetry=Telemetry(metrics, logger),
        redaction=Redaction(
            policy=settings.redaction_policy(),
            second_pass=ComprehendPiiPass.from_boto3() if settings.comprehend_second_pass else None,
        ),
    )
    return ProviderWebhookService(
        adapter=adapter,
        secrets=SecretResolver(secret_ref, max_age=settings.secret_cache_seconds),
        pipeline=pipeline,
        metrics=metrics,
        logger=logger,
        max_body_bytes=settings.max_body_bytes,
        consent=ConfigConsent(_configs(settings, client, metrics), metrics, adapter.source),
        ledger=DynamoCallLedger(client, settings.table_name, settings.retention),
    )
