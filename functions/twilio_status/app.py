"""POST /twilio/status and /twilio/recording: validated, deduplicated callbacks folded into call state."""

from __future__ import annotations

from voicetrail.coldstart import init_done  # first: no cycle collection during init

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from voicetrail.infra.observability import PowertoolsRecorder, build_logger, build_metrics, tracer_decorator
from voicetrail.providers.twilio.service import CallbackKind
from voicetrail.settings import TwilioStatusSettings
from voicetrail.transport.apigw import current_request, install_error_handlers, reply_response
from voicetrail.wiring.twilio import base_path, build_twilio_service

SERVICE = "twilio_status"
settings = TwilioStatusSettings.from_env()
logger = build_logger(SERVICE)
metrics = build_metrics(settings.metrics_namespace, SERVICE)
service = build_twilio_service(
    settings, logger=logger, metrics=PowertoolsRecorder(metrics, settings.environment)
)
# A custom-domain base path (e.g. https://hooks.example.com/voice) may reach us in rawPath: route without it.
prefix = base_path(settings.public_base_url)
app = APIGatewayHttpResolver(strip_prefixes=[prefix] if prefix else None)
install_error_handlers(app, logger)


@app.post("/twilio/status")
def receive_status_callback() -> Response[str]:
    return reply_response(service.handle(current_request(app), CallbackKind.STATUS))


@app.post("/twilio/recording")
def receive_recording_callback() -> Response[str]:
    return reply_response(service.handle(current_request(app), CallbackKind.RECORDING))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer_decorator(settings.tracing_enabled, SERVICE)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


init_done()  # last: everything above is the function's init
