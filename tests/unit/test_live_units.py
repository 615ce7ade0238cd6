"""voicetrail.domain.live in process: config, assistant shape, consent machine, escalation, tools, transfers.

Every reply shape we send to Vapi is validated against Vapi's OpenAPI spec with unknown properties
forbidden (tests/test_live_support.py).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from tests.conftest import PEPPER, VAPI_SECRET, load_fixture
from tests.support.live import InMemoryLive
from tests.support.memory import InMemoryEventStore, MemoryLiveStore, StaticConfigSource
from tests.support.metrics import MemoryRecorder
from tests.support.vapi import vapi_service
from tests.test_live_support import FakeControlServer, assert_valid
from voicetrail.domain.audit.trail import validate_details
from voicetrail.domain.live.assistant import build_assistant
from voicetrail.domain.live.config import (
    BrokenConfigError,
    ConfigResolver,
    LiveConfig,
    TransferTarget,
    parse_config,
)
from voicetrail.domain.live.consent_flow import classify_utterance, transition
from voicetrail.domain.live.control import ControlError, HostPolicy, HttpCallController, RecordingController
from voicetrail.domain.live.destinations import destination
from voicetrail.domain.live.escalation import detect
from voicetrail.domain.live.store import ClaimResult, ConsentRecord, ConsentState
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.providers.vapi.live_tools import parse_call, single_line
from voicetrail.providers.vapi.messages import ToolCall
from voicetrail.transport.http import InboundRequest

pytestmark = pytest.mark.unit
NOW = 1_764_079_300.0
CALL = "73daba4d-2bcc-4cca-8e49-3d7903467ade"
PHONE = "5f1b8a8e-7a2c-4b8e-9a51-1f7c2c1d9e10"
CONTROL = f"https://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/{CALL}/control"
HUMAN = {"type": "number", "number": "+14155550100", "mode": "warm-summary"}


# ---- harness ---------------------------------------------------------------------------------------


def resolver(value: str) -> SecretResolver:
    return SecretResolver(SecretRef("env", "UNUSED"), fetch=lambda ref, age: value)


class Harness:
    def __init__(self, configs: dict[str, Any] | None = None, *, fail_control: bool = False) -> None:
        self.now = NOW
        self.controller = RecordingController(fail=fail_control)
        self.live = InMemoryLive(configs=configs or {}, controller=self.controller, clock=lambda: self.now)
        self.events = InMemoryEventStore()
        self.service = vapi_service(
            auth=VapiAuthConfig(),
            secrets=resolver(VAPI_SECRET),
            pepper=resolver(PEPPER),
            store=self.events,
            retention=RetentionPolicy(),
            metrics=MemoryRecorder(),
            logger=Logger(service="test"),
            max_body_bytes=1_048_576,
            clock=lambda: self.now,
            **self.live.service_kwargs(),
        )

    def send(self, message: dict[str, Any]) -> Any:
        body = json.dumps({"message": message}).encode()
        headers = {k.lower(): v for k, v in sign_request(VapiAuthConfig(), body, VAPI_SECRET).items()}
        reply = self.service.handle(InboundRequest("POST", "/vapi/webhook", "", headers, body))
        assert reply.status == 200
        return reply.body

    @property
    def audit(self) -> list[str]:
        return self.live.audit.kinds(CALL)


def call_message(type_: str, ts: int = 1_764_079_200_000, **fields: Any) -> dict[str, Any]:
    base = load_fixture("vapi/assistant-request.json")["message"]
    message = {
        "type": type_,
        "timestamp": ts,
        "call": copy.deepcopy(base["call"]),
        "customer": base["customer"],
    }
    message.update(fields)
    return message


def user_says(text: str, ts: int, kind: str = "final", confidence: float | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"role": "user", "transcriptType": kind, "transcript": text}
    if confidence is not None:
        extra["confidence"] = confidence
    return call_message("transcript", ts, **extra)


def tool_calls(*calls: dict[str, Any], ts: int = 1_764_079_210_000) -> dict[str, Any]:
    return call_message("tool-calls", ts, toolCallList=list(calls))


# ---- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected_key"),
    [
        ({}, "builtin"),
        ({"CONFIG#default": {}}, "default"),
        ({"CONFIG#default": {}, "CONFIG#assistant#054ea7e1-a5fc-4b9c-8c7c-9c6e80d21921": {}}, "assistant"),
        ({"CONFIG#default": {}, f"CONFIG#phone#{PHONE}": {"hipaa_enabled": True}}, "phone"),
    ],
)
def test_config_precedence_phone_then_assistant_then_default(
    items: dict[str, Any], expected_key: str
) -> None:
    source = StaticConfigSource({k: json.dumps(v) for k, v in items.items()})
    resolved = ConfigResolver(source).resolve(PHONE, "054ea7e1-a5fc-4b9c-8c7c-9c6e80d21921")
    assert resolved.key == expected_key
    assert source.round_trips == 1  # the phone, assistant and default items are read together


def test_the_builtin_default_is_exactly_a_validated_default_config() -> None:
    """builtin_default() skips the validator (no schema build at cold start): it must equal LiveConfig()."""
    from voicetrail.domain.live.config import builtin_default

    assert builtin_default() == LiveConfig()
    assert builtin_default().model_dump() == LiveConfig().model_dump()


def test_a_cached_config_ends_the_walk_and_only_missing_keys_are_read() -> None:
    ticks = [0.0]
    source = StaticConfigSource({f"CONFIG#phone#{PHONE}": "{}", "CONFIG#default": "{}"})
    configs = ConfigResolver(source, cache_seconds=30, clock=lambda: ticks[0])
    assert configs.resolve(PHONE, None).key == "phone"
    assert source.fetches == 2  # phone and default, one round trip
    assert configs.resolve(PHONE, None).key == "phone"
    assert configs.resolve(None, None).key == "default"
    assert (source.round_trips, source.fetches) == (1, 2)  # all from the cache


@pytest.mark.parametrize(
    ("stale", "expected"),
    [
        ({}, "unavailable"),  # nothing cached: the outage is an error, never the builtin default
        ({f"CONFIG#phone#{PHONE}": "{}"}, "phone"),  # the phone's stale config serves
        ({"CONFIG#default": "{}"}, "default"),  # stale too: the phone had no config, the default serves
    ],
)
def test_a_source_outage_serves_stale_entries_in_precedence_order(
    stale: dict[str, str], expected: str
) -> None:
    from voicetrail.domain.live.config import ConfigUnavailableError

    ticks = [0.0]
    source = StaticConfigSource(stale)
    configs = ConfigResolver(source, cache_seconds=30, clock=lambda: ticks[0])
    if stale:
        configs.resolve(PHONE, None)  # fills the cache
    ticks[0] = 31.0

    def down(keys: Any) -> dict[str, str | None]:
        raise OSError("down")

    source.fetch_many = down  # type: ignore[method-assign]
    if expected == "unavailable":
        with pytest.raises(ConfigUnavailableError, match=r"\(OSError\)"):
            configs.resolve(PHONE, None)
    else:
        assert configs.resolve(PHONE, None).key == expected


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[]",
        json.dumps({"consent_policy": "shout"}),
        json.dumps({"unknown_field": 1}),
        json.dumps({"transfer": {"type": "number"}}),
        json.dumps({"transfer": {"type": "number", "number": "555"}}),
    ],
)
def test_broken_configs_are_rejected_without_quoting_them(raw: str) -> None:
    with pytest.raises(BrokenConfigError) as info:
        parse_config(raw)
    assert raw not in str(info.value)


def test_config_lookups_are_cached_and_survive_a_source_outage() -> None:
    ticks = [0.0]
    source = StaticConfigSource({"CONFIG#default": "{}"})
    configs = ConfigResolver(source, cache_seconds=30, clock=lambda: ticks[0])
    configs.resolve(PHONE, None)
    fetched = source.fetches
    configs.resolve(PHONE, None)
    assert source.fetches == fetched  # served from the cache
    ticks[0] = 31.0

    def boom(key: str) -> str | None:
        raise OSError("down")

    source.fetch = boom  # type: ignore[method-assign]
    assert configs.resolve(PHONE, None).key == "default"  # stale value while the source is down


def test_cache_is_capped_at_60_seconds() -> None:
    ticks = [0.0]
    source = StaticConfigSource({"CONFIG#default": "{}"})
    configs = ConfigResolver(source, cache_seconds=3600, clock=lambda: ticks[0])
    configs.resolve(None, None)
    ticks[0] = 61.0
    before = source.fetches
    configs.resolve(None, None)
    assert source.fetches > before


# ---- assistant-request -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"hipaa_enabled": True},
        {"pci_enabled": True, "recording_enabled": False},
        {
            "llm_provider": "anthropic",
            "llm_model": "claude-sonnet-4-6",
            "voice_provider": "vapi",
            "voice_id": "Elliot",
        },
        {"consent_required": False, "escalation_keywords": ["urgent", "wait"], "transfer": HUMAN},
        {"transcriber_model": "nova-3-medical", "endpointing_seconds": 1.2, "stop_num_words": 0},
        {"hipaa_enabled": True, "transcriber_redaction": ["pci", "pii", "phi", "numbers"]},
    ],
)
def test_assistant_request_reply_matches_vapis_schema(config: dict[str, Any]) -> None:
    h = Harness({f"CONFIG#phone#{PHONE}": config})
    reply = h.send(call_message("assistant-request"))
    assert_valid("ServerMessageResponseAssistantRequest", reply)
    assistant = reply["assistant"]
    assert_valid("CreateAssistantDTO", assistant)
    tools = {t["type"] for t in assistant["model"]["tools"]}
    assert tools == {"transferCall", "endCall", "function"}
    transfer_tool = next(t for t in assistant["model"]["tools"] if t["type"] == "transferCall")
    assert "destinations" not in transfer_tool  # so Vapi asks us (transfer-destination-request)
    assert {"transcript", "speech-update", "status-update", "tool-calls"} <= set(assistant["serverMessages"])
    assert {"transfer-destination-request", "end-of-call-report"} <= set(assistant["serverMessages"])
    assert assistant["startSpeakingPlan"]["waitSeconds"] >= 0.8
    assert (
        "urgent" in assistant["transcriber"]["keyterm"] and "consent" in assistant["transcriber"]["keyterm"]
    )


@pytest.mark.parametrize(
    ("config", "hipaa", "recording"),
    [
        ({}, False, True),
        ({"hipaa_enabled": True}, True, False),
        ({"hipaa_enabled": True, "recording_enabled": True}, True, True),
    ],
)
def test_compliance_and_artifact_plans_follow_policy(
    config: dict[str, Any], hipaa: bool, recording: bool
) -> None:
    assistant = build_assistant(LiveConfig.model_validate(config))
    assert assistant["compliancePlan"]["hipaaEnabled"] is hipaa
    assert assistant["artifactPlan"]["recordingEnabled"] is recording


def test_broken_config_answers_an_error_not_a_5xx() -> None:
    h = Harness({f"CONFIG#phone#{PHONE}": "{broken"})
    reply = h.send(call_message("assistant-request"))
    assert set(reply) == {"error"}
    assert_valid("ServerMessageResponseAssistantRequest", reply)
    assert "broken" not in reply["error"]


def test_assistant_request_starts_the_consent_machine_once() -> None:
    h = Harness()
    h.send(call_message("assistant-request"))
    h.send(call_message("assistant-request"))  # a retry
    assert h.audit == ["consent_asked"]
    assert h.live.store.consent[CALL].state is ConsentState.ASKED


def test_returning_caller_lookup_is_cached_with_hit_and_miss_metrics() -> None:
    h = Harness({"CONFIG#default": {"reuse_prior_consent": True}})
    h.send(call_message("assistant-request"))
    h.send(user_says("Yes, that's fine.", 1_764_079_201_000))
    assert h.live.store.consent[CALL].state is ConsentState.GRANTED
    reads = h.live.store.caller_reads
    for n in range(2):
        other = call_message("assistant-request")
        other["call"]["id"] = f"second-call-{n}"
        reply = h.send(other)
        assert reply["assistant"]["firstMessage"].startswith("Welcome back")
    assert h.live.metrics.total("ConsentLookupCacheHit") == 2
    assert h.live.metrics.total("ConsentLookupCacheMiss") == 1
    assert h.live.store.caller_reads == reads  # no store read for the cached caller
    assert "granted" in h.live.store.consent["second-call-1"].state


# ---- consent state machine ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "asks", "decision", "max_reasks", "new_state", "action"),
    [
        (None, 1, "granted", 2, "granted", "none"),
        (ConsentState.ASKED, 1, "denied", 2, "denied", "policy"),
        (ConsentState.ASKED, 1, "unclear", 2, "unclear", "reask"),
        (ConsentState.UNCLEAR, 2, "unclear", 2, "unclear", "reask"),
        (ConsentState.UNCLEAR, 3, "unclear", 2, "denied", "policy"),
        (ConsentState.ASKED, 1, "unclear", 0, "denied", "policy"),
        (ConsentState.UNCLEAR, 3, "granted", 2, "granted", "none"),
        (ConsentState.GRANTED, 1, "denied", 2, "granted", "none"),
        (ConsentState.DENIED, 1, "granted", 2, "denied", "none"),
    ],
)
def test_consent_transitions(
    state: ConsentState | None, asks: int, decision: Any, max_reasks: int, new_state: str, action: str
) -> None:
    current = None if state is None else ConsentRecord(state=state, asks=asks, version=3)
    step = transition(current, decision, max_reasks=max_reasks, source="transcript", now_ms=1)
    assert step.record.state.value == new_state
    assert step.action.value == action
    if step.changed:
        assert step.record.version == (current.version + 1 if current else 1)


@pytest.mark.parametrize(
    ("utterance", "decision"),
    [
        ("Yes, that's fine, go ahead.", "granted"),
        ("No, I don't want to be recorded.", "denied"),
        ("What is this about?", "unclear"),
    ],
)
def test_utterances_are_classified_by_voicetrail_consent(utterance: str, decision: str) -> None:
    assert classify_utterance(utterance) == decision


@pytest.mark.parametrize(
    ("policy", "expected_actions"),
    [("end-call", ["say"]), ("transfer", ["transfer"]), ("continue", [])],
)
def test_denial_policy(policy: str, expected_actions: list[str]) -> None:
    h = Harness({"CONFIG#default": {"consent_policy": policy, "transfer": HUMAN}})
    h.send(call_message("assistant-request"))
    h.send(user_says("No, I do not consent to recording.", 1_764_079_201_000))
    assert h.controller.actions() == expected_actions
    if policy == "end-call":
        payload = h.controller.sent[0][1]
        assert payload["endCallAfterSpoken"] is True
        assert_valid("ClientInboundMessageSay", payload)
    if policy == "transfer":
        assert_valid("ClientInboundMessageTransfer", h.controller.sent[0][1])
        assert "transfer" in h.audit
    assert "consent_denied" in h.audit


def test_end_call_falls_back_to_end_call_message_when_say_fails() -> None:
    class FlakyController(RecordingController):
        def send(self, control_url: str, payload: Any) -> Any:
            self.sent.append((control_url, dict(payload)))
            if payload["type"] == "say":
                raise ControlError("down")
            return None

    h = Harness()
    h.live.features._consent._control = FlakyController()  # type: ignore[attr-defined]
    h.send(call_message("assistant-request"))
    h.send(user_says("No, I do not consent.", 1_764_079_201_000))
    assert h.live.features._consent._control.actions() == ["say", "end-call"]  # type: ignore[attr-defined]


def test_without_consent_no_caller_content_is_stored() -> None:
    h = Harness()
    h.send(call_message("assistant-request"))
    h.send(user_says("No, do not record me. My card is 4111 1111 1111 1111", 1_764_079_201_000))
    h.send(user_says("my name is Maria Gonzalez", 1_764_079_202_000))
    h.send(
        call_message(
            "end-of-call-report",
            1_764_079_209_000,
            endedReason="assistant-ended-call",
            artifact={"transcript": "User: my name is Maria Gonzalez"},
            analysis={"summary": "Maria called"},
        )
    )
    stored = json.dumps([e.body for e in h.events.all_events()])
    assert "Maria" not in stored and "4111" not in stored and "do not record" not in stored
    transcripts = [e for e in h.events.all_events() if e.event_type == "transcript"]
    assert len(transcripts) == 2  # metadata is still kept


def test_after_consent_content_is_stored_redacted() -> None:
    h = Harness()
    h.send(call_message("assistant-request"))
    h.send(user_says("Yes, that's fine.", 1_764_079_201_000))
    h.send(user_says("I am calling about my bill", 1_764_079_202_000))
    stored = json.dumps([e.body for e in h.events.all_events()])
    assert "calling about my bill" in stored


def test_unclear_then_granted_reasks_once_and_audits_every_transition() -> None:
    h = Harness()
    h.send(call_message("assistant-request"))
    h.send(user_says("Hmm, what is this about?", 1_764_079_201_000))
    h.send(user_says("Okay, yes, that's fine.", 1_764_079_202_000))
    assert h.controller.actions() == ["say"]
    assert h.audit == ["consent_asked", "consent_asked", "consent_given"]
    for event in h.live.audit.events:
        validate_details(event.details)
        assert event.at_ms > 0


def test_unclear_too_often_applies_the_denial_policy() -> None:
    h = Harness({"CONFIG#default": {"consent_max_reasks": 1}})
    h.send(call_message("assistant-request"))
    h.send(user_says("Pardon?", 1_764_079_201_000))
    h.send(user_says("Sorry, what?", 1_764_079_202_000))
    assert h.live.store.consent[CALL].state is ConsentState.DENIED
    assert h.controller.actions() == ["say", "say"]
    assert h.controller.sent[-1][1]["endCallAfterSpoken"] is True


# ---- escalation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "confidence", "fires"),
    [
        ("this is urgent", None, True),
        ("It's an EMERGENCY!", 0.95, True),
        ("I need a human please", 0.8, True),
        ("get me your supervisor", None, True),
        ("this is urgent", 0.5, False),  # a low-confidence partial is ignored
        ("insurgent groups", None, False),  # word boundaries
        ("I need a humane society", None, False),
        ("hello there", None, False),
    ],
)
def test_detect_urgent_intent(text: str, confidence: float | None, fires: bool) -> None:
    trigger = detect(text, confidence=confidence, transcript_type="partial", config=LiveConfig())
    assert (trigger is not None) is fires


def test_urgent_barge_in_transfers_once_and_audits_without_words() -> None:
    h = Harness({"CONFIG#default": {"transfer": HUMAN}})
    h.send(call_message("assistant-request"))
    h.send(call_message("speech-update", 1_764_079_201_000, status="started", role="assistant", turn=1))
    h.send(user_says("this is urgent I need", 1_764_079_201_300, kind="partial", confidence=0.9))
    h.send(user_says("this is urgent I need a human", 1_764_079_201_600, kind="partial", confidence=0.9))
    h.send(user_says("this is urgent I need a human now", 1_764_079_205_000, kind="final", confidence=0.95))
    assert h.controller.actions() == ["transfer"]
    assert_valid("ClientInboundMessageTransfer", h.controller.sent[0][1])
    escalation = [e for e in h.live.audit.events if e.kind == "escalation"]
    assert len(escalation) == 1 and escalation[0].details["trigger"] == "keyword"
    assert "urgent" not in json.dumps(escalation[0].details)


def test_wait_wait_wait_is_one_action() -> None:
    h = Harness({"CONFIG#default": {"transfer": HUMAN, "escalation_keywords": ["wait"]}})
    for n, text in enumerate(["wait", "wait wait", "wait wait wait"]):
        h.send(user_says(text, 1_764_079_201_000 + 250 * n, kind="partial"))
    assert h.controller.actions() == ["transfer"]
    assert h.live.metrics.total("Escalation", outcome="debounced") == 2


def test_debounce_window_governs_a_retry_after_a_failed_transfer() -> None:
    store = MemoryLiveStore()
    assert store.claim_escalation("c", now_ms=1000, debounce_ms=800, now=NOW) is ClaimResult.CLAIMED
    store.finish_escalation("c", ok=False, now=NOW)
    assert store.claim_escalation("c", now_ms=1500, debounce_ms=800, now=NOW) is ClaimResult.DEBOUNCED
    assert store.claim_escalation("c", now_ms=1900, debounce_ms=800, now=NOW) is ClaimResult.CLAIMED
    store.finish_escalation("c", ok=True, now=NOW)
    assert store.claim_escalation("c", now_ms=9000, debounce_ms=800, now=NOW) is ClaimResult.ALREADY


def test_concurrent_urgent_transcripts_escalate_once() -> None:
    h = Harness({"CONFIG#default": {"transfer": HUMAN}})
    barrier = threading.Barrier(8)

    def deliver(n: int) -> None:
        barrier.wait()
        h.send(user_says(f"emergency {n}", 1_764_079_201_000 + 2000 * n, kind="partial"))

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert h.controller.actions() == ["transfer"]


def test_the_rule_as_configured_is_kept_when_it_fires() -> None:
    h = Harness(
        {"CONFIG#default": {"transfer": HUMAN, "escalation_keywords": ["billing emergency", "urgent"]}}
    )
    h.send(user_says("this is urgent", 1_764_079_201_000, kind="partial", confidence=0.9))
    (snapshot,) = h.live.store.rule_snapshots[CALL]
    (record,) = [e for e in h.live.audit.events if e.kind == "escalation"]
    assert snapshot.keyword == "urgent" and snapshot.rule == 1 and snapshot.config_key == "default"
    assert record.details["config"] == snapshot.code == "c" + snapshot.sha[:16]  # the chain binds it
    assert json.loads(snapshot.config_json)["escalation_keywords"] == ["billing emergency", "urgent"]


def test_escalation_without_a_destination_is_audited_not_sent() -> None:
    h = Harness()
    h.send(user_says("emergency", 1_764_079_201_000, kind="partial"))
    assert h.controller.actions() == []
    assert "escalation" in h.audit


# ---- transfer-destination-request ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        {"type": "number", "number": "+14155550100"},
        {"type": "number", "number": "+14155550100", "extension": "101", "mode": "warm-message"},
        {
            "type": "sip",
            "sip_uri": "sip:desk@pbx.example.com",
            "mode": "warm-summary",
            "caller_id": "{{customer.number}}",
        },
    ],
)
def test_transfer_destination_from_config(target: dict[str, Any]) -> None:
    h = Harness({"CONFIG#default": {"transfer": target}})
    reply = h.send(call_message("transfer-destination-request"))
    assert_valid("ServerMessageResponseTransferDestinationRequest", reply)
    assert reply["destination"]["type"] == target["type"]
    assert "transfer" in h.audit


def test_transfer_destination_without_config_is_an_error() -> None:
    reply = Harness().send(call_message("transfer-destination-request"))
    assert set(reply) == {"error"}
    assert_valid("ServerMessageResponseTransferDestinationRequest", reply)


def test_warm_summary_mode_sets_the_transfer_plan() -> None:
    dest = destination(TransferTarget(number="+14155550100", mode="warm-summary"))
    assert dest["transferPlan"]["mode"] == "warm-transfer-say-summary"


# ---- tool-calls -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name", "arguments"),
    [
        (
            {
                "id": "a",
                "type": "function",
                "function": {"name": "record_consent", "arguments": '{"decision": "granted"}'},
            },
            "record_consent",
            {"decision": "granted"},
        ),
        (
            {"id": "b", "function": {"name": "record_consent", "arguments": {"decision": "denied"}}},
            "record_consent",
            {"decision": "denied"},
        ),
        ({"id": "c", "name": "lookup", "parameters": {"q": 1}}, "lookup", {"q": 1}),
        ({"id": "d", "name": "lookup", "arguments": {"q": 2}}, "lookup", {"q": 2}),
        ({"id": "e", "function": {"name": "x", "arguments": "not json"}}, "x", {"__invalid__": True}),
        ({"id": "f", "function": {"name": "x", "arguments": ""}}, "x", {}),
    ],
)
def test_tool_call_shapes_are_parsed(call: dict[str, Any], name: str, arguments: dict[str, Any]) -> None:
    parsed = parse_call(ToolCall.model_validate(call))
    assert parsed is not None and parsed.name == name and parsed.arguments == arguments


def test_tool_results_in_call_order_single_line_and_valid() -> None:
    h = Harness()
    h.send(call_message("assistant-request"))
    reply = h.send(
        tool_calls(
            {"id": "t1", "type": "function", "function": {"name": "no_such_tool", "arguments": "{}"}},
            {
                "id": "t2",
                "type": "function",
                "function": {"name": "record_consent", "arguments": '{"decision":"granted"}'},
            },
            {"id": "t3", "name": "record_consent", "arguments": {"decision": "unclear"}},
        )
    )
    assert_valid("ServerMessageResponseToolCalls", reply)
    assert [r["toolCallId"] for r in reply["results"]] == ["t1", "t2", "t3"]
    assert "error" in reply["results"][0]
    assert "granted" in reply["results"][1]["result"]
    assert all("\n" not in json.dumps(r) for r in reply["results"])
    assert h.live.store.consent[CALL].state is ConsentState.GRANTED


def test_a_retried_tool_call_returns_the_same_result_without_repeating_its_side_effect() -> None:
    h = Harness()
    h.send(call_message("assistant-request"))
    message = tool_calls(
        {"id": "t9", "function": {"name": "record_consent", "arguments": {"decision": "denied"}}}
    )
    first = h.send(message)
    retried = copy.deepcopy(message)
    retried["timestamp"] += 1500  # a redelivery is not byte-identical
    second = h.send(retried)
    assert first == second
    assert h.controller.actions() == ["say"]  # the closing line was sent once
    assert h.audit.count("consent_denied") == 1


def test_single_line() -> None:
    assert single_line("a\nb\r\n  c") == "a b c"


# ---- Live Call Control client ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "environment", "allowed"),
    [
        ("https://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/x/control", "prod", True),
        ("http://phone-call-websocket.vapi.ai/x/control", "prod", False),
        ("https://evil.example.com/x/control", "prod", False),
        ("https://vapi.ai.evil.example.com/x", "prod", False),
        ("https://user:pw@api.vapi.ai/x", "prod", False),
        ("http://127.0.0.1:9/x/control", "local", True),
        ("https://api.vapi.ai/x/control", "local", False),
        ("http://127.0.0.1:9/x/control", "prod", False),
    ],
)
def test_control_host_policy(url: str, environment: str, allowed: bool) -> None:
    assert HostPolicy.from_settings("vapi.ai", environment).allows(url) is allowed


def _controller(retries: int = 2) -> tuple[HttpCallController, MemoryRecorder, list[float]]:
    metrics = MemoryRecorder()
    sleeps: list[float] = []
    controller = HttpCallController(
        logger=Logger(service="test"),
        metrics=metrics,
        hosts=HostPolicy.from_settings("vapi.ai", "test"),
        timeout_seconds=1.0,
        retries=retries,
        sleep=sleeps.append,
    )
    return controller, metrics, sleeps


def test_control_client_retries_5xx_then_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    with FakeControlServer(statuses=[503, 502]) as server:
        controller, metrics, sleeps = _controller()
        outcome = controller.send(server.url("call-1"), {"type": "end-call"})
    assert outcome.attempts == 3 and len(sleeps) == 2
    assert server.for_call("call-1") == [{"type": "end-call"}] * 3
    assert metrics.total("LiveControlSent", outcome="ok") == 1


def test_control_client_gives_up_after_bounded_retries_without_leaking_the_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeControlServer(statuses=[500, 500, 500, 500]) as server:
        controller, _, _ = _controller(retries=2)
        url = server.url("secret-call")
        with pytest.raises(ControlError) as info:
            controller.send(url, {"type": "end-call"})
        assert len(server.for_call("secret-call")) == 3
    assert "secret-call" not in str(info.value)
    assert "secret-call" not in capsys.readouterr().out


def test_control_client_does_not_retry_4xx() -> None:
    with FakeControlServer(statuses=[404]) as server:
        controller, _, _ = _controller()
        with pytest.raises(ControlError):
            controller.send(server.url("c"), {"type": "end-call"})
        assert len(server.for_call("c")) == 1


def test_control_client_retries_connection_errors() -> None:
    from voicetrail_cli.dev.local import free_port

    controller, metrics, sleeps = _controller(retries=1)
    with pytest.raises(ControlError):
        controller.send(f"http://127.0.0.1:{free_port()}/c/control", {"type": "end-call"})
    assert len(sleeps) == 1
    assert metrics.total("LiveControlSent", outcome="failed") == 1


def test_httpx_is_not_imported_by_the_runtime_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import voicetrail.providers.vapi.live_runtime, voicetrail.wiring.live, "
        "voicetrail.wiring.vapi; "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, None),
        ({"transcriber_redaction": ["pci"]}, ["pci"]),
        ({"transcriber_redaction": ["pii", "pci", "pii"]}, ["pii", "pci"]),
    ],
)
def test_transcriber_redaction_is_sent_only_when_a_number_asks_for_it(
    config: dict[str, Any], expected: list[str] | None
) -> None:
    assistant = build_assistant(LiveConfig.model_validate(config))
    assert assistant["transcriber"].get("redaction") == expected
    assert_valid("CreateAssistantDTO", assistant)


@pytest.mark.parametrize("bad", [["credit-cards"], "pci", ["pci"] * 5])
def test_unknown_transcriber_redaction_is_a_config_error(bad: object) -> None:
    with pytest.raises(ValueError):
        LiveConfig.model_validate({"transcriber_redaction": bad})
