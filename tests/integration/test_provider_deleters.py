"""The Retell and ElevenLabs deleters against local fakes over real HTTP (127.0.0.1, port 0).

Each adapter sends the documented request, reads 2xx as deleted and 404 as already gone, retries
transient failures on the next run (RETRY), needs a human for the rest (FAILED), re-reads a rotated key
once after a 401, and never raises, whatever the network does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.provider_servers import FakeElevenLabs, FakeRetell
from tests.fakes.servers import FakeApi
from voicetrail.domain.erasure.deleters import ExternalOutcome
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.providers.elevenlabs.deleter import ElevenLabsConversationDeleter
from voicetrail.providers.retell.deleter import RetellCallDeleter

pytestmark = pytest.mark.integration

KEY = "key_live_7c1d"
ROTATED = "key_live_9f2e"
RETELL_CALL = "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"
CONVERSATION = "conv_01jxk1wejhenk8x8tt9enzxw4a"


class _Rotating:
    """A secret store whose value changes: `values()` serves the cached one, `refresh()` the new one."""

    def __init__(self, cached: str, current: str) -> None:
        self.cached, self.current, self.refreshes = cached, current, 0

    def fetch(self, ref: SecretRef, max_age: int, /, *, force: bool = False) -> str:
        if force:
            self.refreshes += 1
            return self.current
        return self.cached


def _resolver(value: str) -> SecretResolver:
    return SecretResolver(SecretRef("env", "X"), fetch=lambda ref, age, force=False: value)


Case = tuple[str, Callable[[str], FakeApi], Callable[..., Any], str, str]
CASES: list[Case] = [
    ("retell", FakeRetell, RetellCallDeleter, RETELL_CALL, f"/v2/delete-call/{RETELL_CALL}"),
    (
        "elevenlabs",
        FakeElevenLabs,
        ElevenLabsConversationDeleter,
        CONVERSATION,
        f"/v1/convai/conversations/{CONVERSATION}",
    ),
]


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[FakeApi, Callable[..., Any], str, str]]:
    # One server per provider for the module: a fake's shutdown waits out its 0.5 s poll interval.
    _, fake_type, deleter_type, resource, path = request.param
    with fake_type(KEY).running() as api:
        yield api, deleter_type, resource, path


@pytest.fixture
def case(
    server: tuple[FakeApi, Callable[..., Any], str, str],
) -> tuple[FakeApi, Callable[..., Any], str, str]:
    api, _, resource, _ = server
    api.existing.clear()
    api.fail.clear()
    api.requests.clear()
    api.existing.add(resource)
    return server


def test_a_delete_sends_the_documented_request_and_succeeds(case: Any) -> None:
    api, deleter_type, resource, path = case
    deleter = deleter_type(_resolver(KEY), base_url=api.base_url)
    assert deleter.delete_call(resource) is ExternalOutcome.DELETED
    assert api.deletes() == [path]
    assert resource not in api.existing


def test_a_second_delete_finds_it_gone_which_is_success(case: Any) -> None:
    api, deleter_type, resource, _ = case
    deleter = deleter_type(_resolver(KEY), base_url=api.base_url)
    deleter.delete_call(resource)
    outcome = deleter.delete_call(resource)
    assert outcome is ExternalOutcome.GONE and outcome.ok


@pytest.mark.parametrize(
    ("statuses", "outcome"),
    [
        ([503], ExternalOutcome.RETRY),
        ([500], ExternalOutcome.RETRY),
        ([429], ExternalOutcome.RETRY),
        ([400], ExternalOutcome.FAILED),
        ([422], ExternalOutcome.FAILED),
        ([403], ExternalOutcome.FAILED),
    ],
)
def test_failures_are_outcomes_never_exceptions(
    case: Any, statuses: list[int], outcome: ExternalOutcome
) -> None:
    api, deleter_type, resource, _ = case
    api.fail[resource] = list(statuses)
    deleter = deleter_type(_resolver(KEY), base_url=api.base_url)
    assert deleter.delete_call(resource) is outcome
    assert resource in api.existing  # nothing was deleted


def test_a_retry_after_a_transient_failure_deletes(case: Any) -> None:
    api, deleter_type, resource, _ = case
    api.fail[resource] = [503]
    deleter = deleter_type(_resolver(KEY), base_url=api.base_url)
    assert deleter.delete_call(resource) is ExternalOutcome.RETRY
    assert deleter.delete_call(resource) is ExternalOutcome.DELETED


def test_a_wrong_key_is_failed_and_a_rotated_key_is_reread_once(case: Any) -> None:
    api, deleter_type, resource, _ = case
    assert (
        deleter_type(_resolver("stale-key"), base_url=api.base_url).delete_call(resource)
        is ExternalOutcome.FAILED
    )
    store = _Rotating(cached="stale-key", current=KEY)
    resolver = SecretResolver(SecretRef("env", "X"), fetch=store.fetch, refresh_interval=0)
    assert deleter_type(resolver, base_url=api.base_url).delete_call(resource) is ExternalOutcome.DELETED
    assert store.refreshes == 1


@pytest.mark.parametrize("bad", ["", "../etc", "a#b", "a/b", "x" * 200, "id with space"])
def test_an_id_that_cannot_be_a_path_segment_is_refused_without_a_request(case: Any, bad: str) -> None:
    api, deleter_type, _, _ = case
    assert deleter_type(_resolver(KEY), base_url=api.base_url).delete_call(bad) is ExternalOutcome.FAILED
    assert api.requests == []


def test_without_a_key_every_delete_is_pending(case: Any) -> None:
    api, deleter_type, resource, _ = case
    assert deleter_type(None, base_url=api.base_url).delete_call(resource) is ExternalOutcome.UNCONFIGURED
    assert api.requests == []


@pytest.mark.parametrize("deleter_type", [RetellCallDeleter, ElevenLabsConversationDeleter])
def test_an_unreachable_api_is_a_retry(deleter_type: Callable[..., Any]) -> None:
    with FakeRetell(KEY).running() as api:
        base_url = api.base_url  # the server is gone after the block: connection refused
    deleter = deleter_type(_resolver(KEY), base_url=base_url, timeout=2.0)
    assert deleter.delete_call("abc123") is ExternalOutcome.RETRY


def test_the_adapters_target_the_vendors_hosts_by_default() -> None:
    from voicetrail.providers.elevenlabs.deleter import ELEVENLABS_API
    from voicetrail.providers.retell.deleter import RETELL_API

    assert RETELL_API == "https://api.retellai.com"
    assert ELEVENLABS_API == "https://api.elevenlabs.io"
