"""End to end: live call control through the local API (real handlers, moto server) with a fake Live Call
Control server on 127.0.0.1 that `call.monitor.controlUrl` points at."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.test_live_support import assert_valid
from voicetrail.domain.audit.trail import AuditReader
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail_cli.dev.live_scenarios import (
    HUMAN_DESK,
    FakeControlServer,
    LiveCall,
    consent_denied_call,
    escalated_call,
    put_config,
)
from voicetrail_cli.dev.local import LocalApi
from voicetrail_cli.target import dynamodb_admin_client

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def control() -> Iterator[FakeControlServer]:
    with FakeControlServer() as server:
        yield server


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    log_path = tmp_path_factory.mktemp("logs") / "functions.log"
    with LocalApi(workers=2, log_path=str(log_path)) as running:
        running.log_file = log_path  # type: ignore[attr-defined]
        yield running


def send(api: LocalApi, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"content-type": "application/json", **sign_request(VapiAuthConfig(), body, api.secrets.vapi)}
    return httpx.post(f"{api.base_url}/vapi/webhook", content=body, headers=headers, timeout=30)


def new_call(api: LocalApi, control: FakeControlServer, config: dict[str, Any] | str | None) -> LiveCall:
    call = LiveCall(control_url="")
    call.control_url = control.url(call.call_id)
    if config is not None:
        client = dynamodb_admin_client(api.dynamodb_endpoint)
        put_config(client, api.table, f"CONFIG#phone#{call.phone_number_id}", config)
    return call


def stored_bodies(api: LocalApi, call_id: str) -> str:
    store = DynamoEventStore(dynamodb_admin_client(api.dynamodb_endpoint), api.table)
    return json.dumps([e.body for e in store.call_events(call_id, now=time.time())])


def audit_kinds(api: LocalApi, call_id: str) -> list[str]:
    return [
        r.kind
        for r in AuditReader(
            DynamoAuditStore(dynamodb_admin_client(api.dynamodb_endpoint), api.table)
        ).call_records(call_id)
    ]


def test_consent_granted(api: LocalApi, control: FakeControlServer) -> None:
    call = new_call(api, control, {"transfer": HUMAN_DESK})
    reply = send(api, call.assistant_request())
    assert reply.status_code == 200
    assert_valid("ServerMessageResponseAssistantRequest", reply.json())
    assert send(api, call.user("Yes, that's fine, go ahead.", 3000, confidence=0.95)).status_code == 200
    assert send(api, call.user("I'm calling about my bill.", 6000, confidence=0.95)).status_code == 200
    assert control.for_call(call.call_id) == []
    assert "calling about my bill" in stored_bodies(api, call.call_id)
    assert audit_kinds(api, call.call_id) == ["consent_asked", "consent_given"]


def test_consent_denied_ends_the_call_and_stores_no_content(
    api: LocalApi, control: FakeControlServer
) -> None:
    call, messages = consent_denied_call(control)
    put_config(
        dynamodb_admin_client(api.dynamodb_endpoint), api.table, f"CONFIG#phone#{call.phone_number_id}", {}
    )
    for _, payload in messages:
        assert send(api, payload).status_code == 200
    sent = control.for_call(call.call_id)
    assert [p["type"] for p in sent] == ["say"]
    assert sent[0]["endCallAfterSpoken"] is True
    assert_valid("ClientInboundMessageSay", sent[0])
    stored = stored_bodies(api, call.call_id)
    assert "4111 1111" not in stored and "recorded" not in stored and "[withheld: no consent]" in stored
    assert audit_kinds(api, call.call_id) == ["consent_asked", "consent_denied"]


def test_unclear_then_granted(api: LocalApi, control: FakeControlServer) -> None:
    call = new_call(api, control, {})
    send(api, call.assistant_request())
    send(api, call.user("Sorry, what is this about?", 3000, confidence=0.9))
    send(api, call.user("Oh okay, yes, that's fine.", 7000, confidence=0.93))
    sent = control.for_call(call.call_id)
    assert [p["type"] for p in sent] == ["say"]  # the re-ask
    assert sent[0]["endCallAfterSpoken"] is False
    assert audit_kinds(api, call.call_id) == ["consent_asked", "consent_asked", "consent_given"]


def test_urgent_barge_in_during_an_assistant_turn_transfers_once(
    api: LocalApi, control: FakeControlServer
) -> None:
    call, messages = escalated_call(control)
    put_config(
        dynamodb_admin_client(api.dynamodb_endpoint),
        api.table,
        f"CONFIG#phone#{call.phone_number_id}",
        {"transfer": HUMAN_DESK},
    )
    for _, payload in messages[:3]:
        send(api, payload)
    # The barge-in partials, the final and a duplicate delivery arrive together.
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda p: send(api, p[1]).status_code, messages[3:]))
    assert statuses == [200] * len(messages[3:])
    sent = control.for_call(call.call_id)
    assert [p["type"] for p in sent] == ["transfer"]
    assert_valid("ClientInboundMessageTransfer", sent[0])
    assert sent[0]["destination"]["number"] == HUMAN_DESK["number"]
    assert audit_kinds(api, call.call_id).count("escalation") == 1


def test_wait_wait_wait_is_one_action(api: LocalApi, control: FakeControlServer) -> None:
    call = new_call(api, control, {"transfer": HUMAN_DESK, "escalation_keywords": ["wait", "urgent"]})
    send(api, call.assistant_request())  # an owned call: an observed one is never spoken into
    for n, text in enumerate(["wait", "wait wait", "wait wait wait"]):
        assert send(api, call.user(text, 2000 + 250 * n, final=False)).status_code == 200
    assert [p["type"] for p in control.for_call(call.call_id)] == ["transfer"]


def test_a_retried_tool_call_has_one_side_effect(api: LocalApi, control: FakeControlServer) -> None:
    call = new_call(api, control, {"consent_policy": "end-call"})
    send(api, call.assistant_request())
    first = send(api, call.tool_call("call_tool_1", "record_consent", '{"decision": "denied"}', 3000))
    retried = send(api, call.tool_call("call_tool_1", "record_consent", {"decision": "denied"}, 4500))
    assert first.status_code == retried.status_code == 200
    assert first.json() == retried.json()
    assert_valid("ServerMessageResponseToolCalls", first.json())
    assert first.json()["results"][0]["toolCallId"] == "call_tool_1"
    assert [p["type"] for p in control.for_call(call.call_id)] == ["say"]  # the closing line, once
    assert audit_kinds(api, call.call_id).count("consent_denied") == 1


def test_broken_config_answers_error(api: LocalApi, control: FakeControlServer) -> None:
    call = new_call(api, control, '{"consent_policy": "shout"')
    reply = send(api, call.assistant_request())
    assert reply.status_code == 200
    assert set(reply.json()) == {"error"}
    assert_valid("ServerMessageResponseAssistantRequest", reply.json())


def test_transfer_destination_request(api: LocalApi, control: FakeControlServer) -> None:
    call = new_call(api, control, {"transfer": {"type": "sip", "sip_uri": "sip:desk@pbx.example.com"}})
    reply = send(api, call.transfer_destination_request(5000))
    assert reply.status_code == 200
    assert_valid("ServerMessageResponseTransferDestinationRequest", reply.json())
    assert reply.json()["destination"]["sipUri"] == "sip:desk@pbx.example.com"


def test_control_urls_never_reach_logs(api: LocalApi, control: FakeControlServer) -> None:
    logs = api.log_file.read_text()  # type: ignore[attr-defined]
    assert f"127.0.0.1:{control.port}" not in logs
