"""The audio of a `post_call_audio` event, decoded for a deployment that keeps it (ElevenLabsKeepAudio).

`data.full_audio` is the whole call as base64 MP3 (elevenlabs.io/docs, Agents Platform "Post-call
webhooks"). It is decoded strictly (the standard alphabet, padding checked: anything else is a 400 that
names the field, never its content) and bounded: a decoded size over `max_bytes` is not kept.
"""

from __future__ import annotations

import base64
import binascii

from voicetrail.domain.identity import platform_call_key
from voicetrail.errors import BadRequestError
from voicetrail.providers.elevenlabs.models import POST_CALL_AUDIO, ParsedElevenLabsEvent
from voicetrail.providers.webhook_service import Media

CONTENT_TYPE = "audio/mpeg"
# A 6 MiB body (the function's MAX_BODY_BYTES, Lambda's request limit) holds at most this much audio.
MAX_AUDIO_BYTES = 4_718_592


def call_audio(parsed: ParsedElevenLabsEvent) -> Media | None:
    """The call's audio of a `post_call_audio` event; None for any other event or an empty field."""
    event = parsed.event
    if event.type != POST_CALL_AUDIO:
        return None
    encoded = event.data.full_audio
    if not encoded:
        return None
    try:
        audio = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestError("full_audio is not base64") from None
    if not audio:
        return None
    return Media(
        call_id=platform_call_key("elevenlabs", event.data.conversation_id),
        data=audio,
        content_type=CONTENT_TYPE,
        event_ts_ms=event.event_timestamp * 1000 if event.event_timestamp is not None else None,
    )
