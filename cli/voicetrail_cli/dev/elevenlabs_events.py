"""Realistic ElevenLabs Agents post-call webhooks, one generator per event type, for the tests, the demo
and `sign`.

Shapes follow ElevenLabs' post-call webhook docs and the official SDK's conversation types
(tests/fixtures/elevenlabs/PROVENANCE.md). An `ElevenLabsCallScript` is one synthetic phone conversation
with a synthetic caller (`simulate.identities.Identity`) whose personal data is planted wherever
ElevenLabs carries caller content: transcript turns (`message`, `original_message`), tool-call parameters
and results, the analysis summary, title and data-collection values, dynamic variables, the phone-call
metadata and, for a failed call, the telephony provider's own callback fields.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voicetrail_cli.dev.simulate.identities import Identity, synthetic_identity

OUR_NUMBER = "+14155550143"
_B32 = "0123456789abcdefghjkmnpqrstvwxyz"


def _ulid(rng: random.Random) -> str:
    return "".join(rng.choice(_B32) for _ in range(26))


@dataclass(frozen=True)
class ElevenLabsCallScript:
    """One synthetic ElevenLabs phone conversation."""

    conversation_id: str
    agent_id: str
    identity: Identity
    start_s: int
    call_sid: str
    direction: str = "inbound"
    turns: tuple[tuple[str, str], ...] = ()


def script(rng: random.Random, *, start_s: int = 1_764_979_200) -> ElevenLabsCallScript:
    identity = synthetic_identity(rng)
    turns: list[tuple[str, str]] = [("agent", "Hello, this is the Harbor Health assistant. How can I help?")]
    for line in identity.user_lines()[1:6]:
        turns.append(("user", line))
        turns.append(("agent", "Thanks, I've got that."))
    return ElevenLabsCallScript(
        conversation_id="conv_" + _ulid(rng),
        agent_id="agent_" + _ulid(rng),
        identity=identity,
        start_s=start_s,
        call_sid="CA" + "".join(rng.choice("0123456789abcdef") for _ in range(32)),
        turns=tuple(turns),
    )


def _turn_metrics(i: int) -> dict[str, Any]:
    """An agent reply's time to first byte of the model and of the voice, in the documented shape (the
    platform sends none for the greeting): varied, but fixed per turn so a replay sends the same body."""
    return {
        "metrics": {
            "convai_llm_service_ttfb": {"elapsed_time": round(0.31 + 0.07 * (i % 5), 2)},
            "convai_tts_service_ttfb": {"elapsed_time": round(0.18 + 0.04 * (i % 3), 2)},
        }
    }


def _transcript(s: ElevenLabsCallScript) -> list[dict[str, Any]]:
    who = s.identity
    turns: list[dict[str, Any]] = []
    for i, (role, text) in enumerate(s.turns):
        turn: dict[str, Any] = {
            "role": role,
            "message": text,
            "tool_calls": [],
            "tool_results": [],
            "feedback": None,
            "time_in_call_secs": 3 * i,
            "conversation_turn_metrics": _turn_metrics(i) if role == "agent" and i else None,
            "interrupted": False,
            "original_message": text if role == "user" else None,
            "source_medium": "audio",
        }
        if i == 3:
            params = {"full_name": who.name, "phone": who.phone, "date_of_birth": who.dob_numeric}
            turn["tool_calls"] = [
                {
                    "type": "webhook",
                    "request_id": "lookup_member_1",
                    "tool_name": "lookup_member",
                    "params_as_json": json.dumps(params),
                    "tool_has_been_called": True,
                }
            ]
            turn["tool_results"] = [
                {
                    "type": "webhook",
                    "request_id": "lookup_member_1",
                    "tool_name": "lookup_member",
                    "result_value": json.dumps({"member_id": who.member_id, "email": who.email}),
                    "is_error": False,
                    "tool_has_been_called": True,
                    "tool_latency_secs": 0.41,
                }
            ]
        turns.append(turn)
    return turns


def _phone_call(s: ElevenLabsCallScript) -> dict[str, Any]:
    return {
        "type": "twilio",
        "direction": s.direction,
        "phone_number_id": "phnum_" + s.conversation_id[5:],
        "agent_number": OUR_NUMBER,
        "external_number": s.identity.phone,
        "stream_sid": "MZ" + s.call_sid[2:],
        "call_sid": s.call_sid,
    }


def post_call_transcription(s: ElevenLabsCallScript) -> dict[str, Any]:
    who = s.identity
    duration = 3 * len(s.turns) + 4
    return {
        "type": "post_call_transcription",
        "event_timestamp": s.start_s + duration + 6,
        "data": {
            "agent_id": s.agent_id,
            "conversation_id": s.conversation_id,
            "status": "done",
            "user_id": None,
            "transcript": _transcript(s),
            "metadata": {
                "start_time_unix_secs": s.start_s,
                "accepted_time_unix_secs": s.start_s,
                "call_duration_secs": duration,
                "cost": 412,
                "deletion_settings": {
                    "deletion_time_unix_secs": s.start_s + 63_072_000,
                    "deleted_logs_at_time_unix_secs": None,
                    "deleted_audio_at_time_unix_secs": None,
                    "deleted_transcript_at_time_unix_secs": None,
                    "delete_transcript_and_pii": True,
                    "delete_audio": True,
                },
                "feedback": {"overall_score": None, "likes": 0, "dislikes": 0},
                "authorization_method": "public",
                "charging": {"dev_discount": False},
                "phone_call": _phone_call(s),
                "termination_reason": "Call ended by remote party",
                "main_language": "en",
            },
            "analysis": {
                "evaluation_criteria_results": {
                    "verified_identity": {
                        "criteria_id": "verified_identity",
                        "result": "success",
                        "rationale": f"The caller gave their name, {who.name}, and date of birth {who.dob}.",
                    }
                },
                "data_collection_results": {
                    "card_number": {
                        "data_collection_id": "card_number",
                        "value": who.card,
                        "rationale": f"The caller read the card number {who.card_grouped}.",
                    }
                },
                "call_successful": "success",
                "transcript_summary": (
                    f"{who.name} asked about a bill and gave social security number {who.ssn}."
                ),
                "call_summary_title": f"Billing question from {who.name}",
            },
            "conversation_initiation_client_data": {
                "conversation_config_override": {"agent": {"language": "en"}, "tts": {"voice_id": None}},
                "custom_llm_extra_body": {},
                "dynamic_variables": {
                    "system__caller_id": who.phone,
                    "system__called_number": OUR_NUMBER,
                    "system__call_sid": s.call_sid,
                    "system__conversation_id": s.conversation_id,
                    "customer_name": who.first,
                },
            },
            "has_audio": True,
            "has_user_audio": True,
            "has_response_audio": True,
        },
    }


def post_call_audio(s: ElevenLabsCallScript, *, size: int = 2048) -> dict[str, Any]:
    """The audio webhook: the whole call as base64 MP3 (an ID3 header and filler stand in for audio)."""
    filler = (s.conversation_id.encode("ascii") * (size // len(s.conversation_id) + 1))[:size]
    audio = b"ID3\x04\x00\x00\x00\x00\x00\x00" + filler
    return {
        "type": "post_call_audio",
        "event_timestamp": s.start_s + 3 * len(s.turns) + 9,
        "data": {
            "agent_id": s.agent_id,
            "conversation_id": s.conversation_id,
            "full_audio": base64.b64encode(audio).decode("ascii"),
        },
    }


def call_initiation_failure(s: ElevenLabsCallScript, *, reason: str = "busy") -> dict[str, Any]:
    """An outbound call that never connected; `metadata.body` is Twilio's own status callback."""
    return {
        "type": "call_initiation_failure",
        "event_timestamp": s.start_s + 20,
        "data": {
            "agent_id": s.agent_id,
            "conversation_id": s.conversation_id,
            "failure_reason": reason,
            "metadata": {
                "type": "twilio",
                "body": {
                    "CallSid": s.call_sid,
                    "CallStatus": reason,
                    "Direction": "outbound-api",
                    "From": OUR_NUMBER,
                    "To": s.identity.phone,
                    "Called": s.identity.phone,
                    "Caller": OUR_NUMBER,
                    "ToCountry": "US",
                    "Duration": "0",
                    "SipResponseCode": "486" if reason == "busy" else "480",
                    "ApiVersion": "2010-04-01",
                },
            },
        },
    }


GENERATORS: dict[str, Callable[[ElevenLabsCallScript], dict[str, Any]]] = {
    "post_call_transcription": post_call_transcription,
    "post_call_audio": post_call_audio,
    "call_initiation_failure": call_initiation_failure,
}


def call_stream(s: ElevenLabsCallScript) -> list[dict[str, Any]]:
    """The webhooks of one connected call in delivery order (transcription, then audio)."""
    return [post_call_transcription(s), post_call_audio(s)]


def resend(payload: dict[str, Any]) -> dict[str, Any]:
    """A resend of `payload`: the same event re-serialised with its keys in another order."""
    copied = json.loads(json.dumps(payload))
    return dict(reversed(list(copied.items())))
