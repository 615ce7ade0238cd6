"""Lenient models of ElevenLabs Agents post-call webhooks: `{"type", "event_timestamp", "data"}`.

Facts (elevenlabs.io/docs, Agents Platform "Post-call webhooks"; elevenlabs 2.78.0 SDK types
`GetConversationResponseModel`, `ConversationHistoryMetadataCommonModel`, `WebhookEventType`):

  post_call_transcription   `data` is the GET-conversation object: `agent_id`, `conversation_id`,
                            `status` (initiated | in-progress | processing | done | failed), `user_id`,
                            `transcript` (turns: `role`, `message`, `original_message`, `tool_calls` with
                            `params_as_json`, `tool_results` with `result_value`, `time_in_call_secs`),
                            `metadata` (`start_time_unix_secs`, `call_duration_secs`, `cost`,
                            `termination_reason`, `phone_call` with `direction`, `agent_number`,
                            `external_number`, `call_sid`), `analysis` (`transcript_summary`,
                            `call_successful`, `evaluation_criteria_results`, `data_collection_results`),
                            `conversation_initiation_client_data` (`dynamic_variables`, which include
                            `system__caller_id` on phone calls), `has_audio`...
  post_call_audio           `data` is `agent_id`, `conversation_id`, `full_audio` (the whole call as
                            base64 MP3), sent with chunked transfer encoding
  call_initiation_failure   `data` is `agent_id`, `conversation_id`, `failure_reason` and a `metadata`
                            object carrying the telephony provider's own payload (Twilio's status
                            callback fields, including the From/To numbers, or SIP details)

`event_timestamp` is Unix seconds. Unknown types and fields are accepted and stored, never rejected; only
a broken envelope is a 400: not a JSON object, no type, no data object, or a conversation id that cannot
be a storage key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from voicetrail.errors import BadRequestError
from voicetrail.providers.bounds import MAX_EPOCH_MS, MAX_TURNS, EventName, ProviderId, ShortText
from voicetrail.providers.vapi.messages import decode_json_object

POST_CALL_TRANSCRIPTION = "post_call_transcription"
POST_CALL_AUDIO = "post_call_audio"
CALL_INITIATION_FAILURE = "call_initiation_failure"
EVENT_TYPES = frozenset({POST_CALL_TRANSCRIPTION, POST_CALL_AUDIO, CALL_INITIATION_FAILURE})


class _Lenient(BaseModel):
    # defer_build: a schema is built on first use, so a cold start builds only the models it needs.
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


class ToolCall(_Lenient):
    request_id: ShortText | None = None
    tool_name: ShortText | None = None
    params_as_json: str | None = None


class ToolResult(_Lenient):
    request_id: ShortText | None = None
    tool_name: ShortText | None = None
    result_value: str | None = None


class Turn(_Lenient):
    role: ShortText | None = None
    message: str | None = None
    original_message: str | None = None
    tool_calls: list[ToolCall] | None = Field(default=None, max_length=MAX_TURNS)
    tool_results: list[ToolResult] | None = Field(default=None, max_length=MAX_TURNS)
    time_in_call_secs: float | None = None


class PhoneCall(_Lenient):
    type: ShortText | None = None
    direction: ShortText | None = None
    agent_number: ShortText | None = None
    external_number: ShortText | None = None
    call_sid: ShortText | None = None


class Metadata(_Lenient):
    start_time_unix_secs: StrictInt | None = None
    call_duration_secs: float | None = None
    cost: float | None = None
    termination_reason: str | None = None
    phone_call: PhoneCall | None = None


class Analysis(_Lenient):
    transcript_summary: str | None = None
    call_successful: ShortText | None = None
    call_summary_title: str | None = None
    evaluation_criteria_results: Any = None
    data_collection_results: Any = None


class ConversationData(_Lenient):
    """The `data` of every type: the common fields, plus the transcription's (absent on the others)."""

    conversation_id: ProviderId
    agent_id: ProviderId | None = None
    status: ShortText | None = None
    user_id: ShortText | None = None
    transcript: list[Turn] | None = Field(default=None, max_length=MAX_TURNS)
    metadata: Any = None
    analysis: Analysis | None = None
    conversation_initiation_client_data: Any = None
    failure_reason: ShortText | None = None
    full_audio: str | None = None

    def phone_call(self) -> PhoneCall | None:
        """The telephony details of a transcription (`metadata.phone_call`), when the call had any."""
        if not isinstance(self.metadata, dict):
            return None
        try:
            return Metadata.model_validate(self.metadata).phone_call
        except ValidationError:
            return None

    @property
    def caller_number(self) -> str | None:
        """The far end's number: `external_number` (the caller inbound, the callee outbound); for a
        call that never connected, the Twilio callback's `To` (outbound) or `From` (inbound)."""
        phone = self.phone_call()
        if phone and phone.external_number:
            return phone.external_number
        body = self.metadata.get("body") if isinstance(self.metadata, dict) else None
        if isinstance(body, dict):
            outbound = str(body.get("Direction", "")).startswith("outbound")
            number = body.get("To" if outbound else "From")
            if isinstance(number, str) and 0 < len(number) <= 256:
                return number
        return None


class _ConversationIdOnly(_Lenient):
    conversation_id: ProviderId


class ElevenLabsEvent(_Lenient):
    type: EventName
    event_timestamp: StrictInt | None = None
    data: ConversationData

    @field_validator("event_timestamp")
    @classmethod
    def _epoch_seconds(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value * 1000 < MAX_EPOCH_MS:
            raise ValueError("not an epoch in seconds")
        return value

    @property
    def conversation_id(self) -> str:
        return self.data.conversation_id


class ParsedElevenLabsEvent(BaseModel):
    """A validated event plus the raw dict it came from (sanitised before storage)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    event: ElevenLabsEvent
    raw: dict[str, Any]


def parse_event(body: bytes) -> ParsedElevenLabsEvent:
    """The event in a request body, or a BadRequestError (400) naming what is wrong, never the content."""
    document = decode_json_object(body)
    name = document.get("type")
    if not isinstance(name, str) or not name.strip():
        raise BadRequestError("missing type")
    data = document.get("data")
    if not isinstance(data, dict):
        raise BadRequestError("missing data object")
    try:
        event = ElevenLabsEvent.model_validate(document)
    except ValidationError:
        # A known field with an odd shape: keep the event on its common fields rather than reject it.
        try:
            fallback = _ConversationIdOnly.model_validate(data)
            event = ElevenLabsEvent.model_validate(
                {"type": name, "data": {"conversation_id": fallback.conversation_id}}
            )
        except ValidationError:
            raise BadRequestError("type or conversation_id has the wrong shape") from None
    return ParsedElevenLabsEvent(event=event, raw=document)


def metric_type(event_type: str) -> str:
    """The event type as a metric dimension: only known types, anything else is "other"."""
    return event_type if event_type in EVENT_TYPES else "other"
