"""The answer to every Vapi message type that expects one, when no live feature answers it.

Every reply is valid for its `ServerMessageResponse*` schema in Vapi's spec (tests/unit/test_vapi_corpus.py
validates them with unknown properties forbidden). The live features (providers.vapi.live_runtime) replace
some of these with configured answers; these are the deliberate answers of a deployment without them:

  assistant-request             {"error": <spoken line>}      voicetrail does not run an assistant here
  tool-calls                    one {"name", "toolCallId", "error": "Unknown tool."} per call
  function-call (legacy)        {"result": "Unknown function."} (Vapi's legacy shape; no spec schema)
  transfer-destination-request  {"error": ...}                no destination configured
  handoff-destination-request   {"destination": {}, "error": ...} (the spec requires `destination`)
  knowledge-base-request        {"documents": []}             voicetrail holds no knowledge base
  call.endpointing.request      {"timeoutSeconds": 0.8}       the default endpointing wait
  campaign.predial              {"eligible": true|false}      the pre-dial gate (providers.vapi.predial)
  voice-request                 HTTP 422 wrong_server         needs raw PCM audio from a custom voice server

Everything else gets `{}` (Vapi reads no body for informational messages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.calls.ports import PutOutcome
from voicetrail.errors import WrongServerError
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.providers.vapi.messages import CampaignPredial, ToolCalls
from voicetrail.providers.vapi.predial import PredialDecision, PredialGate
from voicetrail.providers.vapi.service import Processed, Responder

NOT_SERVED = "We're sorry, this line is not taking calls right now."
NO_TRANSFER = "Sorry, there is no one available to take this call right now."
NO_HANDOFF = "No handoff destination is configured for this call."
UNKNOWN_TOOL = "Unknown tool."
UNKNOWN_FUNCTION = "Unknown function."
DEFAULT_ENDPOINTING_SECONDS = 0.8


def unknown_tools(processed: Processed) -> Mapping[str, Any]:
    message = processed.parsed.message
    calls = message.toolCallList if isinstance(message, ToolCalls) else []
    results = []
    for call in calls:
        name = (call.function.name if call.function else None) or call.name or "unknown"
        results.append({"name": name, "toolCallId": call.id or "", "error": UNKNOWN_TOOL})
    return {"results": results}


def _voice_request(_: Processed) -> Mapping[str, Any]:
    raise WrongServerError("voice-request received: voicetrail is not a custom voice server")


class PredialResponder:
    """campaign.predial -> the gate's decision; audited once per event (not again on a resend)."""

    def __init__(
        self,
        gate: PredialGate,
        hasher: Callable[[], CallerHasher],
        metrics: MetricsRecorder,
    ) -> None:
        self._gate = gate
        self._hasher = hasher
        self._metrics = metrics

    def __call__(self, processed: Processed) -> Mapping[str, Any]:
        message = processed.parsed.message
        contact = message.contact if isinstance(message, CampaignPredial) else None
        decision: PredialDecision = self._gate.decide(contact.number if contact else None, self._hasher())
        self._metrics.count("PredialDecision", source="vapi", reason=decision.reason)
        if processed.outcome is PutOutcome.STORED:
            campaign = message.campaignId if isinstance(message, CampaignPredial) else None
            # An audit failure raises StoreUnavailableError: a 503, and Vapi records a pre-dial failure
            # (no call placed) rather than a call without its compliance record.
            self._gate.audit(decision, campaign_id=campaign, contact_id=contact.id if contact else None)
        return decision.reply()


def base_responders(
    *,
    predial: PredialResponder | None = None,
    endpointing_seconds: float = DEFAULT_ENDPOINTING_SECONDS,
) -> dict[str, Responder]:
    responders: dict[str, Responder] = {
        "assistant-request": lambda _: {"error": NOT_SERVED},
        "tool-calls": unknown_tools,
        "function-call": lambda _: {"result": UNKNOWN_FUNCTION},
        "transfer-destination-request": lambda _: {"error": NO_TRANSFER},
        "handoff-destination-request": lambda _: {"destination": {}, "error": NO_HANDOFF},
        "knowledge-base-request": lambda _: {"documents": []},
        "call.endpointing.request": lambda _: {"timeoutSeconds": endpointing_seconds},
        "voice-request": _voice_request,
    }
    # Without a gate a predial is not eligible: Vapi records it and places no call (fail closed).
    responders["campaign.predial"] = predial or (lambda _: {"eligible": False})
    return responders
