"""End to end: `voicetrail serve`'s local API routes /retell/webhook and /elevenlabs/webhook to the real
handlers with the local keys; the demo's call per platform is answered as expected and stored once."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from rich.console import Console

from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail_cli.dev.local import LocalApi
from voicetrail_cli.dev.provider_demo import platform_calls, run_provider_demo
from voicetrail_cli.target import dynamodb_admin_client

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    log_path = tmp_path_factory.mktemp("logs") / "functions.log"
    with LocalApi(workers=2, log_path=str(log_path)) as running:
        yield running


def test_the_demo_call_of_each_platform_is_answered_and_stored_once(api: LocalApi) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    assert run_provider_demo(api, console) == 0
    shown = out.getvalue()
    for call in platform_calls(api):
        expected = len([p for p in call.events if p.get("type") != "post_call_audio"])
        assert f"stored for call {call.call_key}: {expected} events" in shown  # the demo's own read-back
    store = DynamoEventStore(dynamodb_admin_client(api.dynamodb_endpoint), api.table)
    for call in platform_calls(api):
        events = store.call_events(call.call_key, now=time.time())
        expected = [p for p in call.events if p.get("type") != "post_call_audio"]
        assert len(events) == len(expected), call.platform
        assert {e.source for e in events} == {call.platform}
    assert api.log_path is not None
    with open(api.log_path, encoding="utf-8") as handle:
        logs = handle.read()
    assert "full_audio" not in logs and "event dropped" in logs


@pytest.mark.parametrize("path", ["/retell/webhook", "/elevenlabs/webhook"])
def test_unsigned_requests_are_refused_on_both_routes(api: LocalApi, path: str) -> None:
    body = json.dumps({"event": "call_started", "call": {"call_id": "abc"}}).encode()
    response = httpx.post(f"{api.base_url}{path}", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
