"""The Twilio callback service with in-memory adapters: auth, dedupe, state folding, hashing, metrics."""

from __future__ import annotations

import base64
import itertools
import json
import random
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from tests.conftest import PEPPER
from tests.support.memory import InMemoryCallLedger, InMemoryEventStore
from tests.support.metrics import MemoryRecorder
from tests.twilio_support import (
    CALLED,
    CALLER,
    call_lifecycle,
    fixture_params,
    new_call_sid,
    new_recording_sid,
    recording_params,
    signed_form,
    status_params,
)
from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.calls.state import twilio_call_key
from voicetrail.domain.retention.classes import DAY, RetentionClass, RetentionPolicy
from voicetrail.domain.roi import RoiMetrics
from voicetrail.errors import AuthenticationError, AuthFailure, BadRequestError, PayloadTooLargeError
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.providers.twilio.service import CallbackKind, TwilioCallbackService
from voicetrail.transport.http import InboundRequest, inbound_request

pytestmark = pytest.mark.unit
NOW = 1_764_079_300.0
BASE = "https://hooks.example.com"
TOKENS = json.dumps({"primary": "tok-new", "secondary": "tok-old"})


def resolver(value: str) -> SecretResolver:
    return SecretResolver(SecretRef("env", "UNUSED"), fetch=lambda ref, age: value)


class Harness:
    def __init__(self, base_url: str = BASE) -> None:
        self.store = InMemoryEventStore()
        self.ledger = InMemoryCallLedger(RetentionPolicy())
        self.metrics = MemoryRecorder()
        self.service = TwilioCallbackService(
            tokens=resolver(TOKENS),
            pepper=resolver(PEPPER),
            base_url=base_url,
            store=self.store,
            ledger=self.ledger,
            retention=RetentionPolicy(metadata_days=90, recording_days=30),
            metrics=RoiMetrics(self.metrics),
            logger=Logger(service="test"),
            max_body_bytes=65_536,
            clock=lambda: NOW,
        )

    def send(
        self,
        pairs: list[tuple[str, str]],
        *,
        kind: CallbackKind = CallbackKind.STATUS,
        token: str = "tok-new",  # noqa: S107 - test token
        path: str | None = None,
        signed_url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> int:
        path = path or f"/twilio/{kind.value}"
        body, signed_headers = signed_form(signed_url or f"{BASE}{path}", pairs, token)
        request = InboundRequest(
            method="POST", path=path, raw_query="", headers={**signed_headers, **(headers or {})}, body=body
        )
        return self.service.handle(request, kind).status

    def summary(self, call_sid: str) -> Any:
        return self.ledger.get_summary(twilio_call_key(call_sid), now=NOW)


def test_full_call_in_order() -> None:
    h = Harness()
    sid = new_call_sid()
    for _, pairs in call_lifecycle(sid, start=NOW - 200, duration=95):
        assert h.send(pairs) == 204
    s = h.summary(sid)
    assert (s.status, s.final_status, s.answered, s.duration_s, s.direction) == (
        "completed",
        "completed",
        True,
        95,
        "inbound",
    )
    assert s.answered_by == "human"
    assert s.first_ts_ms == int((NOW - 200) * 1000)
    assert h.metrics.total("CallsStarted") == 1
    assert h.metrics.total("CallsAnswered") == 1
    assert h.metrics.total("CallsCompleted") == 1
    assert h.metrics.total("CallDuration") == 95
    assert len(h.store.call_events(twilio_call_key(sid), now=NOW)) == 4


@pytest.mark.parametrize("seed", range(12))
def test_shuffled_and_duplicated_callbacks_converge(seed: int) -> None:
    h = Harness()
    sid = new_call_sid()
    steps = [pairs for _, pairs in call_lifecycle(sid, start=NOW - 300, duration=61)]
    deliveries = steps + random.Random(seed).sample(steps, k=3)
    random.Random(seed + 100).shuffle(deliveries)
    for pairs in deliveries:
        assert h.send(pairs) == 204
    s = h.summary(sid)
    assert (s.status, s.final_status, s.answered, s.duration_s) == ("completed", "completed", True, 61)
    assert s.first_ts_ms == int((NOW - 300) * 1000)
    for name in ("CallsStarted", "CallsAnswered", "CallsCompleted"):
        assert h.metrics.total(name) == 1, name
    assert h.metrics.total("CallDuration") == 61
    assert h.metrics.total("EventDuplicate", source="twilio") == 3
    assert len(h.store.call_events(twilio_call_key(sid), now=NOW)) == 4


def test_late_ringing_never_overwrites_completed() -> None:
    h = Harness()
    sid = new_call_sid()
    steps = dict(call_lifecycle(sid, start=NOW - 100, duration=30))
    h.send(steps["completed"])
    h.send(steps["ringing"])
    h.send(steps["in-progress"])
    s = h.summary(sid)
    assert s.status == "completed"
    assert s.duration_s == 30
    assert s.answered_by == "human"  # facts from late callbacks are still merged


@pytest.mark.parametrize(
    ("final", "metric"),
    [
        ("busy", "CallsBusy"),
        ("no-answer", "CallsNoAnswer"),
        ("failed", "CallsFailed"),
        ("canceled", "CallsCanceled"),
    ],
)
def test_unanswered_outcomes(final: str, metric: str) -> None:
    h = Harness()
    sid = new_call_sid()
    for _, pairs in call_lifecycle(sid, start=NOW - 100, final=final):
        h.send(pairs)
    s = h.summary(sid)
    assert (s.status, s.answered) == (final, False)
    assert h.metrics.total(metric) == 1
    assert h.metrics.total("CallsAnswered") == 0
    assert h.metrics.total("CallsStarted") == 1


def test_completed_only_subscription_still_counts_answered() -> None:
    # Default StatusCallbackEvent: only `completed` is sent (no SequenceNumber 0..2 before it).
    h = Harness()
    sid = new_call_sid()
    h.send(status_params(sid, "completed", 0, ts=NOW - 10, duration=42))
    assert h.metrics.total("CallsAnswered") == 1
    assert h.summary(sid).duration_s == 42


def test_dedupe_key_without_sequence_number() -> None:
    h = Harness()
    sid = new_call_sid()
    pairs = status_params(sid, "completed", None, ts=NOW - 10, duration=5)
    h.send(pairs)
    h.send(pairs)
    assert [e.event_key for e in h.store.call_events(twilio_call_key(sid), now=NOW)] == ["status#completed"]
    assert h.metrics.total("EventDuplicate") == 1


def test_numbers_are_stored_only_as_keyed_hashes() -> None:
    h = Harness()
    sid = "CA5f0b6a3c8e2d4f1a9b7c6d5e4f3a2b1c"
    assert h.send(fixture_params("status-completed.json")) == 204
    (event,) = h.store.call_events(twilio_call_key(sid), now=NOW)
    stored = json.dumps(event.body) + json.dumps(vars(h.summary(sid)))
    hasher = CallerHasher(PEPPER)
    for raw in (CALLER, CALLED, "4155550123", "94107", "SAN FRANCISCO"):
        assert raw not in stored
    assert event.body["From"] == hasher.hash(CALLER)
    assert event.caller_hash == hasher.hash(CALLER)
    assert "FromCity" not in event.body and "FromZip" not in event.body
    assert event.retention_class is RetentionClass.METADATA
    assert event.expires_at == int(NOW) + 90 * DAY
    assert h.ledger.summaries[twilio_call_key(sid)]["from_hash"] == hasher.hash(CALLER)


def test_outbound_call_caller_is_the_callee() -> None:
    h = Harness()
    sid = new_call_sid()
    h.send(status_params(sid, "ringing", 1, ts=NOW, direction="outbound-api"))
    (event,) = h.store.call_events(twilio_call_key(sid), now=NOW)
    assert event.caller_hash == CallerHasher(PEPPER).hash(CALLED)


def test_recording_is_indexed_with_recording_retention() -> None:
    h = Harness()
    sid, rsid = new_call_sid(), new_recording_sid()
    assert h.send(recording_params(sid, rsid, "in-progress", ts=NOW - 60), kind=CallbackKind.RECORDING) == 204
    assert (
        h.send(
            recording_params(sid, rsid, "completed", ts=NOW - 60, duration=57), kind=CallbackKind.RECORDING
        )
        == 204
    )
    assert (
        h.send(
            recording_params(sid, rsid, "completed", ts=NOW - 60, duration=57), kind=CallbackKind.RECORDING
        )
        == 204
    )
    # a late in-progress does not regress the recording's status
    assert h.send(recording_params(sid, rsid, "in-progress", ts=NOW - 60), kind=CallbackKind.RECORDING) == 204
    item = h.ledger.recording_items[(sid, rsid)]
    assert item["status"] == "completed"
    assert item["duration_s"] == 57 and item["channels"] == 2
    assert item["retention_class"] == "recording"
    assert item["expires_at"] == int(NOW) + 30 * DAY
    assert h.summary(sid).recordings == (rsid,)
    assert h.metrics.total("RecordingsIndexed") == 1
    assert h.metrics.total("EventDuplicate", message_type="twilio.recording") == 2
    keys = sorted(e.event_key for e in h.store.call_events(twilio_call_key(sid), now=NOW))
    assert keys == [f"recording#{rsid}#completed", f"recording#{rsid}#in-progress"]


def test_rotation_both_tokens_accepted() -> None:
    h = Harness()
    sid = new_call_sid()
    assert h.send(status_params(sid, "ringing", 1, ts=NOW), token="tok-old") == 204
    assert h.send(status_params(sid, "in-progress", 2, ts=NOW), token="tok-new") == 204


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda r: {**r, "headers": {k: v for k, v in r["headers"].items() if k != "x-twilio-signature"}},
            AuthFailure.MISSING,
        ),
        (lambda r: {**r, "headers": {**r["headers"], "x-twilio-signature": "AAAA"}}, AuthFailure.INVALID),
        (lambda r: {**r, "body": r["body"].replace(b"ringing", b"completed")}, AuthFailure.INVALID),
        (lambda r: {**r, "path": "/twilio/recording"}, AuthFailure.INVALID),
        (lambda r: {**r, "raw_query": "x=1"}, AuthFailure.INVALID),
        (
            lambda r: {
                **r,
                "headers": {**r["headers"], "x-twilio-webhooks-signature-settings": "algorithm=MD5"},
            },
            AuthFailure.MALFORMED,
        ),
    ],
)
def test_rejections_are_401_and_counted(mutate: Any, reason: AuthFailure) -> None:
    h = Harness()
    body, headers = signed_form(
        f"{BASE}/twilio/status", status_params(new_call_sid(), "ringing", 1, ts=NOW), "tok-new"
    )
    raw = mutate({"headers": headers, "body": body, "path": "/twilio/status", "raw_query": ""})
    request = InboundRequest(
        method="POST", path=raw["path"], raw_query=raw["raw_query"], headers=raw["headers"], body=raw["body"]
    )
    with pytest.raises(AuthenticationError) as caught:
        h.service.handle(request, CallbackKind.STATUS)
    assert caught.value.reason is reason
    assert h.metrics.total("AuthRejected", source="twilio", reason=reason.value) == 1
    assert h.store.all_events() == []


def test_wrong_token_is_401() -> None:
    h = Harness()
    with pytest.raises(AuthenticationError):
        h.send(status_params(new_call_sid(), "ringing", 1, ts=NOW), token="attacker")


@pytest.mark.parametrize(
    "pairs",
    [
        [("CallStatus", "ringing")],  # no CallSid
        [("CallSid", "not-a-sid"), ("CallStatus", "ringing")],
        [("CallSid", "CA" + "a" * 32)],  # no CallStatus
        [("CallSid", "CA" + "a" * 32), ("CallStatus", "ringing"), ("SequenceNumber", "two")],
        [("CallSid", "CA" + "a" * 32), ("CallStatus", "completed"), ("CallDuration", "-5")],
        [("CallSid", "CA" + "a" * 32), ("CallStatus", "<script>")],
    ],
)
def test_signed_but_malformed_callbacks_are_400(pairs: list[tuple[str, str]]) -> None:
    h = Harness()
    with pytest.raises(BadRequestError):
        h.send(pairs)
    assert h.store.all_events() == []


def test_recording_needs_recording_sid() -> None:
    h = Harness()
    with pytest.raises(BadRequestError):
        h.send([("CallSid", "CA" + "a" * 32), ("RecordingStatus", "completed")], kind=CallbackKind.RECORDING)


def test_too_large_is_413() -> None:
    h = Harness()
    request = InboundRequest(
        method="POST", path="/twilio/status", raw_query="", headers={}, body=b"a=" + b"x" * 70_000
    )
    with pytest.raises(PayloadTooLargeError):
        h.service.handle(request, CallbackKind.STATUS)


def test_base64_form_body_from_api_gateway() -> None:
    # HTTP APIs base64-encode form bodies: the adapter hands the service the exact signed bytes.
    h = Harness()
    sid = new_call_sid()
    body, headers = signed_form(f"{BASE}/twilio/status", status_params(sid, "ringing", 1, ts=NOW), "tok-new")
    event = {
        "rawPath": "/twilio/status",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": "POST"}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    assert h.service.handle(inbound_request(event), CallbackKind.STATUS).status == 204
    assert h.summary(sid).status == "ringing"


def test_custom_domain_and_stage_through_configured_base() -> None:
    h = Harness(base_url="https://hooks.example.com/voice#rc=3")
    sid = new_call_sid()
    url = "https://hooks.example.com/voice/twilio/status"
    assert h.send(status_params(sid, "ringing", 1, ts=NOW), signed_url=url) == 204
    # the mapping key may also be in rawPath
    assert (
        h.send(status_params(sid, "in-progress", 2, ts=NOW), signed_url=url, path="/voice/twilio/status")
        == 204
    )


def test_unknown_status_is_stored_but_not_ranked() -> None:
    h = Harness()
    sid = new_call_sid()
    h.send(status_params(sid, "in-progress", 2, ts=NOW))
    h.send(status_params(sid, "some-new-status", 3, ts=NOW))
    assert h.summary(sid).status == "in-progress"
    assert len(h.store.call_events(twilio_call_key(sid), now=NOW)) == 2


def test_same_rank_later_sequence_wins() -> None:
    h = Harness()
    sid = new_call_sid()
    h.send(status_params(sid, "queued", 0, ts=NOW))
    h.send(status_params(sid, "initiated", 1, ts=NOW))
    h.send(status_params(sid, "queued", 0, ts=NOW))
    assert h.summary(sid).status == "initiated"


def test_many_calls_count_once_each() -> None:
    h = Harness()
    sids = [new_call_sid() for _ in range(5)]
    for sid, final in zip(sids, itertools.cycle(["completed", "busy"]), strict=False):
        for _, pairs in call_lifecycle(sid, start=NOW - 500, final=final):
            h.send(pairs)
    assert h.metrics.total("CallsStarted") == 5
    assert h.metrics.total("CallsCompleted") == 3
    assert h.metrics.total("CallsBusy") == 2
