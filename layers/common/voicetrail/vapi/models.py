"""Lenient models of Vapi server messages.

We read `message.type` ourselves and then validate with that type's model: the official SDK's
undiscriminated union mis-dispatches (a tool-calls message comes back as an assistant-request).
Every model allows extra fields, and every field is optional, so unknown types and unknown fields
are accepted and stored, never rejected. Only a broken envelope is a 400.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from voicetrail.errors import BadRequestError

FINAL_TRANSCRIPT_TYPE = 'transcript[transcriptType="final"]'


class _Lenient(BaseModel):
    # defer_build: a schema is built on first use, so a cold start builds only the models it needs.
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, defer_build=True)


class CallMonitor(_Lenient):
    controlUrl: str | None = None  # noqa: N815 - Vapi's field names


class Customer(_Lenient):
    number: str | None = None
    sipUri: str | None = None  # noqa: N815


class Call(_Lenient):
    id: str | None = None
    type: str | None = None
    status: str | None = None
    assistantId: str | None = None  # noqa: N815
    phoneNumberId: str | None = None  # noqa: N815
    phoneCallProvider: str | None = None  # noqa: N815
    phoneCallProviderId: str | None = None  # noqa: N815 - the Twilio CallSid for Twilio calls
    customer: Customer | None = None
    monitor: CallMonitor | None = None


class VapiMessage(_Lenient):
    """Fields common to every server message."""

    type: str
    timestamp: float | None = None
    call: Call | None = None
    customer: Customer | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        # The 2024 SDK sent ISO strings; current Vapi sends epoch ms. Keep numbers, drop the rest.
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    @property
    def call_id(self) -> str | None:
        if self.call and self.call.id:
            return self.call.id
        for holder in ("chat", "session"):
            extra = (self.model_extra or {}).get(holder)
            if isinstance(extra, dict) and isinstance(extra.get("id"), str):
                return str(extra["id"])
        return None

    @property
    def caller_number(self) -> str | None:
        for customer in (self.customer, self.call.customer if self.call else None):
            if customer and customer.number:
                return customer.number
        return None


class StatusUpdate(VapiMessage):
    status: str | None = None
    endedReason: str | None = None  # noqa: N815


class Transcript(VapiMessage):
    role: str | None = None
    transcriptType: str | None = None  # noqa: N815
    transcript: str | None = None
    confidence: float | None = None


class SpeechUpdate(VapiMessage):
    status: str | None = None
    role: str | None = None
    turn: int | None = None


class ToolCallFunction(_Lenient):
    name: str | None = None
    arguments: Any = None


class ToolCall(_Lenient):
    id: str | None = None
    name: str | None = None
    function: ToolCallFunction | None = None
    arguments: Any = None
    parameters: Any = None


class ToolCalls(VapiMessage):
    toolCallList: list[ToolCall] = []  # noqa: N815


class EndOfCallReport(VapiMessage):
    endedReason: str | None = None  # noqa: N815
    cost: float | None = None
    startedAt: str | None = None  # noqa: N815
    endedAt: str | None = None  # noqa: N815
    durationSeconds: float | None = None  # noqa: N815


class UserInterrupted(VapiMessage):
    turnId: str | None = None  # noqa: N815


MESSAGE_MODELS: dict[str, type[VapiMessage]] = {
    "status-update": StatusUpdate,
    "transcript": Transcript,
    FINAL_TRANSCRIPT_TYPE: Transcript,
    "speech-update": SpeechUpdate,
    "tool-calls": ToolCalls,
    "end-of-call-report": EndOfCallReport,
    "user-interrupted": UserInterrupted,
}

# Types whose name we trust as a metric dimension; anything else is reported as "other".
KNOWN_TYPES = frozenset(
    {
        *MESSAGE_MODELS,
        "assistant-request",
        "conversation-update",
        "hang",
        "model-output",
        "phone-call-control",
        "transfer-destination-request",
        "transfer-update",
        "knowledge-base-request",
        "handoff-destination-request",
        "language-change-detected",
        "voice-input",
        "assistant.started",
        "assistant.speechStarted",
        "call.deleted",
        "call.delete.failed",
        "call.artifact.upload",
    }
)


class ParsedMessage(BaseModel):
    """A validated message plus the raw dict it came from (sanitised before storage)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    message: VapiMessage
    raw: dict[str, Any]


def decode_json_object(body: bytes) -> dict[str, Any]:
    """Strict UTF-8 JSON object, or a 400. Deep nesting and oversize integers are 400s too."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequestError("body is not UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise BadRequestError("body is not a JSON object")
    return document


def parse_envelope(body: bytes) -> ParsedMessage:
    document = decode_json_object(body)
    raw = document.get("message")
    if not isinstance(raw, dict):
        raise BadRequestError("missing message object")
    message_type = raw.get("type")
    if not isinstance(message_type, str) or not message_type.strip():
        raise BadRequestError("missing message.type")
    model = MESSAGE_MODELS.get(message_type, VapiMessage)
    try:
        message = model.model_validate(raw)
    except ValidationError:
        # A known field with an odd shape: fall back to the common fields rather than reject.
        try:
            message = VapiMessage.model_validate(raw)
        except ValidationError:
            raise BadRequestError("message fields have the wrong shape") from None
    return ParsedMessage(message=message, raw=raw)


def metric_type(message_type: str) -> str:
    return message_type if message_type in KNOWN_TYPES else "other"
