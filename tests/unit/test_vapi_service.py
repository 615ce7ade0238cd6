"""The Vapi webhook domain function with an in-memory store: the whole path without AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from tests.conftest import PEPPER, VAPI_SECRET, fixture_bytes, load_fixture
from tests.support.memory import InMemoryEventStore
from tests.support.metrics import MemoryRecorder
from tests.support.vapi import vapi_service
from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.calls.ports import PutOutcome, StoredEvent
from voicetrail.domain.retention.classes import DAY, RetentionClass, RetentionPolicy
from voicetrail.errors import (
    AuthenticationError,
    BadRequestError,
    PayloadTooLargeError,
    SecretUnavailableError,
    StoreUnavailableError,
)
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.providers.vapi.service import VapiWebhookService
from voicetrail.transport.http import InboundRequest

pytestmark = pytest.mark.unit
NOW = 1_764_079_300.0


def resolver(value: str) -> SecretResolver:
    return SecretResolver(SecretRef("env", "UNUSED"), fetch=lambda ref, age: value)


class FailingStore(InMemoryEventStore):
    def put_event(self, event: StoredEvent, *, now: float) -> PutOutcome:
        raise StoreUnavailableError("put_item failed: ProvisionedThroughputExceededException")


def make_service(store: InMemoryEventStore | None = None, **overrides: Any) -> tuple[VapiWebhookService, Any]:
    store = store or InMemoryEventStore()
    metrics = MemoryRecorder()
    kwargs: dict[str, Any] = {
        "auth": VapiAuthConfig(),
        "secrets": resolver(json.dumps({"current": VAPI_SECRET, "previous": "old-secret"})),
        "pepper": resolver(PEPPER),
        "store": store,
        "retention": RetentionPolicy(content_days=30, metadata_days=90),
        "metrics": metrics,
        "logger": Logger(service="test"),
        "max_body_bytes": 1_048_576,
        "clock": lambda: NOW,
    }
    kwargs.update(overrides)
    return vapi_service(**kwargs), (store, metrics)


def request(body: bytes, secret: str = VAPI_SECRET, **headers: str) -> InboundRequest:
    return InboundRequest(
        method="POST",
        path="/vapi/webhook",
        raw_query="",
        headers={**sign_request(VapiAuthConfig(), body, secret), **headers},
        body=body,
    )


def test_a_transcript_is_stored_redacted_with_its_retention_class() -> None:
    service, (store, metrics) = make_service()
    reply = service.handle(request(fixture_bytes("vapi/transcript-final-user.json")))
    assert (reply.status, reply.body) == (200, {})
    [event] = store.all_events()
    assert event.retention_class is RetentionClass.CONTENT
    assert event.expires_at == int(NOW) + 30 * DAY
    assert "123-45-6789" not in json.dumps(event.body)
    assert event.redactions.get("ssn") == 1
    assert metrics.total("EventAccepted", message_type="transcript") == 1


def test_status_updates_are_metadata_and_keep_their_status() -> None:
    service, (store, _) = make_service()
    service.handle(request(fixture_bytes("vapi/status-update.json")))
    [event] = store.all_events()
    assert event.retention_class is RetentionClass.METADATA
    assert event.attributes["status"] == "in-progress"
    assert event.attributes["provider_call_id"].startswith("CA")


def test_caller_number_is_stored_only_as_a_keyed_hash() -> None:
    service, (store, _) = make_service()
    service.handle(request(fixture_bytes("vapi/status-update.json")))
    [event] = store.all_events()
    expected = CallerHasher(PEPPER).hash("+14155550123")
    assert event.caller_hash == expected
    assert "+14155550123" not in json.dumps(event.body)
    assert event.body["customer"]["number"] == expected


def test_secrets_and_capability_urls_never_reach_storage() -> None:
    service, (store, _) = make_service()
    payload = load_fixture("vapi/end-of-call-report.json")
    payload["message"]["phoneNumber"] = {
        "provider": "twilio",
        "twilioAuthToken": "tok_live_123",
        "twilioAccountSid": "AC1",
    }
    service.handle(request(json.dumps(payload).encode()))
    stored = json.dumps(store.all_events()[0].body)
    for secret in ("tok_live_123", "/control", "/listen", "X-Amz-Signature", "storage.vapi.ai"):
        assert secret not in stored


def test_a_retry_is_a_duplicate_answered_200_and_stored_once() -> None:
    service, (store, metrics) = make_service()
    body = fixture_bytes("vapi/end-of-call-report.json")
    assert service.handle(request(body)).status == 200
    assert service.handle(request(body)).status == 200
    assert len(store.call_events("73daba4d-2bcc-4cca-8e49-3d7903467ade", now=NOW)) == 1
    assert metrics.total("EventDuplicate") == 1


def test_two_distinct_events_of_one_call_are_both_stored() -> None:
    service, (store, _) = make_service()
    service.handle(request(fixture_bytes("vapi/transcript-final-user.json")))
    service.handle(request(fixture_bytes("vapi/transcript-partial-user.json")))
    service.handle(request(fixture_bytes("vapi/status-update.json")))
    assert len(store.all_events()) == 3


def test_unknown_types_are_accepted_and_stored() -> None:
    service, (store, metrics) = make_service()
    assert service.handle(request(fixture_bytes("vapi/unknown-type.json"))).status == 200
    [event] = store.all_events()
    assert event.event_type == "brand-new-type"
    assert metrics.total("EventAccepted", message_type="other") == 1


def test_rotated_secret_is_accepted() -> None:
    service, (store, _) = make_service()
    service.handle(request(fixture_bytes("vapi/status-update.json"), secret="old-secret"))
    assert len(store.all_events()) == 1


def test_a_forgery_is_rejected_counted_and_not_stored() -> None:
    service, (store, metrics) = make_service()
    with pytest.raises(AuthenticationError):
        service.handle(request(fixture_bytes("vapi/status-update.json"), secret="forged"))
    assert store.all_events() == []
    assert metrics.total("AuthRejected", reason="invalid_credential") == 1


def test_auth_runs_before_parsing_so_forged_garbage_is_401_not_400() -> None:
    service, _ = make_service()
    with pytest.raises(AuthenticationError):
        service.handle(request(b"not json", secret="forged"))
    with pytest.raises(BadRequestError):
        service.handle(request(b"not json"))


def test_oversized_bodies_are_refused_before_any_work() -> None:
    service, (store, _) = make_service(max_body_bytes=2048)
    with pytest.raises(PayloadTooLargeError):
        service.handle(request(b"x" * 2049))
    assert store.all_events() == []


def test_store_failure_propagates_so_the_sender_retries() -> None:
    service, _ = make_service(store=FailingStore())
    with pytest.raises(StoreUnavailableError):
        service.handle(request(fixture_bytes("vapi/status-update.json")))


def test_secret_store_outage_is_retryable_not_a_401() -> None:
    def broken(ref: SecretRef, age: int) -> str:
        raise TimeoutError("secrets manager timed out")

    service, _ = make_service(secrets=SecretResolver(SecretRef("env", "X"), fetch=broken))
    with pytest.raises(SecretUnavailableError):
        service.handle(request(fixture_bytes("vapi/status-update.json")))


def test_empty_secret_fails_closed() -> None:
    service, _ = make_service(secrets=resolver("  "))
    with pytest.raises(SecretUnavailableError):
        service.handle(request(fixture_bytes("vapi/status-update.json"), secret=""))


class RecordingAudit:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[tuple[str, str, dict[str, int | str]]] = []
        self.fail = fail

    def append(self, call_id: str, kind: object, details: Any, now: float) -> object:
        if self.fail:
            raise StoreUnavailableError("audit put failed")
        self.records.append((call_id, str(kind), dict(details)))
        return None


def test_redactions_are_audited_once_with_counts_only() -> None:
    audit = RecordingAudit()
    service, _ = make_service(audit=audit)
    body = fixture_bytes("vapi/transcript-final-user.json")
    service.handle(request(body))
    service.handle(request(body))  # a retry: no second audit record
    service.handle(request(fixture_bytes("vapi/status-update.json")))  # nothing redacted: no record
    assert audit.records == [("73daba4d-2bcc-4cca-8e49-3d7903467ade", "pii_redacted", {"ssn": 1})]


def test_an_audit_outage_does_not_fail_the_webhook() -> None:
    service, (store, metrics) = make_service(audit=RecordingAudit(fail=True))
    assert service.handle(request(fixture_bytes("vapi/transcript-final-user.json"))).status == 200
    assert len(store.all_events()) == 1
    assert metrics.total("AuditAppendFailed") == 1


def test_a_report_with_a_recording_leaves_a_recording_pointer_for_the_purge() -> None:
    service, (store, _) = make_service()
    service.handle(request(fixture_bytes("vapi/end-of-call-report.json")))
    service.handle(request(fixture_bytes("vapi/end-of-call-report.json")))
    pointers = [e for e in store.all_events() if e.retention_class is RetentionClass.RECORDING]
    assert len(pointers) == 1
    assert pointers[0].pk == "CALL#73daba4d-2bcc-4cca-8e49-3d7903467ade"
    assert pointers[0].sk == "REC#vapi#recording"
    assert pointers[0].expires_at == int(NOW) + 30 * DAY


def transcript(text: str, ts: int, role: str = "user") -> bytes:
    payload = load_fixture("vapi/transcript-final-user.json")
    payload["message"].update(transcript=text, timestamp=ts, role=role)
    return json.dumps(payload).encode()


def test_a_name_learnt_earlier_in_the_call_is_redacted_in_later_messages() -> None:
    from tests.support.memory import InMemoryNameMemory

    names = InMemoryNameMemory()
    service, (store, _) = make_service(names=names)
    service.handle(request(transcript("Hi, my name is Maria Gonzalez.", 1)))
    service.handle(request(transcript("Thanks, Maria. One moment please.", 2, role="assistant")))
    stored = json.dumps([e.body for e in store.all_events()])
    assert "maria" not in stored.lower() and "gonzalez" not in stored.lower()
    assert "One moment please" in stored
    # Only keyed hashes are remembered, never the name.
    assert all(h.startswith("nm_") for h in names.known("73daba4d-2bcc-4cca-8e49-3d7903467ade"))


def test_names_are_neither_learnt_nor_applied_without_consent() -> None:
    from tests.support.memory import InMemoryNameMemory

    names = InMemoryNameMemory()
    service, _ = make_service(names=names, content_policy=lambda parsed, role: False)
    service.handle(request(transcript("Hi, my name is Maria Gonzalez.", 1)))
    assert names.known("73daba4d-2bcc-4cca-8e49-3d7903467ade") == frozenset()


class FailingComprehend:
    def __init__(self) -> None:
        self.failures = 0
        self.calls = 0

    def detect(self, text: str) -> list[tuple[str, int, int]]:
        self.calls += 1
        self.failures += 1
        return []


def test_second_pass_runs_on_end_of_call_reports_only_and_failures_are_counted() -> None:
    comprehend = FailingComprehend()
    service, (_, metrics) = make_service(second_pass=comprehend)
    service.handle(request(fixture_bytes("vapi/transcript-final-user.json")))
    assert comprehend.calls == 0
    service.handle(request(fixture_bytes("vapi/end-of-call-report.json")))
    assert comprehend.calls > 0
    assert metrics.total("SecondPassFailures") == 1
