"""ElevenLabs Agents as the webhook service sees it: verifier, parser, common event, sanitizer, consent keys.

`post_call_audio` never enters the pipeline: answered 200 (ElevenLabs disables webhooks that keep
failing), counted and dropped; or, when the deployment keeps audio (ElevenLabsKeepAudio), its decoded
audio goes to the S3 store under the `recording` class with a pointer record (providers.elevenlabs.audio).
Audio is never logged or put in the table.
"""

from __future__ import annotations

from voicetrail.domain.calls.ports import StoredEvent
from voicetrail.domain.identity import platform_call_key
from voicetrail.domain.latency import CallLatency
from voicetrail.pipeline.event import InboundEvent
from voicetrail.providers.elevenlabs.audio import call_audio
from voicetrail.providers.elevenlabs.keys import semantic_key
from voicetrail.providers.elevenlabs.latency import elevenlabs_call_latency
from voicetrail.providers.elevenlabs.models import (
    POST_CALL_AUDIO,
    POST_CALL_TRANSCRIPTION,
    Metadata,
    ParsedElevenLabsEvent,
    metric_type,
    parse_event,
)
from voicetrail.providers.elevenlabs.sanitize import sanitizer_for_event
from voicetrail.providers.elevenlabs.signature import verify
from voicetrail.providers.webhook_service import ProviderAdapter

SOURCE = "elevenlabs"


def inbound_event(parsed: ParsedElevenLabsEvent) -> InboundEvent:
    event = parsed.event
    data = event.data
    attributes: dict[str, str | int | float] = {}
    for field, value in (
        ("agent_id", data.agent_id),
        ("status", data.status),
        ("ended_reason", data.failure_reason),
    ):
        if value:
            attributes[field] = value
    metadata = _metadata(parsed)
    if metadata is not None:
        if metadata.call_duration_secs is not None:
            attributes["duration_s"] = metadata.call_duration_secs
        if metadata.termination_reason:
            attributes["ended_reason"] = metadata.termination_reason[:120]
        phone = metadata.phone_call
        if phone is not None and phone.direction:
            attributes["direction"] = phone.direction
        if phone is not None and phone.call_sid:
            attributes["provider_call_id"] = phone.call_sid
    return InboundEvent(
        source=SOURCE,
        call_id=platform_call_key(SOURCE, data.conversation_id),
        event_type=event.type,
        event_key=semantic_key(parsed),
        raw=parsed.raw,
        metric_type=metric_type(event.type),
        event_ts_ms=event.event_timestamp * 1000 if event.event_timestamp is not None else None,
        caller_number=data.caller_number,
        attributes=attributes,
        final_report=event.type == POST_CALL_TRANSCRIPTION,
    )


def _metadata(parsed: ParsedElevenLabsEvent) -> Metadata | None:
    if parsed.event.type != POST_CALL_TRANSCRIPTION or not isinstance(parsed.event.data.metadata, dict):
        return None
    try:
        return Metadata.model_validate(parsed.event.data.metadata)
    except ValueError:
        return None


def _consent_keys(parsed: ParsedElevenLabsEvent) -> tuple[str | None, str | None]:
    phone = parsed.event.data.phone_call()
    number_id = phone.model_extra.get("phone_number_id") if phone and phone.model_extra else None
    return (number_id if isinstance(number_id, str) else None), parsed.event.data.agent_id


def _latency(stored: StoredEvent) -> CallLatency | None:
    """From `post_call_transcription` (the whole conversation): the parts ElevenLabs measured per turn."""
    data = stored.body.get("data")
    if stored.event_type != POST_CALL_TRANSCRIPTION or not isinstance(data, dict):
        return None
    return elevenlabs_call_latency(data)


def _dropped(parsed: ParsedElevenLabsEvent) -> str | None:
    return "audio" if parsed.event.type == POST_CALL_AUDIO else None


ELEVENLABS = ProviderAdapter[ParsedElevenLabsEvent](
    source=SOURCE,
    verify=verify,
    parse=parse_event,
    inbound=inbound_event,
    sanitizer=sanitizer_for_event,
    consent_keys=_consent_keys,
    dropped=_dropped,
    media=call_audio,
    latency=_latency,
)
