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
from voicetrail_cli.dev.local import LocalApi
from voicetrail_cli.dev.scenario import CallScript, demo_deliveries
from voicetrail_cli.target import dynamodb_admin_client

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
    # No provider credentials on the local stack: our copy is erased at once and completely, and the
    # providers are reported skipped (not configured), never left pending.
    started = time.monotonic()
    first = runner.invoke(
        app, ["erase", "--phone", script.customer_number, "--api-url", api.base_url, "--json"]
    )
    elapsed = time.monotonic() - started
    result = json.loads(first.stdout)
    assert first.exit_code == 0 and result["complete"] and result["erased_here"], first.output
    assert elapsed < 60 and result["pending"] == []
    skipped = {(p["call_id"], p["provider"], p["reason"]) for p in result["skipped"]}
    assert (script.call_id, "vapi", "not configured") in skipped  # other tests' calls share the caller
    assert stored(api, script.call_id) == []
    from voicetrail_cli.target import dynamodb_admin_client

    left = dynamodb_admin_client(api.dynamodb_endpoint).query(
        TableName=api.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CALL#{script.call_id}"}},
    )["Items"]
    # Only the call's audit chain stays (counts and codes, no caller data), ending in the erasure record.
    assert {i["sk"]["S"].split("#")[0] for i in left} == {"AUDIT"}, sorted(i["sk"]["S"] for i in left)
    assert max(left, key=lambda i: i["sk"]["S"])["kind"]["S"] == "erasure"
    again = runner.invoke(
        app, ["erase", "--phone", script.customer_number, "--api-url", api.base_url, "--json"]
    )
    assert again.exit_code == 0 and json.loads(again.stdout)["calls_found"] == 0
    wrong = runner.invoke(
        app, ["erase", "--phone", script.customer_number, *local, "--pepper-ref", "env:HOME"]
    )
    assert wrong.exit_code == 1 and "pepper does not match" in wrong.stderr


def test_the_local_pepper_lets_calls_list_and_dnc_find_a_caller(
    api: LocalApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local stack's documented pepper, exported as its banner says, hashes a number as the functions
    did: `calls list --caller` finds the call and `dnc add/check` work against the local table."""
    from typer.testing import CliRunner

    from voicetrail_cli.dev.local import LOCAL_PEPPER, LOCAL_PEPPER_ENV
    from voicetrail_cli.main import app

    script = CallScript()
    for delivery in demo_deliveries(script):
        if not delivery.forged:
            assert post(api, "/vapi/webhook", delivery.body, signed(api, delivery.body)).status_code == 200
    monkeypatch.setenv(LOCAL_PEPPER_ENV, LOCAL_PEPPER)
    monkeypatch.setenv("HASH_PEPPER_REF", f"env:{LOCAL_PEPPER_ENV}")
    local = ["--dynamodb-endpoint", str(api.dynamodb_endpoint)]
    runner = CliRunner()
    listed = runner.invoke(app, ["calls", "list", "--caller", script.customer_number, *local, "--json"])
    assert listed.exit_code == 0, listed.output
    assert script.call_id in {row["call"] for row in json.loads(listed.stdout)["calls"]}
    added = runner.invoke(app, ["dnc", "add", "--phone", script.customer_number, *local])
    assert added.exit_code == 0, added.output
    checked = runner.invoke(app, ["dnc", "check", "--phone", script.customer_number, *local])
    assert checked.exit_code == 0 and "on list: True" in checked.stdout, checked.output


def test_purge_and_its_dry_run_on_the_local_stack_take_seconds(api: LocalApi) -> None:
    """Issue 26: on a small local table `purge --dry-run` walked 6,817 empty buckets (114 s). Now a run
    that finds nothing expired reads the day records only."""
    from typer.testing import CliRunner

    from voicetrail_cli.main import app

    local = ["--dynamodb-endpoint", str(api.dynamodb_endpoint), "--json"]
    for args in (["purge", "--dry-run"], ["purge"], ["purge", "--dry-run"]):
        started = time.monotonic()
        result = CliRunner().invoke(app, [*args, *local])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert time.monotonic() - started < 20 and report["days"] >= 1 and not report["every_bucket"]
        assert report["index_reads"] <= 3 and report["buckets"] <= 17  # today's buckets at most
