"""Secret rotation without 401s: one rate-limited re-read of the store after an authentication failure."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from aws_lambda_powertools import Logger

from tests.conftest import PEPPER, fixture_bytes
from tests.support.memory import InMemoryCallLedger, InMemoryEventStore, MemoryPepperFingerprints
from tests.support.metrics import MemoryRecorder
from tests.support.vapi import vapi_service as assemble_vapi_service
from tests.twilio_support import new_call_sid, signed_form, status_params
from voicetrail.domain.erasure.deleters import ExternalOutcome, TwilioRecordingDeleter, VapiCallDeleter
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.domain.roi import RoiMetrics
from voicetrail.errors import AuthenticationError, SecretUnavailableError
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.providers.twilio.service import CallbackKind, TwilioCallbackService
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.providers.vapi.service import VapiWebhookService
from voicetrail.transport.http import InboundRequest

pytestmark = pytest.mark.unit
NOW = 1_764_079_300.0


class Store:
    """A secret store whose value an operator rotates; the cache stands for Powertools' max_age cache."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.cached: str | None = None
        self.reads = 0
        self.failing = False

    def fetch(self, ref: SecretRef, max_age: int, *, force: bool = False) -> str:
        if self.cached is None or force:
            if self.failing:
                raise RuntimeError("store down")
            self.reads += 1
            self.cached = self.value
        return self.cached


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resolver(store: Store, clock: Clock | None = None, interval: float = 30.0) -> SecretResolver:
    return SecretResolver(
        SecretRef("env", "UNUSED"), fetch=store.fetch, refresh_interval=interval, clock=clock or Clock()
    )


# ---- the resolver -----------------------------------------------------------------------------------------


def test_refresh_reads_past_the_cache_and_returns_only_new_values() -> None:
    store, clock = Store('{"current": "old"}'), Clock()
    secrets = resolver(store, clock)
    assert secrets.values() == ("old",)
    store.value = '{"current": "new"}'
    assert secrets.values() == ("old",)  # still cached
    assert secrets.refresh() == ("new",)
    assert secrets.values() == ("new",)  # the refresh refilled the cache
    clock.now += 31
    assert secrets.refresh() is None  # nothing changed: no point in verifying again


def test_refresh_is_rate_limited_per_interval() -> None:
    store, clock = Store("s1"), Clock()
    secrets = resolver(store, clock, interval=30)
    secrets.values()
    store.value = "s2"
    assert secrets.refresh() == ("s2",)
    store.value = "s3"
    reads = store.reads
    for _ in range(50):  # a burst of forged requests
        assert secrets.refresh() is None
    assert store.reads == reads
    clock.now += 30
    assert secrets.refresh() == ("s3",)


@pytest.mark.parametrize("broken", ["store down", ""])
def test_refresh_failure_keeps_the_original_answer(broken: str) -> None:
    store = Store("s1")
    secrets = resolver(store)
    secrets.values()
    if broken:
        store.failing = True
    else:
        store.value = "   "  # an empty secret is never used
    assert secrets.refresh() is None


# ---- the Vapi webhook -------------------------------------------------------------------------------------


def vapi_service(secrets: SecretResolver, pepper: SecretResolver, **extra: Any) -> VapiWebhookService:
    return assemble_vapi_service(
        auth=VapiAuthConfig(),
        secrets=secrets,
        pepper=pepper,
        store=InMemoryEventStore(),
        retention=RetentionPolicy(),
        metrics=extra.pop("metrics", MemoryRecorder()),
        logger=Logger(service="test"),
        max_body_bytes=1_048_576,
        clock=lambda: NOW,
        **extra,
    )


def vapi(store: Store, clock: Clock) -> tuple[VapiWebhookService, MemoryRecorder]:
    metrics = MemoryRecorder()
    return vapi_service(resolver(store, clock), resolver(Store(PEPPER)), metrics=metrics), metrics


def vapi_request(secret: str) -> InboundRequest:
    body = fixture_bytes("vapi/status-update.json")
    headers = sign_request(VapiAuthConfig(), body, secret)
    return InboundRequest(method="POST", path="/vapi/webhook", raw_query="", headers=headers, body=body)


def test_vapi_rotation_answers_the_first_request_with_the_new_secret() -> None:
    store, clock = Store(json.dumps({"current": "old-secret"})), Clock()
    service, metrics = vapi(store, clock)
    assert service.handle(vapi_request("old-secret")).status == 200
    store.value = json.dumps({"current": "new-secret"})  # rotated in Secrets Manager, old one dropped
    assert service.handle(vapi_request("new-secret")).status == 200
    assert metrics.total("SecretRefreshed", source="vapi") == 1
    assert metrics.total("AuthRejected") == 0


def test_vapi_forgeries_cost_at_most_one_store_read_per_interval() -> None:
    store, clock = Store(json.dumps({"current": "the-secret"})), Clock()
    service, metrics = vapi(store, clock)
    for _ in range(20):
        with pytest.raises(AuthenticationError):
            service.handle(vapi_request("forged"))
    assert store.reads == 2  # the first read, one refresh
    assert metrics.total("AuthRejected", source="vapi", reason="invalid_credential") == 20
    assert metrics.total("SecretRefreshed") == 0


def test_vapi_missing_credential_never_refreshes() -> None:
    store, clock = Store("the-secret"), Clock()
    service, _ = vapi(store, clock)
    body = fixture_bytes("vapi/status-update.json")
    with pytest.raises(AuthenticationError):
        service.handle(
            InboundRequest(method="POST", path="/vapi/webhook", raw_query="", headers={}, body=body)
        )
    assert store.reads == 1


# ---- Twilio callbacks -------------------------------------------------------------------------------------


def test_twilio_token_rotation_answers_the_first_callback() -> None:
    store, clock = Store(json.dumps({"primary": "tok-1"})), Clock()
    metrics = MemoryRecorder()
    service = TwilioCallbackService(
        tokens=resolver(store, clock),
        pepper=resolver(Store(PEPPER)),
        base_url="https://hooks.example.com",
        store=InMemoryEventStore(),
        ledger=InMemoryCallLedger(RetentionPolicy()),
        retention=RetentionPolicy(),
        metrics=RoiMetrics(metrics),
        logger=Logger(service="test"),
        max_body_bytes=65_536,
        clock=lambda: NOW,
    )

    def send(token: str) -> int:
        pairs = status_params(new_call_sid(), "ringing", 1, ts=NOW)
        body, headers = signed_form("https://hooks.example.com/twilio/status", pairs, token)
        request = InboundRequest(
            method="POST", path="/twilio/status", raw_query="", headers=headers, body=body
        )
        return service.handle(request, CallbackKind.STATUS).status

    assert send("tok-1") == 204
    store.value = json.dumps({"primary": "tok-2"})  # the Twilio placeholder replaced by the real token
    assert send("tok-2") == 204
    assert metrics.total("SecretRefreshed", source="twilio") == 1
    with pytest.raises(AuthenticationError):
        send("tok-1")  # the old token is gone from the store


# ---- outbound deletes -------------------------------------------------------------------------------------


def rotating_api(valid: dict[str, str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        return httpx.Response(204 if auth in valid.values() else 401)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("provider", ["twilio", "vapi"])
def test_deletes_retry_once_with_a_rotated_key(provider: str) -> None:
    import base64

    store, clock = Store("key-1"), Clock()
    header = {
        "twilio": lambda key: "Basic " + base64.b64encode(f"AC{'0' * 32}:{key}".encode()).decode(),
        "vapi": lambda key: f"Bearer {key}",
    }[provider]
    valid = {"current": header("key-1")}
    deleter: Any
    if provider == "twilio":
        deleter = TwilioRecordingDeleter(
            "AC" + "0" * 32, resolver(store, clock), transport=rotating_api(valid)
        )
        delete = lambda: deleter.delete_recording("RE" + "1" * 32)  # noqa: E731
    else:
        deleter = VapiCallDeleter(resolver(store, clock), transport=rotating_api(valid))
        delete = lambda: deleter.delete_call("call-1")  # noqa: E731
    assert delete() is ExternalOutcome.DELETED
    store.value, valid["current"] = "key-2", header("key-2")
    assert delete() is ExternalOutcome.DELETED  # 401 with the cached key, then the store's current one
    valid["current"] = header("key-3")  # rotated at the provider, not in the store
    assert delete() is ExternalOutcome.FAILED


# ---- the pepper is read while the request is authenticated ------------------------------------------------


class SlowStore(Store):
    """Records which thread read it; `wait_for` makes a read wait (up to 2 s) until another read began."""

    def __init__(self, value: str, wait_for: threading.Event | None = None) -> None:
        super().__init__(value)
        self.began = threading.Event()
        self.wait_for = wait_for
        self.overlapped: bool | None = None
        self.threads: list[str] = []

    def fetch(self, ref: SecretRef, max_age: int, *, force: bool = False) -> str:
        self.threads.append(threading.current_thread().name)
        self.began.set()
        if self.wait_for is not None and self.overlapped is None:
            self.overlapped = self.wait_for.wait(timeout=2)
        return super().fetch(ref, max_age, force=force)


def stored_resolver(store: Store, clock: Clock) -> SecretResolver:
    # A store-backed reference (not env:), so that prefetch applies.
    return SecretResolver(SecretRef("secretsmanager", "voicetrail/pepper"), fetch=store.fetch, clock=clock)


class ThreadedFingerprints(MemoryPepperFingerprints):
    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def record(self, fingerprint: str) -> None:
        self.threads.append(threading.current_thread().name)
        super().record(fingerprint)


def test_after_a_cold_start_the_two_secrets_are_read_at_the_same_time() -> None:
    clock = Clock()
    pepper_store = SlowStore(PEPPER)
    vapi_store = SlowStore(json.dumps({"current": "s3cret"}), wait_for=pepper_store.began)
    fingerprints = ThreadedFingerprints()
    service = vapi_service(
        stored_resolver(vapi_store, clock),
        stored_resolver(pepper_store, clock),
        pepper_fingerprints=fingerprints,
    )
    assert service.handle(vapi_request("s3cret")).status == 200
    assert vapi_store.overlapped is True  # the pepper read had begun while the Vapi secret was read
    assert pepper_store.threads[0] == "secret-prefetch"
    assert pepper_store.reads == 1  # the request then used the value the prefetch read
    # The pepper's fingerprint was written in the background too; the request's own record found it done.
    assert fingerprints.threads[0] == "secret-prefetch" and fingerprints.writes == 1
    before = list(pepper_store.threads)
    assert service.handle(vapi_request("s3cret")).status == 200
    assert "secret-prefetch" not in pepper_store.threads[len(before) :]  # fresh: no second prefetch
    clock.now += 301  # the cached value expired: read ahead again
    assert service.handle(vapi_request("s3cret")).status == 200
    assert pepper_store.threads[-2:] == ["secret-prefetch", "MainThread"]


def test_a_failed_prefetch_is_read_again_and_reported_there() -> None:
    store = Store(PEPPER)
    store.failing = True
    pepper = stored_resolver(store, Clock())
    pepper.prefetch()
    with pytest.raises(SecretUnavailableError):
        pepper.values()
    store.failing = False
    assert pepper.values() == (PEPPER,)


def test_a_forged_request_leaves_no_read_running() -> None:
    """Lambda freezes a process between invocations: a prefetch must end before the 401 is answered."""
    clock = Clock()
    pepper_store = SlowStore(PEPPER)
    pepper = stored_resolver(pepper_store, clock)
    service = vapi_service(stored_resolver(Store(json.dumps({"current": "s3cret"})), clock), pepper)
    with pytest.raises(AuthenticationError):
        service.handle(vapi_request("forged"))
    assert not any(t.name == "secret-prefetch" for t in threading.enumerate())


def test_twilio_reads_its_token_and_the_pepper_at_the_same_time() -> None:
    clock = Clock()
    pepper_store = SlowStore(PEPPER)
    token_store = SlowStore("tok-1", wait_for=pepper_store.began)
    service = TwilioCallbackService(
        tokens=stored_resolver(token_store, clock),
        pepper=stored_resolver(pepper_store, clock),
        base_url="https://hooks.example.com",
        store=InMemoryEventStore(),
        ledger=InMemoryCallLedger(RetentionPolicy()),
        retention=RetentionPolicy(),
        metrics=RoiMetrics(MemoryRecorder()),
        logger=Logger(service="test"),
        max_body_bytes=65_536,
        clock=lambda: NOW,
    )
    pairs = status_params(new_call_sid(), "ringing", 1, ts=NOW)
    body, headers = signed_form("https://hooks.example.com/twilio/status", pairs, "tok-1")
    request = InboundRequest(method="POST", path="/twilio/status", raw_query="", headers=headers, body=body)
    assert service.handle(request, CallbackKind.STATUS).status == 204
    assert token_store.overlapped is True
    assert pepper_store.threads[0] == "secret-prefetch" and pepper_store.reads == 1
