"""Composition roots of the two functions that delete: the retention purge and the operator API (erasure).

Both use the provider deleters (domain.erasure.deleters: recordings at Twilio, calls at Vapi)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from voicetrail.domain.audit.trail import AuditTrail
from voicetrail.domain.erasure.deleters import PlatformCallDeleter, TwilioRecordingDeleter, VapiCallDeleter
from voicetrail.domain.erasure.eraser import ErasureService
from voicetrail.domain.erasure.followups import FollowUpRunner
from voicetrail.domain.erasure.providers import Provider, ProviderRegistry, standard_providers
from voicetrail.domain.identity import platform_call_of_pk
from voicetrail.domain.items import ItemDeleter, RawItem
from voicetrail.domain.retention.purge import PurgeConfig, RetentionPurger
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.settings import (
    ExternalDeletionSettings,
    OperatorSettings,
    PurgeRunSettings,
)
from voicetrail.storage.audio import HeldObjectsDeleter
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.batch import BatchDeleter
from voicetrail.storage.dynamo import dynamodb_client
from voicetrail.storage.erasure import DynamoCallerItems
from voicetrail.storage.erasure_tasks import DynamoErasureTasks
from voicetrail.storage.expiry_days import DynamoExpiryDays
from voicetrail.storage.pepper import DynamoPepperFingerprints
from voicetrail.storage.purge import DynamoExpiredItems, DynamoPurgeCursor

if TYPE_CHECKING:
    from voicetrail.providers.elevenlabs.deleter import ElevenLabsConversationDeleter
    from voicetrail.providers.retell.deleter import RetellCallDeleter
    from voicetrail.storage.large_bodies import S3BodyStore


def _credential(ref: SecretRef | None, cache: int) -> SecretResolver | None:
    """A resolver for a provider credential, or None when the deployment has none: an `env:` ref whose
    variable is unset (the local stack without provider keys) is no credential, so erasure reports the
    provider `skipped: not configured` instead of retrying forever. A store ref is always tried."""
    if ref is None or (ref.source == "env" and not os.environ.get(ref.name)):
        return None
    return SecretResolver(ref, max_age=cache)


def build_external(settings: ExternalDeletionSettings) -> tuple[TwilioRecordingDeleter, VapiCallDeleter]:
    cache = settings.secret_cache_seconds
    twilio = TwilioRecordingDeleter(
        settings.twilio_account_sid or None,
        _credential(settings.twilio_token_ref, cache),
        base_url=settings.twilio_api_base_url,
        timeout=settings.external_timeout_seconds,
    )
    vapi = VapiCallDeleter(
        _credential(settings.vapi_api_key_ref, cache),
        base_url=settings.vapi_api_base_url,
        timeout=settings.external_timeout_seconds,
    )
    return twilio, vapi


def build_platform_deleters(
    settings: ExternalDeletionSettings,
) -> tuple[RetellCallDeleter, ElevenLabsConversationDeleter]:
    """The Retell and ElevenLabs deleters (unconfigured when the deployment has no key for them)."""
    from voicetrail.providers.elevenlabs.deleter import ElevenLabsConversationDeleter
    from voicetrail.providers.retell.deleter import RetellCallDeleter

    cache, timeout = settings.secret_cache_seconds, settings.external_timeout_seconds
    retell = RetellCallDeleter(
        _credential(settings.retell_api_key_ref, cache),
        base_url=settings.retell_api_base_url,
        timeout=timeout,
    )
    elevenlabs = ElevenLabsConversationDeleter(
        _credential(settings.elevenlabs_api_key_ref, cache),
        base_url=settings.elevenlabs_api_base_url,
        timeout=timeout,
    )
    return retell, elevenlabs


def build_providers(settings: ExternalDeletionSettings) -> ProviderRegistry:
    """Every provider erasure deletes at: Twilio recordings, Vapi calls, Retell calls, ElevenLabs
    conversations (the last two skipped, never pending, when the deployment has no key for them)."""
    standard = standard_providers(*build_external(settings))
    return ProviderRegistry([*standard, *(platform_provider(d) for d in build_platform_deleters(settings))])


def platform_provider(deleter: PlatformCallDeleter) -> Provider:
    """Retell or ElevenLabs: the call a `CALL#<platform>:<id>` partition names, deleted at the platform."""
    name = deleter.provider

    def calls_of(pk: str, item: RawItem) -> Iterable[str]:
        call_id = platform_call_of_pk(pk, name)
        return (call_id,) if call_id else ()

    return Provider(name, "call", calls_of, deleter.delete_call if deleter.configured else None)


def build_followups(settings: PurgeRunSettings, *, metrics: MetricsRecorder) -> FollowUpRunner:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    table = settings.table_name
    return FollowUpRunner(
        DynamoErasureTasks(client, table),
        build_providers(settings),
        audit=AuditTrail(DynamoAuditStore(client, table), retention=settings.retention),
        metrics=metrics,
        safety_ms=settings.safety_ms,
    )


def build_purger(settings: PurgeRunSettings, *, metrics: MetricsRecorder) -> RetentionPurger:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    twilio, vapi = build_external(settings)
    table = settings.table_name
    return dynamo_purger(
        client,
        table,
        recordings=twilio,
        calls=vapi,
        platforms={d.provider: d for d in build_platform_deleters(settings) if d.configured},
        metrics=metrics,
        audit=AuditTrail(DynamoAuditStore(client, table), retention=settings.retention),
        retention=settings.retention,
        large_bodies=settings.large_bodies(),
        config=PurgeConfig(
            lookback_days=settings.lookback_days,
            safety_ms=settings.safety_ms,
            alarm_after_attempts=settings.alarm_after_attempts,
            hold_days=settings.hold_days,
        ),
    )


def dynamo_purger(
    client: Any,
    table: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    day_records: bool = True,
    large_bodies: S3BodyStore | None = None,
    **options: Any,
) -> RetentionPurger:
    """A purger over one DynamoDB table (the function, the CLI and the tests build it this way).
    `day_records=False`: ignore the expiry day records, read every bucket (benchmarks/purge.py's before).
    `large_bodies`: the bucket of kept audio, whose objects go with their pointer items."""
    deleter: ItemDeleter = BatchDeleter(client, table, sleep=sleep)
    if large_bodies is not None:
        deleter = HeldObjectsDeleter(deleter, large_bodies)
    return RetentionPurger(
        DynamoExpiredItems(client, table),
        DynamoPurgeCursor(client, table),
        deleter,
        days=DynamoExpiryDays(client, table) if day_records else None,
        **options,
    )


def build_eraser(settings: OperatorSettings, *, metrics: MetricsRecorder) -> ErasureService:
    client = dynamodb_client(endpoint_url=settings.dynamodb_endpoint)
    return ErasureService(
        DynamoCallerItems(client, settings.table_name, large_bodies=settings.large_bodies()),
        pepper=SecretResolver(settings.pepper_ref, max_age=settings.secret_cache_seconds),
        providers=build_providers(settings),
        tasks=DynamoErasureTasks(client, settings.table_name),
        audit=AuditTrail(DynamoAuditStore(client, settings.table_name), retention=settings.retention),
        fingerprints=DynamoPepperFingerprints(client, settings.table_name),
        trusted_pepper=True,  # the deployment's own pepper secret
        metrics=metrics,
        deadline_days=settings.erasure_deadline_days,
    )
