"""POST /retell/webhook: authenticate, redact and store every Retell AI call event exactly once."""

from __future__ import annotations

from voicetrail.coldstart import init_done  # first: no cycle collection during init

from voicetrail.providers.retell.adapter import RETELL
from voicetrail.settings import RetellWebhookSettings
from voicetrail.wiring.observed import observed_function

settings = RetellWebhookSettings.from_env()
function = observed_function(
    RETELL, settings, settings.retell_key_ref, name="retell_webhook", path="/retell/webhook"
)
logger, metrics, service, ROUTES = function.logger, function.metrics, function.service, function.routes
lambda_handler = function.lambda_handler

init_done()  # last: everything above is the function's init
