"""What the keys of an ElevenLabs post-call event mean, for the shared payload sanitizer.

Caller content: the transcript turns (`message`, `original_message`, tool-call `params_as_json`, tool
results' `result_value`), `analysis` (summary, title, evaluation rationales, data-collection values), the
conversation's dynamic variables and custom LLM body. Operator configuration: `conversation_config_override`
(prompts, first message, voice). Caller identifiers, stored as keyed hashes: the phone call's
`external_number` and `agent_number`, the `system__caller_id`/`system__called_number` variables, the
telephony callback's From/To/Caller/Called of a failed call, and `user_id` (the integrator's id for the
person, which links conversations like a number does). Dropped: `full_audio` (audio never
reaches the table), tool request headers, and the caller's location fields of a Twilio callback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicetrail.providers.elevenlabs.models import EVENT_TYPES
from voicetrail.providers.payload_sanitizer import PayloadSanitizer, PayloadSpec

if TYPE_CHECKING:
    from voicetrail.domain.callers import CallerHasher
    from voicetrail.redaction import RedactionPolicy, SecondPass

# Twilio status-callback fields that place the caller (city, state, zip, country of both ends).
_LOCATION = frozenset(
    f"{end}{part}"
    for end in ("caller", "called", "from", "to")
    for part in ("city", "state", "zip", "country")
)

ELEVENLABS_SPEC = PayloadSpec(
    type_field="type",
    described_types=EVENT_TYPES,
    common_fields=frozenset({"type", "eventtimestamp", "data"}),
    content=frozenset(
        {
            "transcript",
            "analysis",
            "dynamicvariables",
            "customllmextrabody",
            "feedback",
        }
    ),
    config=frozenset({"conversationconfigoverride"}),
    meta_inside_content=frozenset(),
    structural=frozenset(
        {
            "conversationid",
            "agentid",
            "status",
            "role",
            "type",
            "direction",
            "phonenumberid",
            "callsid",
            "streamsid",
            "failurereason",
            "authorizationmethod",
            "terminationreason",
            "mainlanguage",
            "language",
            "requestid",
            "toolname",
            "sourcemedium",
            "callsuccessful",
            "criteriaid",
            "datacollectionid",
            "result",
            "apiversion",
            "callstatus",
            "sipresponsecode",
            "callbacksource",
            "accountsid",
            "sequencenumber",
            "voiceid",
        }
    ),
    content_structural=frozenset(
        {
            "role",
            "requestid",
            "toolname",
            "type",
            "criteriaid",
            "datacollectionid",
            "systemconversationid",
            "systemagentid",
            "systemcallsid",
            "systemcalldurationsecs",
        }
    ),
    numbers=frozenset(
        {
            "externalnumber",
            "agentnumber",
            "systemcallerid",
            "systemcallednumber",
            "from",
            "to",
            "caller",
            "called",
            "userid",
        }
    ),
    dropped=frozenset({"fullaudio", "headers", "apikey", "secret", "token", "password", "authorization"})
    | _LOCATION,
    json_text=frozenset({"paramsasjson", "resultvalue", "body"}),
    arguments=frozenset({"paramsasjson", "resultvalue", "dynamicvariables", "datacollectionresults"}),
    second_pass=frozenset({"message", "transcriptsummary"}),
)


def sanitizer_for_event(
    hasher: CallerHasher, policy: RedactionPolicy | None, second_pass: SecondPass | None
) -> PayloadSanitizer:
    """The pipeline's sanitizer factory for ElevenLabs events."""
    return PayloadSanitizer(ELEVENLABS_SPEC, hasher, policy, second_pass=second_pass)
