"""Twilio's side of a demo call: status and recording callbacks, signed the way Twilio signs them
(twilio's own RequestValidator.compute_signature, client role), delivered shuffled and duplicated.

Used by `voicetrail demo` (after the Vapi replay) and by the end-to-end tests.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from voicetrail_cli.output import show

ACCOUNT_SID = "AC" + "0" * 32
DEMO_CALLER = "+14155550123"
DEMO_NUMBER = "+14155550100"


@dataclass(frozen=True)
class TwilioDelivery:
    label: str
    path: str
    params: list[tuple[str, str]]
    expect_status: int = 204


def _rfc2822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, tz=UTC))


def call_callbacks(
    call_sid: str, recording_sid: str, *, start: float, duration: int = 189, caller: str = DEMO_CALLER
) -> list[TwilioDelivery]:
    """initiated, ringing, in-progress, completed (SequenceNumber 0..3) and the recording's two callbacks."""
    common = [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallbackSource", "call-progress-events"),
        ("Called", DEMO_NUMBER),
        ("CalledCity", ""),
        ("Caller", caller),
        ("CallerCity", ""),
        ("Direction", "inbound"),
        ("From", caller),
        ("FromZip", ""),
        ("To", DEMO_NUMBER),
    ]
    steps = [("initiated", 0.0), ("ringing", 1.0), ("in-progress", 3.0), ("completed", 3.0 + duration)]
    out = []
    for seq, (status, offset) in enumerate(steps):
        params = [
            *common,
            ("CallStatus", status),
            ("SequenceNumber", str(seq)),
            ("Timestamp", _rfc2822(start + offset)),
        ]
        if status == "in-progress":
            params.append(("AnsweredBy", "human"))
        if status == "completed":
            params += [("CallDuration", str(duration)), ("Duration", str((duration + 59) // 60))]
        out.append(TwilioDelivery(f"status {status} (#{seq})", "/twilio/status", params))
    for status in ("in-progress", "completed"):
        params = [
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", call_sid),
            ("RecordingSid", recording_sid),
            ("RecordingStatus", status),
            ("RecordingStartTime", _rfc2822(start + 3)),
            ("RecordingSource", "DialVerb"),
            ("RecordingTrack", "both"),
            ("RecordingChannels", "2"),
            ("ErrorCode", "0"),
        ]
        if status == "completed":
            params.append(("RecordingDuration", str(duration - 2)))
        out.append(TwilioDelivery(f"recording {status}", "/twilio/recording", params))
    return out


def shuffled_with_duplicates(deliveries: list[TwilioDelivery], seed: int = 7) -> list[TwilioDelivery]:
    """Twilio's real behaviour: separate HTTP requests in any order, some retried."""
    rng = random.Random(seed)  # noqa: S311 - delivery order, not security
    out = deliveries + [
        TwilioDelivery(f"{d.label} (retry)", d.path, d.params, d.expect_status)
        for d in rng.sample(deliveries, k=2)
    ]
    rng.shuffle(out)
    return out


def signed_request(base_url: str, delivery: TwilioDelivery, token: str) -> tuple[str, bytes, dict[str, str]]:
    from twilio.request_validator import RequestValidator

    url = base_url.rstrip("/") + delivery.path
    signature = RequestValidator(token).compute_signature(url, dict(delivery.params))
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": str(signature)}
    return url, urlencode(delivery.params).encode(), headers


def deliver(base_url: str, deliveries: list[TwilioDelivery], token: str) -> list[tuple[TwilioDelivery, int]]:
    import httpx

    results = []
    with httpx.Client(timeout=30) as client:
        for delivery in deliveries:
            url, body, headers = signed_request(base_url, delivery, token)
            results.append((delivery, client.post(url, content=body, headers=headers).status_code))
    return results


def demo_twilio_and_report(api: Any, provider_call_id: str, console: Any) -> int:
    """Replay the demo call's Twilio callbacks (shuffled, retried), show the joined call and the ROI report.

    Returns the number of deliveries that got an unexpected status.
    """
    import uuid

    from rich.table import Table

    from voicetrail.domain.calls.state import twilio_call_key
    from voicetrail.domain.retention.classes import RetentionPolicy
    from voicetrail.storage.ledger import DynamoCallLedger
    from voicetrail_cli.ops.report.command import print_report
    from voicetrail_cli.target import dynamodb_admin_client

    start = time.time() - 200
    deliveries = shuffled_with_duplicates(
        call_callbacks(provider_call_id, "RE" + uuid.uuid4().hex, start=start)
    )
    sent = Table(title=f"Twilio callbacks for {provider_call_id} (signed, shuffled, 2 retried)")
    for column in ("#", "delivery", "status"):
        sent.add_column(column)
    failures = 0
    for n, (delivery, status) in enumerate(deliver(api.base_url, deliveries, api.secrets.twilio), 1):
        ok = status == delivery.expect_status
        failures += not ok
        sent.add_row(str(n), delivery.label, f"[{'green' if ok else 'red'}]{status}[/]")
    show(sent, out=console)
    client = dynamodb_admin_client(api.dynamodb_endpoint)
    summary = DynamoCallLedger(client, api.table, RetentionPolicy()).get_summary(
        twilio_call_key(provider_call_id), now=time.time()
    )
    if summary is not None:
        console.print(
            f"call state: [bold]{summary.status}[/] ({summary.duration_s}s, answered={summary.answered}), "
            f"recordings={len(summary.recordings)}, Vapi call={summary.vapi_call_id or '-'}, "
            f"AI cost={summary.cost_usd if summary.cost_usd is not None else '-'}"
        )
    print_report(console, client, api.table, since=time.time() - 86_400)
    return failures
