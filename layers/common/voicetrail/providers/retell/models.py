"""Lenient models of Retell AI webhook events: `{"event": <type>, "call": {...}}`.

Facts (docs.retellai.com/features/webhook-overview; retell-sdk 6.2.13 `types/phone_call_response.py` and
the `webhook_events` enum of `resources/agent.py`):

  call_started         a call began (not sent when the dial failed)
  call_ended           the call ended, was transferred or errored: the call object without `call_analysis`
  call_analyzed        the call object with `call_analysis` (summary, sentiment, custom analysis data)
  transcript_updated   on each turn, and once more at the end: the call plus `transcript_with_tool_calls`
  transfer_started | transfer_bridged | transfer_cancelled   the call plus `transfer_destination` and
                       `transfer_option` when known
  transfer_ended       the transfer leg ended

An agent gets call_started, call_ended and call_analyzed unless its `webhook_events` says otherwise.
The `call` object is the get-call object: `call_id`, `agent_id`, `call_type` (phone_call | web_call),
`direction`, `from_number`, `to_number`, `call_status`, `start_timestamp`/`end_timestamp` (epoch ms),
`duration_ms`, `disconnection_reason`, `transcript` (text), `transcript_object` (turns with words),
`transcript_with_tool_calls` (turns, tool invocations with JSON `arguments`, tool results), `recording_url`
and other URLs (short-lived links to the caller's voice and logs), `call_analysis`, `call_cost`, `latency`,
`metadata`, `retell_llm_dynamic_variables`, `collected_dynamic_variables`, `telephony_identifier`.
Older payloads carried the call under `data` (being deprecated); it is read when `call` is absent.

Every model allows unknown fields and every field but the call id is optional: unknown event types and
new fields are accepted, never rejected. Only a broken envelope is a 400: not a JSON object, no event
name, no call object, or a call id that cannot be a storage key. A known field with an odd shape falls
back to the envelope's common fields rather than a rejection.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from voicetrail.errors import BadRequestError
from voicetrail.providers.bounds import MAX_EPOCH_MS, MAX_TURNS, EventName, ProviderId, ShortText
from voicetrail.providers.vapi.messages import decode_json_object

CALL_STARTED = "call_started"
CALL_ENDED = "call_ended"
CALL_ANALYZED = "call_analyzed"
TRANSCRIPT_UPDATED = "transcript_updated"
TRANSFER_STARTED = "transfer_started"
TRANSFER_BRIDGED = "transfer_bridged"
TRANSFER_CANCELLED = "transfer_cancelled"
TRANSFER_ENDED = "transfer_ended"
TRANSFER_EVENTS = frozenset({TRANSFER_STARTED, TRANSFER_BRIDGED, TRANSFER_CANCELLED, TRANSFER_ENDED})
EVENT_TYPES = frozenset({CALL_STARTED, CALL_ENDED, CALL_ANALYZED, TRANSCRIPT_UPDATED}) | TRANSFER_EVENTS


class _Lenient(BaseModel):
    # defer_build: a schema is built on first use, so a cold start builds only the models it needs.
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


class Utterance(_Lenient):
    """One turn of `transcript_object` / `transcript_with_tool_calls` (tool turns carry `arguments`)."""

    role: ShortText | None = None
    content: str | None = None
    arguments: str | None = None  # tool_call_invocation: the tool's JSON arguments, as a string
    name: ShortText | None = None
    tool_call_id: ShortText | None = None


class CallAnalysis(_Lenient):
    call_summary: str | None = None
    user_sentiment: ShortText | None = None
    call_successful: bool | None = None
    in_voicemail: bool | None = None
    custom_analysis_data: Any = None


class RetellCall(_Lenient):
    call_id: ProviderId
    agent_id: ProviderId | None = None
    agent_version: StrictInt | None = None
    call_type: ShortText | None = None
    call_status: ShortText | None = None
    direction: ShortText | None = None
    from_number: ShortText | None = None
    to_number: ShortText | None = None
    start_timestamp: StrictInt | None = None
    end_timestamp: StrictInt | None = None
    duration_ms: StrictInt | None = Field(default=None, ge=0)
    disconnection_reason: ShortText | None = None
    transcript: str | None = None
    transcript_object: list[Utterance] | None = Field(default=None, max_length=MAX_TURNS)
    transcript_with_tool_calls: list[Utterance] | None = Field(default=None, max_length=MAX_TURNS)
    recording_url: str | None = None
    call_analysis: CallAnalysis | None = None
    transfer_destination: Any = None
    transfer_end_timestamp: StrictInt | None = None

    @field_validator("start_timestamp", "end_timestamp", "transfer_end_timestamp")
    @classmethod
    def _epoch_ms(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value < MAX_EPOCH_MS:
            raise ValueError("not an epoch in milliseconds")
        return value

    @property
    def caller_number(self) -> str | None:
        """The far end's number: the caller on an inbound call, the callee on an outbound one."""
        if self.direction == "outbound":
            return self.to_number or None
        return self.from_number or None


class _CallIdOnly(_Lenient):
    call_id: ProviderId


class RetellEvent(_Lenient):
    event: EventName
    call: RetellCall
    transfer_destination: Any = None
    transfer_option: Any = None

    @property
    def call_id(self) -> str:
        return self.call.call_id


class ParsedRetellEvent(BaseModel):
    """A validated event plus the raw dict it came from (sanitised before storage)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    event: RetellEvent
    raw: dict[str, Any]


def parse_event(body: bytes) -> ParsedRetellEvent:
    """The event in a request body, or a BadRequestError (400) naming what is wrong, never the content."""
    document = decode_json_object(body)
    name = document.get("event")
    if not isinstance(name, str) or not name.strip():
        raise BadRequestError("missing event")
    call = document.get("call")
    if not isinstance(call, dict):
        call = document.get("data")  # the deprecated envelope
    if not isinstance(call, dict):
        raise BadRequestError("missing call object")
    try:
        event = RetellEvent.model_validate({**document, "call": call})
    except ValidationError:
        # A known field with an odd shape: keep the event on its common fields rather than reject it.
        try:
            fallback = _CallIdOnly.model_validate(call)
            event = RetellEvent.model_validate({"event": name, "call": {"call_id": fallback.call_id}})
        except ValidationError:
            raise BadRequestError("event or call_id has the wrong shape") from None
    return ParsedRetellEvent(event=event, raw=document)


def metric_type(event_name: str) -> str:
    """The event name as a metric dimension: only known names, anything else is "other"."""
    return event_name if event_name in EVENT_TYPES else "other"
