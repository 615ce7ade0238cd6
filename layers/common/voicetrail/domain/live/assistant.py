"""The transient assistant returned to `assistant-request` (Vapi's CreateAssistantDTO).

Only fields of the current spec are sent (Vapi rejects unknown ones with "property X should not
exist"); tests validate every shape against the OpenAPI document with unknown properties forbidden.
"""

from __future__ import annotations

from typing import Any

from voicetrail.domain.live.config import LiveConfig

RECORD_CONSENT_TOOL = "record_consent"

# What the webhook needs to act during the call. `transcript` carries partials too (barge-in
# escalation reads them); finals alone would be `transcript[transcriptType="final"]`.
SERVER_MESSAGES = (
    "status-update",
    "speech-update",
    "transcript",
    "tool-calls",
    "transfer-destination-request",
    "user-interrupted",
    "end-of-call-report",
)

CONSENT_KEYTERMS = ("consent", "record", "recording", "yes", "no", "okay", "agree", "don't record")
_ALWAYS_INTERRUPT = ("stop", "wait", "hold on")


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def record_consent_tool() -> dict[str, Any]:
    return {
        "type": "function",
        "async": False,
        "function": {
            "name": RECORD_CONSENT_TOOL,
            "description": (
                "Record the caller's answer to the recording disclosure. Call it once the caller has "
                "answered whether the call may be recorded."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "decision": {
                        "type": "string",
                        "enum": ["granted", "denied", "unclear"],
                        "description": "granted if the caller agreed, denied if they refused, else unclear.",
                    }
                },
                "required": ["decision"],
            },
        },
    }


def build_assistant(config: LiveConfig, *, returning_caller_consented: bool = False) -> dict[str, Any]:
    """A CreateAssistantDTO for this call's config (pure, no I/O)."""
    first_message = config.first_message
    if returning_caller_consented or not config.consent_required:
        first_message = config.returning_first_message
    keyterms = _unique([*CONSENT_KEYTERMS, *config.escalation_keywords])
    assistant: dict[str, Any] = {
        "name": config.name,
        "firstMessage": first_message,
        "firstMessageMode": "assistant-speaks-first",
        # The disclosure is not interruptible: the caller hears it whole before answering.
        "firstMessageInterruptionsEnabled": False,
        "maxDurationSeconds": config.max_duration_seconds,
        "serverMessages": list(SERVER_MESSAGES),
        "transcriber": {
            "provider": "deepgram",
            "model": config.transcriber_model,
            "language": config.language,
            "keyterm": keyterms,
            "smartFormat": False,
        },
        "model": {
            "provider": config.llm_provider,
            "model": config.llm_model,
            "messages": [{"role": "system", "content": config.system_prompt}],
            "tools": [{"type": "transferCall"}, {"type": "endCall"}, record_consent_tool()],
        },
        "startSpeakingPlan": {
            "waitSeconds": config.endpointing_seconds,
            "transcriptionEndpointingPlan": {
                "onPunctuationSeconds": config.endpointing_seconds,
                "onNoPunctuationSeconds": max(1.5, config.endpointing_seconds),
                "onNumberSeconds": max(0.5, config.endpointing_seconds),
            },
        },
        "stopSpeakingPlan": {
            "numWords": config.stop_num_words,
            "voiceSeconds": config.stop_voice_seconds,
            "backoffSeconds": config.stop_backoff_seconds,
            "interruptionPhrases": _unique([*_ALWAYS_INTERRUPT, *config.escalation_keywords]),
        },
        "compliancePlan": {"hipaaEnabled": config.hipaa_enabled, "pciEnabled": config.pci_enabled},
        "artifactPlan": {
            "recordingEnabled": config.recording_on,
            "loggingEnabled": config.logging_enabled and not config.pci_enabled,
            "transcriptPlan": {"enabled": config.transcript_enabled and not config.pci_enabled},
        },
        "metadata": {"voicetrail": {"consentRequired": config.consent_required}},
    }
    if config.transcriber_redaction:
        assistant["transcriber"]["redaction"] = _unique(list(config.transcriber_redaction))
    if config.voice_provider and config.voice_id:
        assistant["voice"] = {"provider": config.voice_provider, "voiceId": config.voice_id}
    return assistant
