"""Semantic idempotency keys of ElevenLabs events, within the conversation's partition.

  post_call_transcription | post_call_audio | call_initiation_failure    <type>    once per conversation
  anything else                       <type>#<event_timestamp or ->#<digest(data without full_audio)>

ElevenLabs sends each post-call webhook once per conversation (retries, when a team enables them, resend
the same event), so the type alone identifies it within the conversation. A resend with a refreshed
`event_timestamp` or a re-serialised body still collapses; nothing else of that type can be lost, as
there is no second one.
"""

from __future__ import annotations

from voicetrail.providers.elevenlabs.models import EVENT_TYPES, ParsedElevenLabsEvent
from voicetrail.providers.keys import digest, part


def semantic_key(parsed: ParsedElevenLabsEvent) -> str:
    name = parsed.event.type
    if name in EVENT_TYPES:
        return name
    data = parsed.raw.get("data")
    content = {k: v for k, v in data.items() if k != "full_audio"} if isinstance(data, dict) else {}
    return f"{part(name)}#{part(parsed.event.event_timestamp)}#{digest(content)}"
