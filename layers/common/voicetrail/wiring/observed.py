"""Composition root for the retell_webhook and elevenlabs_webhook functions: settings -> adapters ->
pipeline -> service -> the Lambda handler. Both share everything but their adapter, their secret, their
route and (ElevenLabs) whether audio is kept; each handler module is one call to `observed_function`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditTrail
from voicetrail.domain.live.config import ConfigResolver
from voicetrail.infra.observability import (
    MetricsRecorder,
    PowertoolsRecorder,
    build_logger,
    build_metrics,
    tracer_decorator,
)
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.pipeline.store_once import CallerIdentity, CallRecords, EventPipeline, Redaction, Telemetry
from voicetrail.providers.webhook_service import (
    ConfigConsent,
    MediaPolicy,
    ProviderAdapter,
    ProviderWebhookService,
)
from voicetrail.settings import ObservedWebhookSettings
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.dynamo import DynamoEventStore, dynamodb_client
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail.storage.names import DynamoNameMemory
from voicetrail.storage.pepper import DynamoPepperFingerprints
from voicetrail.transport.routing import Route, dispatch
from voicetrail.wiring.comprehend import comprehend_second_pass

if TYPE_CHECKING:
    from aws_lambda_powertools.metrics import Metrics

    from voicetrail.domain.calls.ports import AudioStore, EventStore

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
    audio: Callable[[EventStore], AudioStore | None] | None = None,
    max_audio_bytes: int = 0,
) -> ProviderWebhookService[Parsed]:
    """`audio`: the store of kept audio over the function's event store (None, or None returned: dropped)."""
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    pepper = SecretResolver(settings.pepper_ref, max_age=settings.secret_cache_seconds)
    events = DynamoEventStore(client, settings.table_name)
    audio_store = audio(events) if audio is not None else None
    pipeline = EventPipeline(
        identity=CallerIdentity(pepper, DynamoPepperFingerprints(client, settings.table_name)),
        records=CallRecords(
            events=events,
            names=DynamoNameMemory(client, settings.table_name, settings.retention),
            audit=AuditTrail(DynamoAuditStore(client, settings.table_name), retention=settings.retention),
        ),
        retention=settings.retention,
        telemetry=Telemetry(metrics, logger),
        redaction=Redaction(
            policy=settings.redaction_policy(),
            second_pass=comprehend_second_pass() if settings.comprehend_second_pass else None,
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
        media=MediaPolicy(audio_store, max_audio_bytes) if audio_store is not None else None,
    )


@dataclass(frozen=True)
class ObservedFunction(Generic[Parsed]):
    """One observed platform's Lambda function, built at cold start: what its handler module exposes."""

    logger: Logger
    metrics: Metrics
    service: ProviderWebhookService[Parsed]
    routes: dict[tuple[str, str], Route]
    lambda_handler: Callable[[dict[str, Any], Any], dict[str, Any]]


def observed_function(
    adapter: ProviderAdapter[Parsed],
    settings: ObservedWebhookSettings,
    secret_ref: SecretRef,
    *,
    name: str,
    path: str,
    audio: Callable[[EventStore], AudioStore | None] | None = None,
    max_audio_bytes: int = 0,
) -> ObservedFunction[Parsed]:
    """The function `name` answering `POST <path>`: logger, metrics, service, routes and the handler with
    Powertools' context, metrics flush and (when on) tracing around it."""
    logger = build_logger(name)
    metrics = build_metrics(settings.metrics_namespace, name)
    service = build_observed_service(
        adapter,
        settings,
        secret_ref,
        logger=logger,
        metrics=PowertoolsRecorder(metrics, settings.environment),
        audio=audio,
        max_audio_bytes=max_audio_bytes,
    )
    routes: dict[tuple[str, str], Route] = {("POST", path): service.handle}

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    @tracer_decorator(settings.tracing_enabled, name)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dispatch(event, routes, logger)

    return ObservedFunction(logger, metrics, service, routes, lambda_handler)
