"""The one platform deleter, three specs: each platform's path and auth header, ids full-matched (nothing
is sent for an id that is not one), and the shared status mapping. No network: httpx's mock transport."""

from __future__ import annotations

import httpx
import pytest

from voicetrail.domain.erasure.deleters import ExternalOutcome, PlatformCallDeleter, VapiCallDeleter
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.providers.elevenlabs.deleter import ElevenLabsConversationDeleter
from voicetrail.providers.retell.deleter import RetellCallDeleter

pytestmark = pytest.mark.unit

KEY = "k-123"
DELETERS = {
    "vapi": (VapiCallDeleter, "https://api.vapi.ai/call/{id}", "authorization", f"Bearer {KEY}"),
    "retell": (
        RetellCallDeleter,
        "https://api.retellai.com/v2/delete-call/{id}",
        "authorization",
        f"Bearer {KEY}",
    ),
    "elevenlabs": (
        ElevenLabsConversationDeleter,
        "https://api.elevenlabs.io/v1/convai/conversations/{id}",
        "xi-api-key",
        KEY,
    ),
}


def _key() -> SecretResolver:
    return SecretResolver(SecretRef("env", "K"), fetch=lambda ref, age, /, *, force=False: KEY)


def _deleter(name: str, status: int, seen: list[httpx.Request]) -> PlatformCallDeleter:
    cls = DELETERS[name][0]

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    deleter: PlatformCallDeleter = cls(_key(), transport=httpx.MockTransport(answer))
    return deleter


@pytest.mark.parametrize("name", sorted(DELETERS))
def test_each_platform_gets_its_path_and_auth_header(name: str) -> None:
    seen: list[httpx.Request] = []
    _, url, header, value = DELETERS[name]
    assert _deleter(name, 204, seen).delete_call("abc-123") is ExternalOutcome.DELETED
    [request] = seen
    assert request.method == "DELETE" and str(request.url) == url.format(id="abc-123")
    assert request.headers[header] == value


@pytest.mark.parametrize("name", sorted(DELETERS))
@pytest.mark.parametrize("call_id", ["", "abc-123\n", "a/b", "../x", "x" * 200, "ab#c"])
def test_an_id_that_is_not_one_is_failed_without_a_request(name: str, call_id: str) -> None:
    seen: list[httpx.Request] = []
    assert _deleter(name, 204, seen).delete_call(call_id) is ExternalOutcome.FAILED
    assert seen == []


@pytest.mark.parametrize("name", sorted(DELETERS))
@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "deleted"), (404, "gone"), (429, "retry"), (503, "retry"), (403, "failed"), (422, "failed")],
)
def test_the_status_mapping_is_shared(name: str, status: int, outcome: str) -> None:
    assert _deleter(name, status, []).delete_call("abc-123").value == outcome


@pytest.mark.parametrize("name", sorted(DELETERS))
def test_without_a_key_nothing_is_configured(name: str) -> None:
    deleter = DELETERS[name][0](None)
    assert not deleter.configured and deleter.delete_call("abc-123") is ExternalOutcome.UNCONFIGURED
    assert deleter.provider == name
