"""What the keys of a Retell event mean, for the shared payload sanitizer.

Caller content: the transcript in every form (`transcript`, `transcript_object`, `transcript_with_tool_calls`
and its scrubbed twin), tool-call arguments and results, `call_analysis` (summary and custom analysis), and
the per-call variables and metadata the operator attaches to the caller (`retell_llm_dynamic_variables`,
`collected_dynamic_variables`, `metadata`). Numbers: `from_number`, `to_number`, a transfer's destination.
Dropped: a web call's `access_token` (it joins the call), `custom_sip_headers` (they may carry credentials),
any header or key field, and the per-word lists of the transcript turns (`words`): one word per string
cannot be redacted (a card number read out is four harmless-looking groups), and the turn's `content`
already holds the same words, redacted as a whole. Links (`recording_url`, `public_log_url`...) become a
marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicetrail.providers.payload_sanitizer import PayloadSanitizer, PayloadSpec
from voicetrail.providers.retell.models import EVENT_TYPES

if TYPE_CHECKING:
    from voicetrail.domain.callers import CallerHasher
    from voicetrail.redaction import RedactionPolicy, SecondPass

RETELL_SPEC = PayloadSpec(
    type_field="event",
    described_types=EVENT_TYPES,
    common_fields=frozenset({"event", "call", "data"}),
    content=frozenset(
        {
            "transcript",
            "transcriptobject",
            "transcriptwithtoolcalls",
            "scrubbedtranscriptwithtoolcalls",
            "callanalysis",
            "retellllmdynamicvariables",
            "collecteddynamicvariables",
            "metadata",
        }
    ),
    config=frozenset(),
    meta_inside_content=frozenset(),
    structural=frozenset(
        {
            "callid",
            "agentid",
            "agentname",
            "agentversion",
            "calltype",
            "callstatus",
            "direction",
            "disconnectionreason",
            "datastoragesetting",
            "usersentiment",
            "event",
            "role",
            "toolcallid",
            "name",
            "product",
            "type",
            "twiliocallsid",
            "formernodeid",
            "formernodename",
            "newnodeid",
            "newnodename",
            "transitiontype",
        }
    ),
    content_structural=frozenset(
        {"role", "toolcallid", "name", "formernodeid", "newnodeid", "transitiontype"}
    ),
    numbers=frozenset({"fromnumber", "tonumber", "transferdestination", "number"}),
    dropped=frozenset(
        {
            "accesstoken",
            "customsipheaders",
            "headers",
            "apikey",
            "secret",
            "token",
            "password",
            "authorization",
            "words",
        }
    ),
    json_text=frozenset({"arguments", "content"}),
    arguments=frozenset(
        {"arguments", "customanalysisdata", "retellllmdynamicvariables", "collecteddynamicvariables"}
    ),
    second_pass=frozenset({"transcript", "callsummary"}),
)


def sanitizer_for_event(
    hasher: CallerHasher, policy: RedactionPolicy | None, second_pass: SecondPass | None
) -> PayloadSanitizer:
    """The pipeline's sanitizer factory for Retell events."""
    return PayloadSanitizer(RETELL_SPEC, hasher, policy, second_pass=second_pass)
