"""What real Vapi traffic needs beyond the corpus: distinct events without timestamps, side effects that
follow the stored event, owner vs observer, and the answers to every request type."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest

from tests.support.memory import InMemoryNameMemory
from tests.test_live_support import assert_valid
from tests.vapi_corpus import NOW, REAL_DIR, Harness
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.errors import StoreUnavailableError

pytestmark = pytest.mark.unit
CALL = "call-real-traffic"
CONTROL_URL = "https://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/c/control"


def message(kind: str, **fields: Any) -> dict[str, Any]:
    call = {"id": CALL, "monitor": {"controlUrl": CONTROL_URL}, "phoneNumberId": "pn-1"}
    return {"message": {"type": kind, "call": call, **fields}}


def conversation(*turns: str) -> dict[str, Any]:
    messages = [
        {"role": "user" if i % 2 else "bot", "message": t, "time": 1_764_000_000_000 + i * 1000}
        for i, t in enumerate(turns)
    ]
    return {"messages": messages}


def evt_keys(harness: Harness) -> list[str]:
    return sorted(e.event_key for e in harness.store.all_events() if e.record == "EVT")


# ---- exactly-once for the shapes real Vapi sends -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("hang", {}),
        ("speech-update", {"status": "started", "role": "user"}),  # no `turn`
        ("user-interrupted", {}),  # no `turnId`
        ("model-output", {"output": "Sure."}),
        ("conversation-update", {"messagesOpenAIFormatted": []}),
        ("phone-call-control", {"request": "hang-up"}),
    ],
)
def test_two_events_without_timestamp_are_two_items_and_their_resends_none(
    kind: str, fields: dict[str, Any]
) -> None:
    harness = Harness("observer")
    first = message(kind, artifact=conversation("Hello?", "Hi, I need help."), **fields)
    second = message(kind, artifact=conversation("Hello?", "Hi, I need help.", "Sure, one moment."), **fields)
    for payload in (first, second, copy.deepcopy(first), copy.deepcopy(second)):
        assert harness.post(payload)[0] == 200
    keys = evt_keys(harness)
    assert len(keys) == 2, keys
    assert not any("None" in k for k in keys)


@pytest.mark.parametrize(
    ("first_ts", "second_ts", "same_instant_as_first"),
    [
        ("2024-09-16T10:00:00Z", "2024-09-16T10:00:05Z", "2024-09-16T10:00:00.000+00:00"),  # 2024 SDK: ISO
        (1_726_480_800_000, 1_726_480_805_000, 1_726_480_800_000),  # epoch ms
        (1_726_480_800, 1_726_480_805, 1_726_480_800),  # epoch s
    ],
)
def test_timestamps_in_every_shape_tell_events_apart(
    first_ts: Any, second_ts: Any, same_instant_as_first: Any
) -> None:
    harness = Harness("observer")
    for ts in (first_ts, second_ts, same_instant_as_first):
        assert harness.post(message("hang", timestamp=ts))[0] == 200
    keys = evt_keys(harness)
    assert keys == [
        "hang#t1726480800000#" + keys[0].rsplit("#", 1)[1],
        "hang#t1726480805000#" + keys[1].rsplit("#", 1)[1],
    ]
    assert [e.event_ts_ms for e in sorted(harness.store.all_events(), key=lambda e: e.event_key)] == [
        1_726_480_800_000,
        1_726_480_805_000,
    ]


def test_a_user_interrupted_with_turn_id_is_one_per_turn() -> None:
    harness = Harness("observer")
    for turn in ("turn-1", "turn-2", "turn-1"):
        harness.post(message("user-interrupted", turnId=turn))
    assert evt_keys(harness) == ["user-interrupted#turn-1", "user-interrupted#turn-2"]


# ---- side effects follow the stored event --------------------------------------------------------

NAMED = "Yes, that's fine. My name is Maria Gonzalez."


def test_a_retry_after_consent_does_not_remember_what_the_first_delivery_withheld() -> None:
    harness = Harness("owner")
    transcript = message("transcript", role="user", transcriptType="final", transcript=NAMED)
    harness.post(transcript)  # before consent: withheld; the transcript itself grants consent
    assert harness.live.store.get_consent(CALL).state.value == "granted"  # type: ignore[union-attr]
    harness.post(copy.deepcopy(transcript))  # the resend would now keep content and learn the name
    [event] = [e for e in harness.store.all_events() if e.event_type == "transcript"]
    assert event.attributes["content"] == "withheld"
    assert harness.names.known(CALL) == frozenset()


class FlakyNames(InMemoryNameMemory):
    def __init__(self) -> None:
        super().__init__()
        self.fail_next = True

    def remember(self, call_id: str, hashes: frozenset[str], *, now: float) -> None:
        if self.fail_next:
            self.fail_next = False
            raise StoreUnavailableError("name memory write failed (test)")
        super().remember(call_id, hashes, now=now)


def test_a_retry_completes_the_name_memory_a_failed_write_left_out_exactly_as_stored() -> None:
    harness = Harness("observer")
    harness.names = FlakyNames()
    records = harness.service._pipeline.records
    harness.service._pipeline.records = dataclasses.replace(records, names=harness.names)
    transcript = message("transcript", role="user", transcriptType="final", transcript=NAMED)
    with pytest.raises(StoreUnavailableError):  # a 503: Vapi retries
        harness.service.handle(_request(transcript))
    assert harness.names.known(CALL) == frozenset()
    assert harness.post(copy.deepcopy(transcript))[0] == 200
    [event] = [e for e in harness.store.all_events() if e.event_type == "transcript"]
    assert harness.names.known(CALL) == frozenset(str(event.attributes["name_hashes"]).split(","))
    assert len(harness.names.known(CALL)) == 2  # "maria", "gonzalez": keyed hashes only
    assert "Maria" not in json.dumps(event.body)


def _request(envelope: dict[str, Any]) -> Any:
    from tests.conftest import VAPI_SECRET
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail.transport.http import InboundRequest

    body = json.dumps(envelope).encode()
    headers = sign_request(VapiAuthConfig(), body, VAPI_SECRET)
    return InboundRequest(method="POST", path="/vapi/webhook", raw_query="", headers=headers, body=body)


# ---- owner vs observer -----------------------------------------------------------------------------


def test_serving_the_assistant_request_makes_the_call_owned_and_it_is_recorded() -> None:
    harness = Harness("observer")  # nothing pre-marked: only the assistant-request decides
    status, reply = harness.post(message("assistant-request"))
    assert status == 200 and "assistant" in reply
    harness.post(message("status-update", status="in-progress"))
    harness.post(
        message("transcript", role="user", transcriptType="final", transcript="My SSN is 123-45-6789")
    )
    roles = {e.event_type: e.attributes["topology"] for e in harness.store.all_events() if e.record == "EVT"}
    assert roles == {"assistant-request": "owner", "status-update": "owner", "transcript": "owner"}
    [transcript] = [e for e in harness.store.all_events() if e.event_type == "transcript"]
    assert transcript.body["transcript"] == "[withheld: no consent]"  # the owner's consent flow applies


def test_an_observer_never_speaks_into_the_call_nor_withholds_for_a_consent_it_could_not_ask() -> None:
    harness = Harness("observer")
    for text in ("No, I do not want to be recorded.", "I need a supervisor, this is urgent!"):
        harness.post(
            message("transcript", role="user", transcriptType="final", transcript=text, confidence=0.95)
        )
    assert harness.live.controller.sent == []  # type: ignore[attr-defined]
    assert harness.live.store.get_consent(CALL) is None
    assert harness.live.audit.events == []
    stored = [e for e in harness.store.all_events() if e.event_type == "transcript"]
    assert {e.attributes["topology"] for e in stored} == {"observer"}
    assert {e.retention_class for e in stored} == {RetentionClass.CONTENT}
    assert "supervisor" in json.dumps([e.body for e in stored])


def _report(name: str) -> dict[str, Any]:
    payload = json.loads((REAL_DIR / name).read_text())
    payload["message"]["call"]["phoneNumberId"] = "pn-1"
    payload["message"]["summary"] = "The caller asked about the weather."
    return payload


@pytest.mark.parametrize(
    ("policy", "granted_kept", "missing_kept"),
    [("store-redacted", True, True), ("trust-vapi-consent", True, False), ("withhold", False, False)],
)
def test_the_observer_policy_of_the_number_decides(
    policy: str, granted_kept: bool, missing_kept: bool
) -> None:
    harness = Harness("observer", configs={"CONFIG#phone#pn-1": {"observer_policy": policy}})
    harness.post(_report("docs-consent-granted-end-of-call-report.json"))
    harness.post(_report("docs-consent-missing-end-of-call-report.json"))
    kept = {
        e.call_id: e.body["summary"] != "[withheld: no consent]"
        for e in harness.store.all_events()
        if e.event_type == "end-of-call-report"
    }
    assert kept == {"docs-consent-granted": granted_kept, "docs-consent-missing": missing_kept}


# ---- request types ---------------------------------------------------------------------------------


def test_the_legacy_function_call_runs_the_same_tools_and_a_resend_gets_the_same_result() -> None:
    harness = Harness("owner")
    call = message(
        "function-call", functionCall={"name": "record_consent", "parameters": '{"decision": "granted"}'}
    )
    first = harness.post(call)
    again = harness.post(copy.deepcopy(call))
    assert first == again == (200, {"result": "Consent recorded: granted. Continue the conversation."})
    assert harness.live.store.get_consent(CALL).state.value == "granted"  # type: ignore[union-attr]
    assert harness.live.audit.kinds(CALL).count("consent_given") == 1
    unknown = harness.post(message("function-call", functionCall={"name": "sendEmail", "parameters": "{}"}))
    assert unknown == (200, {"result": "Unknown tool."})


@pytest.mark.parametrize(
    ("handoff", "expected"),
    [
        (
            {"assistant_name": "BillingSpecialist"},
            {"destination": {"type": "assistant", "assistantName": "BillingSpecialist"}},
        ),
        (None, {"destination": {}, "error": "No handoff destination is configured for this call."}),
    ],
)
def test_handoff_destination_from_the_number_config_or_a_clean_error(
    handoff: dict[str, str] | None, expected: dict[str, Any]
) -> None:
    config = {"handoff": handoff} if handoff else {}
    harness = Harness("owner", configs={"CONFIG#phone#pn-1": config})
    status, reply = harness.post(
        message("handoff-destination-request", parameters={"destination": "billing"})
    )
    assert (status, reply) == (200, expected)
    assert_valid("ServerMessageResponseHandoffDestinationRequest", reply)


def test_endpointing_and_knowledge_base_get_spec_answers() -> None:
    harness = Harness("owner", configs={"CONFIG#phone#pn-1": {"endpointing_seconds": 1.2}})
    assert harness.post(message("call.endpointing.request", messagesOpenAIFormatted=[])) == (
        200,
        {"timeoutSeconds": 1.2},
    )
    assert harness.post(message("knowledge-base-request", messagesOpenAIFormatted=[])) == (
        200,
        {"documents": []},
    )


def test_a_voice_request_is_stored_then_refused_with_a_documented_422() -> None:
    harness = Harness("owner")
    status, body = harness.post(message("voice-request", text="Hello", sampleRate=24000))
    assert (status, body["error"]) == (422, "wrong_server")
    assert [e.event_type for e in harness.store.all_events()] == ["voice-request"]


def test_the_call_record_names_the_topology() -> None:
    from tests.support.memory import InMemoryCallLedger

    harness = Harness("observer")
    ledger = InMemoryCallLedger()
    harness.service._ledger = ledger
    harness.post(message("status-update", status="ended", endedReason="customer-ended-call"))
    summary = ledger.get_summary(CALL, now=NOW)
    assert summary is not None and summary.topology == "observer"


def test_the_content_policy_is_asked_only_for_messages_that_carry_caller_content() -> None:
    harness = Harness("owner")
    asked: list[str] = []
    live = harness.service._live
    harness.service._live = dataclasses.replace(
        live,
        content_policy=lambda parsed, role: (
            asked.append(parsed.message.type) or live.content_policy(parsed, role)
        ),
    )
    harness.post(message("speech-update", status="started", role="user", turn=1))
    harness.post(message("status-update", status="in-progress"))
    harness.post(message("transcript", role="user", transcriptType="partial", transcript="Hello"))
    harness.post(message("hang", artifact=conversation("Hello?", "Hi.")))
    assert asked == ["transcript", "hang"]
    labels = {e.event_type: e.attributes["content"] for e in harness.store.all_events()}
    assert labels == {
        "speech-update": "none",
        "status-update": "none",
        "transcript": "withheld",
        "hang": "withheld",
    }


def test_a_call_id_no_audit_chain_can_carry_is_stored_and_answered_not_a_500() -> None:
    harness = Harness("observer")
    odd = {
        "message": {
            "type": "transcript",
            "role": "user",
            "transcriptType": "final",
            "transcript": "my SSN is 123-45-6789",
            "call": {"id": 'call "7" / x'},
        }
    }
    assert harness.post(odd) == (200, {})
    assert [e.call_id for e in harness.store.all_events()] == ['call "7" / x']
    assert harness.metrics.total("AuditAppendFailed", source="vapi") == 1  # the alarm's dimensions
