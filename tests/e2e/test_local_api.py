"""End to end: the real handlers behind `voicetrail serve`'s local API, over HTTP, with moto's server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail_cli.local import LocalApi, dynamodb_admin_client
from voicetrail_cli.scenario import CallScript, demo_deliveries

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    log_path = tmp_path_factory.mktemp("logs") / "functions.log"
    with LocalApi(workers=2, log_path=str(log_path)) as running:
        yield running


def post(api: LocalApi, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{api.base_url}{path}", content=body, headers=headers, timeout=30)


def signed(api: LocalApi, body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", **sign_request(VapiAuthConfig(), body, api.secrets.vapi)}


def stored(api: LocalApi, call_id: str) -> list[Any]:
    store = DynamoEventStore(dynamodb_admin_client(api.dynamodb_endpoint), api.table)
    return store.call_events(call_id, now=time.time())


def test_a_whole_call_is_stored_once_redacted_and_the_forgery_rejected(api: LocalApi) -> None:
    script = CallScript()
    deliveries = demo_deliveries(script)
    for delivery in deliveries:
        secret = "forged" if delivery.forged else api.secrets.vapi
        headers = {
            "content-type": "application/json",
            **sign_request(VapiAuthConfig(), delivery.body, secret),
        }
        response = post(api, "/vapi/webhook", delivery.body, headers)
        assert response.status_code == delivery.expect_status, delivery.label
    events = stored(api, script.call_id)
    distinct = [d for d in deliveries if not d.forged and d.duplicate_of is None]
    assert len(events) == len(distinct)
    everything = json.dumps([e.body for e in events]).lower()
    for pii in (
        "123-45-6789",
        "4111 1111",
        "4111111111111111",
        "maria",
        "gonzalez",
        "+14155550123",
        "415 555 0199",
        "gmail",
    ):
        assert pii not in everything, pii
    assert all(e.caller_hash and e.caller_hash.startswith("ph_") for e in events)
    assert "forwarding" not in {e.attributes.get("status") for e in events}


def test_concurrent_duplicates_over_http_collapse(api: LocalApi) -> None:
    from concurrent.futures import ThreadPoolExecutor

    script = CallScript()
    _, payload = script.messages()[-1]
    body = json.dumps(payload).encode()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda _: post(api, "/vapi/webhook", body, signed(api, body)).status_code, range(12))
        )
    assert statuses == [200] * 12
    assert len(stored(api, script.call_id)) == 1


HTTP_REJECTIONS = [
    ("forged", b'{"message":{"type":"hang"}}', {"x-vapi-secret": "nope"}, 401),
    ("missing credential", b'{"message":{"type":"hang"}}', {}, 401),
    ("malformed json", b"{not json", None, 400),
    ("non-utf8", b'{"message":{"type":"\xff"}}', None, 400),
    ("missing type", b'{"message":{"call":{"id":"x"}}}', None, 400),
    ("too large", b'{"message":{"type":"hang","x":"' + b"a" * 1_200_000 + b'"}}', None, 413),
]


@pytest.mark.parametrize(
    ("body", "headers", "status"), [r[1:] for r in HTTP_REJECTIONS], ids=[r[0] for r in HTTP_REJECTIONS]
)
def test_bad_requests_get_clear_4xx_over_http(
    api: LocalApi, body: bytes, headers: dict[str, str] | None, status: int
) -> None:
    response = post(api, "/vapi/webhook", body, signed(api, body) if headers is None else headers)
    assert response.status_code == status
    assert response.json()["error"]


def test_unknown_route_is_404(api: LocalApi) -> None:
    assert post(api, "/nope", b"{}", {}).status_code == 404


def test_twilio_and_purge_functions_are_routed(api: LocalApi) -> None:
    from twilio.request_validator import RequestValidator

    params = {
        "CallSid": "CA" + "1" * 32,
        "CallStatus": "ringing",
        "SequenceNumber": "0",
        "From": "+14155550100",
        "To": "+14155550111",
        "Direction": "inbound",
        "CallerCity": "",
    }
    url = f"{api.base_url}/twilio/status"
    signature = RequestValidator(api.secrets.twilio).compute_signature(url, params)
    response = httpx.post(url, data=params, headers={"x-twilio-signature": signature}, timeout=30)
    assert response.status_code in (200, 204)
    forged = httpx.post(url, data=params, headers={"x-twilio-signature": "AAAA"}, timeout=30)
    assert forged.status_code == 401
    purge = httpx.post(f"{api.base_url}/_local/invoke/retention_purge", json={"dry_run": True}, timeout=60)
    assert purge.status_code == 200
    assert purge.json()["dry_run"] is True


def test_function_logs_carry_no_pii_or_secrets(api: LocalApi) -> None:
    assert api.log_path
    with open(api.log_path, encoding="utf-8") as handle:
        logs = handle.read()
    assert "event processed" in logs
    for needle in ("123-45-6789", "maria", "+14155550123", api.secrets.vapi, "controlUrl", "/control"):
        assert needle not in logs.lower() if needle.islower() else needle not in logs


def test_operators_on_the_local_stack_calls_show_and_erase_through_the_route(api: LocalApi) -> None:
    """The operator commands against `voicetrail serve`: its random pepper is only usable through the
    operator route (--api-url), which is what the CLI tells you; the route validates like the CLI."""
    from typer.testing import CliRunner

    from voicetrail_cli.main import app

    script = CallScript()
    for delivery in demo_deliveries(script):
        if not delivery.forged:
            assert post(api, "/vapi/webhook", delivery.body, signed(api, delivery.body)).status_code == 200
    runner = CliRunner()
    local = ["--dynamodb-endpoint", str(api.dynamodb_endpoint)]
    shown = runner.invoke(app, ["calls", "show", script.call_id, *local, "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["dynamodb_requests"] == 2, shown.output

    erase_url = f"{api.base_url}/operator/erase"  # the OperatorEraseUrl output's shape: path included
    plan = runner.invoke(
        app, ["erase", "--phone", script.customer_number, "--api-url", erase_url, "--dry-run", "--json"]
    )
    assert plan.exit_code == 0 and json.loads(plan.stdout)["calls_found"] >= 1, plan.output
    refused = runner.invoke(app, ["erase", "--phone", "+1415555", "--api-url", api.base_url])
    assert refused.exit_code == 1 and "not a valid phone number" in refused.stderr
    # No Vapi API key on the local stack: the Vapi call is pending, by name and reason, nothing certified.
    first = runner.invoke(
        app, ["erase", "--phone", script.customer_number, "--api-url", api.base_url, "--json"]
    )
    result = json.loads(first.stdout)
    assert first.exit_code == 3 and not result["complete"], first.output
    vapi = [p for p in result["pending"] if p["provider"] == "vapi"]
    assert script.call_id in {p["call_id"] for p in vapi}  # other tests' calls share the caller
    assert {p["reason"] for p in vapi} <= {"retry", "unconfigured"}
    wrong = runner.invoke(
        app, ["erase", "--phone", script.customer_number, *local, "--pepper-ref", "env:HOME"]
    )
    assert wrong.exit_code == 1 and "pepper does not match" in wrong.stderr
