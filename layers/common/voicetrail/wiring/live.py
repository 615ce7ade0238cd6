"""Builds the live features from the vapi_webhook settings (called by voicetrail.wiring.vapi)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditTrail
from voicetrail.domain.live.config import ConfigResolver, ConfigSource
from voicetrail.domain.live.consent_flow import ConsentService
from voicetrail.domain.live.control import HostPolicy, HttpCallController
from voicetrail.domain.live.escalation import EscalationService
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.providers.vapi.live_runtime import LiveCallFeatures, OutcomeSink
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.live import DynamoLiveStore, TableConfigSource
from voicetrail.storage.ssm_config import SsmConfigSource

if TYPE_CHECKING:
    from voicetrail.settings import VapiWebhookSettings


def config_source(settings: VapiWebhookSettings, client: Any) -> ConfigSource:
    spec = settings.live_config_source
    if spec.startswith("ssm:"):
        return SsmConfigSource(spec.removeprefix("ssm:"), max_age=settings.live_config_cache_seconds)
    return TableConfigSource(client, settings.table_name)


def build_live_features(
    settings: VapiWebhookSettings,
    client: Any,
    *,
    logger: Logger,
    metrics: MetricsRecorder,
    outcomes: OutcomeSink | None = None,
) -> LiveCallFeatures:
    clock = time.time
    store = DynamoLiveStore(client, settings.table_name, settings.retention)
    audit = AuditTrail(DynamoAuditStore(client, settings.table_name), retention=settings.retention)
    controller = HttpCallController(
        logger=logger,
        metrics=metrics,
        hosts=HostPolicy.from_settings(settings.live_control_hosts, settings.environment),
        timeout_seconds=settings.live_control_timeout_seconds,
        retries=settings.live_control_retries,
    )
    common: dict[str, Any] = {
        "store": store,
        "audit": audit,
        "controller": controller,
        "metrics": metrics,
        "logger": logger,
        "clock": clock,
    }
    return LiveCallFeatures(
        configs=ConfigResolver(
            config_source(settings, client), cache_seconds=settings.live_config_cache_seconds, metrics=metrics
        ),
        store=store,
        audit=audit,
        consent=ConsentService(**common),
        escalation=EscalationService(**common),
        metrics=metrics,
        logger=logger,
        clock=clock,
        outcomes=outcomes,
    )
