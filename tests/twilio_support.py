"""Twilio's side of the wire, for tests: callbacks signed with twilio's own RequestValidator (client role)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.conftest import FIXTURES

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
CALLER = "+14155550123"
CALLED = "+14155550100"

Pairs = list[tuple[str, str]]


class _Multi(dict[str, list[str]]):
    """What a client signs: every value of every field (RequestValidator reads `getall`)."""

    def getall(self, key: str) -> list[str]:
        return self[key]


def fixture_params(name: str) -> Pairs:
    data = json.loads((FIXTURES / "twilio" / name).read_text())
    return [(str(k), str(v)) for k, v in data["params"]]


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def new_recording_sid() -> str:
    return "RE" + uuid.uuid4().hex


def sign(url: str, pairs: Sequence[tuple[str, str]], token: str, algorithm: str | None = None) -> str:
    multi = _Multi()
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    return str(RequestValidator(token).compute_signature(url, multi, algorithm))


def signed_form(
    url: str, pairs: Sequence[tuple[str, str]], token: str, algorithm: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Twilio would send to `url` (the URL exactly as configured in Twilio)."""
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": sign(url, pairs, token, algorithm),
        "i-twilio-idempotency-token": uuid.uuid4().hex,
        "user-agent": "TwilioProxy/1.1",
    }
    if algorithm:
        headers["x-twilio-webhooks-signature-settings"] = f"key=webhooks_sharedkey_1,algorithm={algorithm}"
    return urlencode(list(pairs)).encode(), headers


def rfc2822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, tz=UTC))


def status_params(
    call_sid: str,
    status: str,
    sequence: int | None,
    *,
    ts: float,
    duration: int | None = None,
    direction: str = "inbound",
    answered_by: str | None = None,
) -> Pairs:
    """A voice status callback with the fields Twilio sends (blank geo fields included)."""
    pairs: Pairs = [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Called", CALLED),
        ("CalledCity", ""),
        ("Caller", CALLER),
        ("CallerCity", ""),
        ("CallerZip", ""),
        ("Direction", direction),
        ("From", CALLER),
        ("FromCity", "SAN FRANCISCO"),
        ("FromZip", "94107"),
        ("Timestamp", rfc2822(ts)),
        ("To", CALLED),
        ("ToCity", ""),
    ]
    if sequence is not None:
        pairs.append(("SequenceNumber", str(sequence)))
    if duration is not None:
        pairs += [("CallDuration", str(duration)), ("Duration", str((duration + 59) // 60))]
    if answered_by:
        pairs.append(("AnsweredBy", answered_by))
    return pairs


def call_lifecycle(
    call_sid: str, *, start: float, duration: int = 95, final: str = "completed"
) -> list[tuple[str, Pairs]]:
    """initiated -> ringing -> in-progress -> <final>, as Twilio fires them (SequenceNumber 0..3)."""
    steps: list[tuple[str, Pairs]] = [
        ("initiated", status_params(call_sid, "initiated", 0, ts=start)),
        ("ringing", status_params(call_sid, "ringing", 1, ts=start + 1)),
    ]
    if final == "completed":
        steps.append(
            ("in-progress", status_params(call_sid, "in-progress", 2, ts=start + 4, answered_by="human"))
        )
        steps.append(
            ("completed", status_params(call_sid, "completed", 3, ts=start + 4 + duration, duration=duration))
        )
    else:
        steps.append((final, status_params(call_sid, final, 2, ts=start + 30, duration=0)))
    return steps


def recording_params(
    call_sid: str,
    recording_sid: str,
    status: str,
    *,
    ts: float,
    duration: int | None = None,
    channels: int = 2,
) -> Pairs:
    pairs: Pairs = [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call_sid),
        ("RecordingSid", recording_sid),
        ("RecordingStatus", status),
        ("RecordingStartTime", rfc2822(ts)),
        ("RecordingSource", "DialVerb"),
        ("RecordingTrack", "both"),
        ("RecordingChannels", str(channels)),
        ("ErrorCode", "0"),
        (
            "RecordingUrl",
            f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}",
        ),
    ]
    if duration is not None:
        pairs.append(("RecordingDuration", str(duration)))
    return pairs
