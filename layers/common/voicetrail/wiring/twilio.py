"""Composition root for the twilio_status function: settings -> adapters -> service."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from voicetrail.domain.roi import RoiMetrics
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.providers.twilio.service import TwilioCallbackService
from voicetrail.providers.twilio.signature import normalize_base_url
from voicetrail.settings import TwilioStatusSettings
from voicetrail.storage.dynamo import DynamoEventStore, dynamodb_client
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail.storage.pepper import DynamoPepperFingerprints
from voicetrail.wiring.quarantine import build_quarantine


def base_path(base_url: str | None) -> str | None:
    """The path part of the base URL (custom-domain mapping), for the resolver's strip_prefixes."""
    from urllib.parse import urlsplit

    if not base_url:
        return None
    path = urlsplit(normalize_base_url(base_url)).path.rstrip("/")
    return path or None


def build_twilio_service(
    settings: TwilioStatusSettings, *, logger: Logger, metrics: MetricsRecorder
) -> TwilioCallbackService:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    return TwilioCallbackService(
        tokens=SecretResolver(settings.twilio_token_ref, max_age=settings.secret_cache_seconds),
        pepper=SecretResolver(settings.pepper_ref, max_age=settings.secret_cache_seconds),
        base_url=settings.public_base_url,
        store=DynamoEventStore(client, settings.table_name),
        ledger=DynamoCallLedger(client, settings.table_name, settings.retention),
        retention=settings.retention,
        metrics=RoiMetrics(metrics),
        logger=logger,
        max_body_bytes=settings.max_body_bytes,
        pepper_fingerprints=DynamoPepperFingerprints(client, settings.table_name),
        quarantine=build_quarantine(client, settings.table_name, settings.retention, metrics),
    )
