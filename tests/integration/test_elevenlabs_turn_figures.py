"""ElevenLabs turn figures through the real handler: the stored (sanitised) transcription still carries
them, the call record gets them once the conversation ends, and `calls show` puts them next to the words."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import TABLE, FakeContext, function_env, http_event, load_fixture, load_function
from voicetrail.providers.elevenlabs.signature import sign

pytestmark = pytest.mark.integration

SECRET = "latency-test-secret"


def test_calls_show_lists_elevenlabs_turn_figures(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from voicetrail.domain.calls.state import utc_day
    from voicetrail.domain.retention.classes import RetentionPolicy
    from voicetrail.storage.call_view import partition_items
    from voicetrail.storage.ledger import DynamoCallLedger
    from voicetrail_cli.ops.call_view import build_call_view

    env = function_env(
        ELEVENLABS_WEBHOOK_SECRET_REF="env:TEST_ELEVENLABS_SECRET",
        TEST_ELEVENLABS_SECRET=json.dumps({"current": SECRET}),
    )
    module = load_function("elevenlabs_webhook", env, monkeypatch)
    payload = load_fixture("elevenlabs/post_call_transcription.json")
    payload["data"]["metadata"]["start_time_unix_secs"] = int(time.time()) - 60
    payload["event_timestamp"] = int(time.time())
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", **sign(body, SECRET, timestamp=int(time.time()))}
    assert (
        module.lambda_handler(http_event("/elevenlabs/webhook", body, headers), FakeContext())["statusCode"]
        == 200
    )
    call_id = f"elevenlabs:{payload['data']['conversation_id']}"
    [summary] = DynamoCallLedger(moto_table, TABLE, RetentionPolicy()).summaries_for_days(
        [utc_day(int(time.time() * 1000))], now=time.time()
    )
    assert summary.latency is not None and summary.latency.model_avg_ms == 370.0
    view = build_call_view(call_id, partition_items(moto_table, TABLE, f"CALL#{call_id}"))
    assert view.latency is not None
    assert view.latency["figures"]["model_avg_ms"] == 370.0 and view.latency["figures"]["turn_p95_ms"] is None
    [first, second] = view.latency["turns"]
    assert (first["turn"], first["seconds_from_start"], first["model_ms"], first["turn_ms"]) == (
        1,
        3,
        370.0,
        None,
    )
    assert second["model_ms"] is None and second["seconds_from_start"] == 15
    assert "+1415" not in json.dumps(view.latency)  # the words are the stored, redacted ones
    assert [t["at_ms"] for t in view.transcript][:2] == [0, 3000]  # turn times from time_in_call_secs
