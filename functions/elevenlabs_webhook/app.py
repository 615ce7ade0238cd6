"""POST /elevenlabs/webhook: authenticate, redact and store ElevenLabs post-call events exactly once
(post_call_audio is answered and dropped: audio is never stored)."""

from __future__ import annotations

from voicetrail.coldstart import init_done  # first: no cycle collection during init

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voicetrail.infra.observability import PowertoolsRecorder, build_logger, build_metrics, tracer_decorator
from voicetrail.providers.elevenlabs.adapter import ELEVENLABS
from voicetrail.settings import ElevenLabsWebhookSettings
from voicetrail.transport.routing import dispatch
from voicetrail.wiring.observed import build_observed_service

SERVICE = "elevenlabs_webhook"
settings = ElevenLabsWebhookSettings.from_env()
logger = build_logger(SERVICE)
metrics = build_metrics(settings.metrics_namespace, SERVICE)
service = build_observed_service(
    ELEVENLABS,
    settings,
    settings.elevenlabs_secret_ref,
    logger=logger,
    metrics=PowertoolsRecorder(metrics, settings.environment),
)
ROUTES = {("POST", "/elevenlabs/webhook"): service.handle}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer_decorator(settings.tracing_enabled, SERVICE)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dispatch(event, ROUTES, logger)


init_done()  # last: everything above is the function's init
