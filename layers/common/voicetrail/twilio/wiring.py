"""Composition root for the twilio_status function."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from voicetrail.config import TwilioStatusSettings
from voicetrail.observability import MetricsRecorder
from voicetrail.secrets import SecretResolver
from voicetrail.storage.dynamo import DynamoEventStore, dynamodb_client
from voicetrail.twilio.service import TwilioCallbackService


def build_twilio_service(
    settings: TwilioStatusSettings, *, logger: Logger, metrics: MetricsRecorder
) -> TwilioCallbackService:
    return TwilioCallbackService(
        tokens=SecretResolver(settings.twilio_token_ref, max_age=settings.secret_cache_seconds),
        pepper=SecretResolver(settings.pepper_ref, max_age=settings.secret_cache_seconds),
        base_url=settings.public_base_url,
        store=DynamoEventStore(dynamodb_client(endpoint_url=settings.dynamodb_endpoint), settings.table_name),
        retention=settings.retention,
        metrics=metrics,
        logger=logger,
        max_body_bytes=settings.max_body_bytes,
    )
