"""Semantic idempotency keys of Retell events, within the call's partition (`call.call_id`).

  call_started | call_ended | call_analyzed    <event>                        once per call
  transcript_updated                           transcript_updated#<mark>      one per state of the transcript
  transfer_started | _bridged | _cancelled     <event>#<digest(destination, option)>#<mark>
  transfer_ended                               transfer_ended#t<transfer_end_timestamp>, else as above
  anything else                                <event>#<digest(event without the call)>#<mark>

mark = n<turns>.<digest> of the conversation so far (`transcript_with_tool_calls`, else
`transcript_object`, else `transcript`), or `-` when the call has none yet. Two updates of one call
differ in it (the conversation moved on); the retries of one update carry the same conversation. The
final transcript_updated of a call repeats the last turn-taking one when nothing was said in between:
it then collapses into it, and no content is lost. Should Retell ever refresh the transcript inside a
retried transfer event, the retry would be stored as a second event: a duplicate, never a loss.
"""

from __future__ import annotations

from typing import Any

from voicetrail.providers.keys import digest, part
from voicetrail.providers.retell.models import (
    CALL_ANALYZED,
    CALL_ENDED,
    CALL_STARTED,
    TRANSCRIPT_UPDATED,
    TRANSFER_ENDED,
    TRANSFER_EVENTS,
    ParsedRetellEvent,
)

ONCE_PER_CALL = frozenset({CALL_STARTED, CALL_ENDED, CALL_ANALYZED})
_CONVERSATION_FIELDS = ("transcript_with_tool_calls", "transcript_object", "transcript")


def _call(parsed: ParsedRetellEvent) -> dict[str, Any]:
    raw = parsed.raw.get("call")
    if not isinstance(raw, dict):
        raw = parsed.raw.get("data")
    return raw if isinstance(raw, dict) else {}


def conversation_mark(call: dict[str, Any]) -> str:
    """The conversation so far as a key part: its length and digest, or `-`."""
    for field in _CONVERSATION_FIELDS:
        value = call.get(field)
        if value:
            size = len(value) if isinstance(value, list) else 1
            return f"n{size}.{digest(value)}"
    return "-"


def semantic_key(parsed: ParsedRetellEvent) -> str:
    name = parsed.event.event
    if name in ONCE_PER_CALL:
        return name
    call = _call(parsed)
    mark = conversation_mark(call)
    if name == TRANSCRIPT_UPDATED:
        return f"{TRANSCRIPT_UPDATED}#{mark}"
    if name == TRANSFER_ENDED and parsed.event.call.transfer_end_timestamp is not None:
        return f"{TRANSFER_ENDED}#t{parsed.event.call.transfer_end_timestamp}"
    if name in TRANSFER_EVENTS:
        destination = parsed.raw.get("transfer_destination", call.get("transfer_destination"))
        target = digest([destination, parsed.raw.get("transfer_option")])
        return f"{name}#{target}#{mark}"
    content = {k: v for k, v in parsed.raw.items() if k not in ("call", "data")}
    return f"{part(name)}#{digest(content)}#{mark}"
