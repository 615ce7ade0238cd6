"""Faults: DynamoDB throttling, 500s and timeouts injected between the handlers and moto's server; Live
Call Control and recording-deletion endpoints that fail. Senders get retryable answers (503), never a
500 and never a false 200, and after the senders' retries every event is stored exactly once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.seed import (
    ACCOUNT_SID,
    VAPI_KEY,
    call_sid,
    put_all,
    recording_item,
    recording_sid,
    summary_item,
)
from tests.fakes.servers import FakeTwilio, FakeVapi
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail.storage.expiry_days import note_expiry
from voicetrail_cli.dev.faults import FaultProxy, FaultRates
from voicetrail_cli.dev.live_scenarios import HUMAN_DESK, FakeControlServer, escalated_call, put_config
from voicetrail_cli.dev.local import EmbeddedDynamo, LocalApi, ensure_table
from voicetrail_cli.dev.simulate.command import run_simulation
from voicetrail_cli.dev.simulate.driver import HttpDriver, Signer
from voicetrail_cli.dev.simulate.evaluate import latency_line
from voicetrail_cli.dev.simulate.plan import SimConfig, plan_simulation
from voicetrail_cli.target import LOCAL_TABLE, dynamodb_admin_client

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    dynamo = EmbeddedDynamo()
    endpoint = dynamo.start()
    ensure_table(dynamodb_admin_client(endpoint), LOCAL_TABLE)
    try:
        yield endpoint
    finally:
        dynamo.stop()


def test_dynamodb_throttling_500s_and_timeouts_end_stored_exactly_once(
    moto_endpoint: str, tmp_path: Path
) -> None:
    rates = FaultRates(throttle=0.1, error=0.1, timeout=0.01, stall_seconds=3.5)
    plan = plan_simulation(SimConfig(calls=12, turns=2, seed=606, retry_rate=0.05, duplicate_rate=0.05))
    with (
        FaultProxy(moto_endpoint, rates, seed=6) as proxy,
        LocalApi(workers=3, dynamodb_endpoint=proxy.url, log_path=str(tmp_path / "fn.log")) as api,
    ):
        signer = Signer(VapiAuthConfig(), api.secrets.vapi, api.secrets.twilio, api.base_url)
        driver = HttpDriver(api.base_url, signer, concurrency=12, max_attempts=12, backoff_seconds=0.1)
        report = run_simulation(
            plan,
            driver,
            dynamodb=dynamodb_admin_client(moto_endpoint),  # read back around the proxy
            table=api.table,
            log_path=str(tmp_path / "fn.log"),
            allow_retryable=True,
        )
    stats = report.stats
    print(f"\nFAULTS injected {dict(proxy.stats.injected)} over {sum(proxy.stats.operations.values())} calls")
    print("FAULTS " + latency_line(stats))
    print("FAULTS " + json.dumps(report.summary()))
    assert proxy.stats.injected["throttle"] and proxy.stats.injected["error"]
    assert proxy.stats.injected["timeout"] + proxy.stats.injected["timeout-after-write"]
    retryable = {s for s in stats.statuses if s is None or s >= 500}
    assert retryable <= {503}, stats.statuses  # never a 500, never a dropped connection
    assert stats.status_5xx > 0  # senders did see retryable answers...
    assert report.failures() == dict.fromkeys(report.failures(), 0), report.summary()  # ...and nothing lost


# ---- Live Call Control ----------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    with LocalApi(workers=2, log_path=str(tmp_path_factory.mktemp("logs") / "fn.log")) as running:
        yield running


def _send(api: LocalApi, payload: dict[str, Any]) -> int:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"content-type": "application/json", **sign_request(VapiAuthConfig(), body, api.secrets.vapi)}
    return httpx.post(f"{api.base_url}/vapi/webhook", content=body, headers=headers, timeout=30).status_code


@pytest.mark.parametrize(
    ("control_statuses", "accepted"),
    [([500, 503], 1), ([503, 503, 503], 0)],
    ids=["control-5xx-then-ok", "control-down"],
)
def test_live_call_control_failures_never_fail_the_webhook_or_double_store(
    api: LocalApi, control_statuses: list[int], accepted: int
) -> None:
    with FakeControlServer(statuses=list(control_statuses)) as control:
        call, messages = escalated_call(control)
        put_config(
            dynamodb_admin_client(api.dynamodb_endpoint),
            api.table,
            f"CONFIG#phone#{call.phone_number_id}",
            {"transfer": HUMAN_DESK},
        )
        statuses = [_send(api, payload) for _, payload in messages[:3]]
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses += list(pool.map(lambda m: _send(api, m[1]), messages[3:]))
        statuses += [_send(api, payload) for _, payload in messages]  # the whole call retried
        sent = control.for_call(call.call_id)
    assert statuses == [200] * len(statuses)
    assert [p["type"] for p in sent] == ["transfer"] * len(sent)
    assert len(sent) == len(control_statuses) + accepted  # bounded retries, one accepted action at most
    store = DynamoEventStore(dynamodb_admin_client(api.dynamodb_endpoint), api.table)
    events = store.call_events(call.call_id, now=time.time())
    distinct = {json.dumps(p, sort_keys=True) for _, p in messages}
    assert len(events) == len(distinct)


# ---- recording deletion ---------------------------------------------------------------


def test_recording_deletion_failures_are_retried_by_later_runs_and_delete_exactly_once(
    tmp_path: Path,
) -> None:
    now = int(time.time())
    twilio, vapi = FakeTwilio(ACCOUNT_SID, "local-twilio-token"), FakeVapi(VAPI_KEY)
    with twilio.running(), vapi.running():
        env = {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_API_BASE_URL": twilio.base_url,
            "VAPI_API_BASE_URL": vapi.base_url,
            "VAPI_API_KEY_REF": "env:SIM_VAPI_KEY",
            "SIM_VAPI_KEY": VAPI_KEY,
            "PURGE_ALARM_AFTER_ATTEMPTS": "3",
        }
        with LocalApi(workers=2, extra_env=env, log_path=str(tmp_path / "fn.log")) as api:
            client = dynamodb_admin_client(api.dynamodb_endpoint)
            items = []
            for n in range(1, 7):
                items.append(recording_item(call_sid(n), recording_sid(n), now - 120))
                items.append(summary_item(call_sid(n), f"vapi-{n}", now + 86_400))
                twilio.existing.add(recording_sid(n))
                vapi.existing.add(f"vapi-{n}")
            note_expiry(client, api.table, *items)  # as the service writes (the table may be backfilled)
            put_all(client, api.table, items)
            seeded = {i["pk"]["S"] for i in items}  # moto's state is shared by every server in the process
            twilio.fail[recording_sid(1)] = [503, 500]
            twilio.fail[recording_sid(2)] = [429]
            vapi.fail["vapi-3"] = [503, 503]
            runs = []
            for _ in range(4):
                response = httpx.post(
                    f"{api.base_url}/_local/invoke/retention_purge", json={"from_days": 3}, timeout=120
                )
                assert response.status_code == 200
                runs.append(response.json())
            left = {
                (i["pk"]["S"], i["sk"]["S"])
                for i in client.scan(TableName=api.table)["Items"]
                if i["sk"]["S"].startswith("REC#") and i["pk"]["S"] in seeded
            }
    print(
        "\nPURGE runs: "
        + json.dumps([{k: r.get(k) for k in ("deleted", "recordings_pending")} for r in runs])
    )
    assert not twilio.existing and not vapi.existing  # everything went, in the end
    for n in range(1, 7):
        assert (
            len(twilio.deletes(204)) == 6
            and twilio.deletes(204).count(
                f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid(n)}.json"
            )
            == 1
        )
    assert len(vapi.deletes(200)) == 6
    assert runs[0].get("recordings_pending", 0) >= 1  # the first run could not finish them all
    assert not left  # no pointer left behind
