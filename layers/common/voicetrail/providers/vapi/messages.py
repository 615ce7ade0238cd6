"""Lenient models of Vapi server messages.

We read `message.type` ourselves and then validate with that type's model: the official SDK's
undiscriminated union mis-dispatches (a tool-calls message comes back as an assistant-request).
Every model allows extra fields, and every field is optional, so unknown types and unknown fields
are accepted and stored, never rejected. Only a broken envelope is a 400.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from voicetrail.domain.identity import key_part
from voicetrail.errors import BadRequestError
from voicetrail.transport import payload

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
    timestamp: int | None = None  # epoch ms, normalised by timestamp_ms()
    call: Call | None = None
    customer: Customer | None = None

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        return timestamp_ms(value)

    @property
    def call_id(self) -> str | None:
        """The call's id, bounded for keys and logs (domain.identity.key_part: a 1,000-character id
        becomes its digest; the original stays in the stored body)."""
        if self.call and self.call.id:
            return key_part(self.call.id)
        for holder in ("chat", "session"):
            extra = (self.model_extra or {}).get(holder)
            if isinstance(extra, dict) and isinstance(extra.get("id"), str) and extra["id"]:
                return key_part(str(extra["id"]))
        return None

    @property
    def caller_number(self) -> str | None:
        for customer in (self.customer, self.call.customer if self.call else None):
            if customer and customer.number:
                return customer.number
        return None


# Epoch values below this are seconds, above it milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
_SECONDS_LIMIT = 100_000_000_000
_MS_LIMIT = 100_000_000_000_000  # year 5138 in ms: beyond it a number is no timestamp


def timestamp_ms(value: Any) -> int | None:
    """A message timestamp as epoch milliseconds, whatever shape Vapi sent it in, or None.

    Current Vapi sends epoch ms (a number); the 2024 SDK documented an ISO-8601 string; some payloads
    carry epoch seconds. Anything else (bools, NaN, negative or unparsable values) is no timestamp.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                return None  # a naive time names no instant: not a key we can trust
            return round(parsed.timestamp() * 1000)
        value = number
    if not isinstance(value, int | float) or value <= 0 or value >= _MS_LIMIT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return round(value * 1000) if value < _SECONDS_LIMIT else round(value)


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


class FunctionCallBody(_Lenient):
    name: str | None = None
    parameters: Any = None


class FunctionCall(VapiMessage):
    """The legacy `function-call` message (still in Vapi's default `serverMessages`)."""

    functionCall: FunctionCallBody | None = None  # noqa: N815


class CampaignContact(_Lenient):
    id: str | None = None
    number: str | None = None


class CampaignPredial(VapiMessage):
    campaignId: str | None = None  # noqa: N815
    contact: CampaignContact | None = None

    @property
    def call_id(self) -> str | None:
        # No call exists before the dial: the campaign's partition holds its pre-dial events.
        if self.call and self.call.id:
            return key_part(self.call.id)
        return f"campaign.{key_part(self.campaignId)}" if self.campaignId else None


MESSAGE_MODELS: dict[str, type[VapiMessage]] = {
    "status-update": StatusUpdate,
    "transcript": Transcript,
    FINAL_TRANSCRIPT_TYPE: Transcript,
    "speech-update": SpeechUpdate,
    "tool-calls": ToolCalls,
    "end-of-call-report": EndOfCallReport,
    "user-interrupted": UserInterrupted,
    "function-call": FunctionCall,
    "campaign.predial": CampaignPredial,
}

# Every `type` of the spec's ServerMessage* schemas (tests/unit/test_vapi_corpus.py checks it against the
# spec) plus the types in the `serverMessages` enum that have no schema. Metrics name exactly these;
# anything else is reported as "other" (a type name is attacker-chosen text: never a free dimension).
SPEC_TYPES = frozenset(
    {
        "assistant-request",
        "conversation-update",
        "end-of-call-report",
        "handoff-destination-request",
        "hang",
        "knowledge-base-request",
        "model-output",
        "phone-call-control",
        "speech-update",
        "status-update",
        "tool-calls",
        "transfer-destination-request",
        "transfer-update",
        "transcript",
        FINAL_TRANSCRIPT_TYPE,
        "user-interrupted",
        "language-change-detected",
        "voice-input",
        "assistant.speechStarted",
        "voice-request",
        "call.endpointing.request",
        "chat.created",
        "chat.deleted",
        "session.created",
        "session.updated",
        "session.deleted",
        "call.deleted",
        "call.delete.failed",
        "call.artifact.upload",
        "campaign.predial",
    }
)
LEGACY_TYPES = frozenset({"function-call", "assistant.started", "language-changed"})
KNOWN_TYPES = SPEC_TYPES | LEGACY_TYPES


class ParsedMessage(BaseModel):
    """A validated message plus the raw dict it came from (sanitised before storage)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    message: VapiMessage
    raw: dict[str, Any]


def decode_json_object(body: bytes) -> dict[str, Any]:
    """Strict UTF-8 JSON object within transport.payload's bounds (depth, numbers, surrogates), or a 400."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestError("body is not UTF-8 JSON") from None
    document = payload.loads(text)
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


def call_id_hint(body: bytes) -> str | None:
    """The call a body names, if any can be read (for a message that failed: best effort, bounded)."""
    try:
        document = json.loads(body.decode("utf-8", "replace"))  # tolerant: the body may break a bound
    except (ValueError, RecursionError):
        return None
    message = document.get("message") if isinstance(document, dict) else None
    call = message.get("call") if isinstance(message, dict) else None
    call_id = call.get("id") if isinstance(call, dict) else None
    return key_part(call_id) if isinstance(call_id, str) and call_id.strip() else None
