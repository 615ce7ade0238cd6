"""Composition roots of the two functions that delete: the retention purge and the operator API (erasure).

Both use the provider deleters (domain.erasure.deleters: recordings at Twilio, calls at Vapi)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from voicetrail.domain.audit.trail import AuditTrail
from voicetrail.domain.erasure.deleters import TwilioRecordingDeleter, VapiCallDeleter
from voicetrail.domain.erasure.eraser import ErasureService
from voicetrail.domain.retention.purge import PurgeConfig, RetentionPurger
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.settings import (
    ExternalDeletionSettings,
    OperatorSettings,
    PurgeRunSettings,
)
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.batch import BatchDeleter
from voicetrail.storage.dynamo import dynamodb_client
from voicetrail.storage.erasure import DynamoCallerItems
from voicetrail.storage.pepper import DynamoPepperFingerprints
from voicetrail.storage.purge import DynamoExpiredItems, DynamoPurgeCursor


def build_external(settings: ExternalDeletionSettings) -> tuple[TwilioRecordingDeleter, VapiCallDeleter]:
    cache = settings.secret_cache_seconds
    twilio = TwilioRecordingDeleter(
        settings.twilio_account_sid or None,
        SecretResolver(settings.twilio_token_ref, max_age=cache) if settings.twilio_token_ref else None,
        base_url=settings.twilio_api_base_url,
        timeout=settings.external_timeout_seconds,
    )
    vapi = VapiCallDeleter(
        SecretResolver(settings.vapi_api_key_ref, max_age=cache) if settings.vapi_api_key_ref else None,
        base_url=settings.vapi_api_base_url,
        timeout=settings.external_timeout_seconds,
    )
    return twilio, vapi


def build_purger(settings: PurgeRunSettings, *, metrics: MetricsRecorder) -> RetentionPurger:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    twilio, vapi = build_external(settings)
    table = settings.table_name
    return dynamo_purger(
        client,
        table,
        recordings=twilio,
        calls=vapi,
        metrics=metrics,
        audit=AuditTrail(DynamoAuditStore(client, table), retention=settings.retention),
        retention=settings.retention,
        config=PurgeConfig(
            lookback_days=settings.lookback_days,
            safety_ms=settings.safety_ms,
            alarm_after_attempts=settings.alarm_after_attempts,
            hold_days=settings.hold_days,
        ),
    )


def dynamo_purger(
    client: Any, table: str, *, sleep: Callable[[float], None] = time.sleep, **options: Any
) -> RetentionPurger:
    """A purger over one DynamoDB table (the function, the CLI and the tests build it this way)."""
    return RetentionPurger(
        DynamoExpiredItems(client, table),
        DynamoPurgeCursor(client, table),
        BatchDeleter(client, table, sleep=sleep),
        **options,
    )


def build_eraser(settings: OperatorSettings, *, metrics: MetricsRecorder) -> ErasureService:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    twilio, vapi = build_external(settings)
    return ErasureService(
        DynamoCallerItems(client, settings.table_name, large_bodies=settings.large_bodies()),
        pepper=SecretResolver(settings.pepper_ref, max_age=settings.secret_cache_seconds),
        recordings=twilio,
        calls=vapi,
        audit=AuditTrail(DynamoAuditStore(client, settings.table_name), retention=settings.retention),
        fingerprints=DynamoPepperFingerprints(client, settings.table_name),
        trusted_pepper=True,  # the deployment's own pepper secret
        metrics=metrics,
    )
