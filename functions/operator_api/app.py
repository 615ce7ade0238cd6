"""POST /operator/erase (IAM-authorised): erase everything stored about one caller, report counts.

Body: {"phone": "+14155550123", "dry_run": false, "deadline_days": 25}. The number is validated as the
CLI validates it (400 for anything that is not a valid number or SIP address); `dry_run` reports what
would be erased; `deadline_days` (1-30, default ERASURE_DEADLINE_DAYS) is when provider deletions are due.
"""

from __future__ import annotations

from voicetrail.coldstart import init_done  # first: no cycle collection during init

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from voicetrail.errors import BadRequestError, PayloadTooLargeError
from voicetrail.infra.observability import PowertoolsRecorder, build_logger, build_metrics, tracer_decorator
from voicetrail.settings import OperatorSettings
from voicetrail.transport.apigw import current_request, install_error_handlers, reply_response
from voicetrail.transport.http import Reply
from voicetrail.wiring.deletion import build_eraser

SERVICE = "operator_api"
settings = OperatorSettings.from_env()
logger = build_logger(SERVICE)
metrics = build_metrics(settings.metrics_namespace, SERVICE)
eraser = build_eraser(settings, metrics=PowertoolsRecorder(metrics, settings.environment))
app = APIGatewayHttpResolver()
install_error_handlers(app, logger)


@app.post("/operator/erase")
def erase_caller() -> Response[str]:
    request = current_request(app)
    if len(request.body) > settings.max_body_bytes:
        raise PayloadTooLargeError()
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        raise BadRequestError("body is not JSON") from None
    phone = payload.get("phone") if isinstance(payload, dict) else None
    if not isinstance(phone, str):
        raise BadRequestError("phone is required")
    dry_run = payload.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequestError("dry_run must be true or false")
    deadline = payload.get("deadline_days")
    if deadline is not None and (
        isinstance(deadline, bool) or not isinstance(deadline, int) or not 1 <= deadline <= 30
    ):
        raise BadRequestError("deadline_days must be a whole number of days from 1 to 30")
    result = eraser.erase(phone, dry_run=dry_run, deadline_days=deadline)
    summary = {
        k: v
        for k, v in result.as_dict().items()
        if k not in ("items_deleted", "pending", "calls", "providers", "skipped", "deleted_at_providers")
    }
    logger.info("erasure finished", extra=summary)
    return reply_response(Reply(status=200, body=result.as_dict()))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer_decorator(settings.tracing_enabled, SERVICE)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


init_done()  # last: everything above is the function's init
