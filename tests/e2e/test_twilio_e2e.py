"""Over the local API (real handler in a worker process, moto server, HTTP): a call's Twilio callbacks
arrive shuffled and duplicated, signed by a Twilio-like client; the final state is right."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from voicetrail.domain.calls.state import twilio_call_key
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail.storage.ledger import DynamoCallLedger
from voicetrail_cli.dev.local import LocalApi
from voicetrail_cli.dev.twilio_demo import (
    TwilioDelivery,
    call_callbacks,
    deliver,
    shuffled_with_duplicates,
    signed_request,
)
from voicetrail_cli.target import dynamodb_admin_client

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api() -> Iterator[LocalApi]:
    stack = LocalApi(workers=2).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_duplicated_callbacks_converge(api: LocalApi, seed: int) -> None:
    call_sid, recording_sid = "CA" + uuid.uuid4().hex, "RE" + uuid.uuid4().hex
    start = time.time() - 300
    deliveries = shuffled_with_duplicates(
        call_callbacks(call_sid, recording_sid, start=start, duration=121), seed
    )
    assert [d.label for d in deliveries] != [
        d.label for d in call_callbacks(call_sid, recording_sid, start=start)
    ]
    results = deliver(api.base_url, deliveries, api.secrets.twilio)
    assert [status for _, status in results] == [204] * len(deliveries)

    client = dynamodb_admin_client(api.dynamodb_endpoint)
    now = time.time()
    summary = DynamoCallLedger(client, api.table, RetentionPolicy()).get_summary(
        twilio_call_key(call_sid), now=now
    )
    assert summary is not None
    assert (summary.status, summary.final_status, summary.answered, summary.duration_s) == (
        "completed",
        "completed",
        True,
        121,
    )
    assert summary.answered_by == "human" and summary.direction == "inbound"
    assert summary.first_ts_ms == int(start) * 1000  # Twilio timestamps have second precision
    assert summary.recordings == (recording_sid,)
    (recording,) = DynamoCallLedger(client, api.table, RetentionPolicy()).recordings(call_sid, now=now)
    assert (recording["status"], recording["duration_s"], recording["retention_class"]) == (
        "completed",
        119.0,
        "recording",
    )
    events = DynamoEventStore(client, api.table).call_events(twilio_call_key(call_sid), now=now)
    assert len(events) == 6  # 4 status + 2 recording callbacks, retries collapsed


def test_forged_and_misaddressed_callbacks_are_401(api: LocalApi) -> None:
    call_sid = "CA" + uuid.uuid4().hex
    (first, *_) = call_callbacks(call_sid, "RE" + uuid.uuid4().hex, start=time.time())
    url, body, headers = signed_request(api.base_url, first, "not-the-token")
    assert httpx.post(url, content=body, headers=headers, timeout=30).status_code == 401
    # signed for another path (e.g. a copy-paste of the recording URL into the status callback)
    moved = TwilioDelivery(first.label, "/twilio/recording", first.params)
    _, body, headers = signed_request(api.base_url, moved, api.secrets.twilio)
    assert (
        httpx.post(f"{api.base_url}/twilio/status", content=body, headers=headers, timeout=30).status_code
        == 401
    )
    assert httpx.post(f"{api.base_url}/twilio/status", content=b"CallSid=x", timeout=30).status_code == 401
    client = dynamodb_admin_client(api.dynamodb_endpoint)
    ledger = DynamoCallLedger(client, api.table, RetentionPolicy())
    assert ledger.get_summary(twilio_call_key(call_sid), now=time.time()) is None


def test_report_sees_the_calls(api: LocalApi) -> None:
    from rich.console import Console

    from voicetrail_cli.ops.report.command import print_report

    client = dynamodb_admin_client(api.dynamodb_endpoint)
    since = time.time() - 3600
    before = print_report(Console(record=True, width=200), client, api.table, since=since).total
    call_sid = "CA" + uuid.uuid4().hex
    deliver(
        api.base_url,
        call_callbacks(call_sid, "RE" + uuid.uuid4().hex, start=time.time() - 100, duration=60),
        api.secrets.twilio,
    )
    console = Console(record=True, width=200)
    after = print_report(console, client, api.table, since=since).total
    # Other tests of this module share the stack: compare with the report before this call.
    assert (after.calls, after.answered, after.completed) == (
        before.calls + 1,
        before.answered + 1,
        before.completed + 1,
    )
    assert "voicetrail ROI" in console.export_text()
