"""POST /elevenlabs/webhook: authenticate, redact and store ElevenLabs post-call events exactly once
(post_call_audio is answered and dropped, or with ElevenLabsKeepAudio its audio is kept in S3)."""

from __future__ import annotations

from voicetrail.coldstart import init_done  # first: no cycle collection during init

from voicetrail.providers.elevenlabs.adapter import ELEVENLABS
from voicetrail.settings import ElevenLabsWebhookSettings
from voicetrail.wiring.observed import observed_function

settings = ElevenLabsWebhookSettings.from_env()
function = observed_function(
    ELEVENLABS,
    settings,
    settings.elevenlabs_secret_ref,
    name="elevenlabs_webhook",
    path="/elevenlabs/webhook",
    audio=settings.audio_store,
    max_audio_bytes=settings.max_audio_bytes,
)
logger, metrics, service, ROUTES = function.logger, function.metrics, function.service, function.routes
lambda_handler = function.lambda_handler

init_done()  # last: everything above is the function's init
