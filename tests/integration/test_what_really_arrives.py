"""The call ledger and the ROI report from only the callbacks each number type really delivers.

docs/deploy/registration.md explains the three cases:
* a Twilio number imported into Vapi: Vapi writes the number's voice URL and the TwiML, so Twilio sends only
  the number-level status callback, once, when the call ends (no progress events, no Twilio recording);
* a Vapi number: no Twilio callback at all;
* a number whose TwiML you own: progress events and recording callbacks, when your TwiML asks for them.
"""

from __future__ import annotations

import json
import time
import uuid
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import (
    TWILIO_TOKEN,
    VAPI_SECRET,
    FakeContext,
    function_env,
    http_event,
    load_fixture,
    load_function,
)
from tests.twilio_support import new_call_sid, signed_form, status_params
from voicetrail.domain.calls.state import twilio_call_key
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail_cli.ops.report.roi import compute

pytestmark = pytest.mark.integration
TABLE = function_env()["TABLE_NAME"]


@pytest.fixture
def functions(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, ModuleType]:
    env = function_env()
    return load_function("vapi_webhook", env, monkeypatch), load_function("twilio_status", env, monkeypatch)


def vapi(fn: ModuleType, fixture: str, call_id: str, call_sid: str | None, ts: float) -> int:
    payload = load_fixture(f"vapi/{fixture}")
    message = payload["message"]
    message["timestamp"] = int(ts * 1000)
    message["call"]["id"] = call_id
    if call_sid is None:  # a Vapi number or a web call: no Twilio leg
        message["call"].pop("phoneCallProviderId", None)
        message["call"]["phoneCallProvider"] = "vapi"
    else:
        message["call"]["phoneCallProviderId"] = call_sid
    body = json.dumps(payload).encode()
    headers = {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"}
    status: int = fn.lambda_handler(http_event("/vapi/webhook", body, headers), FakeContext())["statusCode"]
    return status


def twilio_terminal_callback(fn: ModuleType, call_sid: str, ts: float, duration: int) -> int:
    # The number-level StatusCallback: one request when the call ends (Twilio sends `completed` only).
    pairs = status_params(call_sid, "completed", None, ts=ts, duration=duration)
    body, headers = signed_form("https://hooks.example.com/twilio/status", pairs, TWILIO_TOKEN)
    event = http_event("/twilio/status", body, headers, base64_body=True)
    status: int = fn.lambda_handler(event, FakeContext())["statusCode"]
    return status


def report_for(client: Any, since: float, now: float) -> Any:
    ledger = DynamoCallLedger(client, TABLE, RetentionPolicy())
    days = sorted({time.strftime("%Y-%m-%d", time.gmtime(t)) for t in (since, now)})
    return compute(
        ledger.summaries_for_days(days, now=now), since=since, until=now, human_cost_per_minute=0.6
    )


def test_imported_twilio_number_terminal_callback_and_vapi_messages(
    functions: tuple[ModuleType, ModuleType], moto_table: Any
) -> None:
    vapi_fn, twilio_fn = functions
    now = time.time()
    call_id, call_sid = str(uuid.uuid4()), new_call_sid()
    assert vapi(vapi_fn, "status-update.json", call_id, call_sid, now - 200) == 200
    assert vapi(vapi_fn, "end-of-call-report.json", call_id, call_sid, now - 10) == 200
    assert twilio_terminal_callback(twilio_fn, call_sid, now - 5, duration=190) == 204

    summary = DynamoCallLedger(moto_table, TABLE, RetentionPolicy()).get_summary(
        twilio_call_key(call_sid), now=now
    )
    assert summary is not None
    assert (summary.vapi_call_id, summary.final_status, summary.duration_s) == (call_id, "completed", 190)
    assert summary.was_answered
    row = report_for(moto_table, now - 3600, now).total
    assert (row.calls, row.answered, row.completed) == (1, 1, 1)
    assert row.ai_cost == pytest.approx(0.1394)


def test_vapi_number_without_any_twilio_callback(
    functions: tuple[ModuleType, ModuleType], moto_table: Any
) -> None:
    vapi_fn, _ = functions
    now = time.time()
    call_id = str(uuid.uuid4())
    assert vapi(vapi_fn, "status-update.json", call_id, None, now - 200) == 200
    assert vapi(vapi_fn, "end-of-call-report.json", call_id, None, now - 10) == 200
    row = report_for(moto_table, now - 3600, now).total
    assert (row.calls, row.answered) == (1, 1)  # answered from Vapi's view alone
    assert row.ai_cost == pytest.approx(0.1394)
