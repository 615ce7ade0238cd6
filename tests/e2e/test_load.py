"""Load: concurrent calls through the local API (real handlers in worker processes, moto's DynamoDB
server), with retries, concurrent duplicates, reordering and forgeries. Zero losses, zero duplicates, zero
forgeries accepted, zero 5xx, zero PII in storage or logs. Requests/s and latencies are printed (figures
of this machine, not asserted).

Two sizes: 20 concurrent calls (~2,000 requests) in every run, and the 100-call proof (>= 10,000
requests) in `make test-slow`. moto answers every Query by sorting the whole table, so its cost grows
with the table: the big run takes minutes on moto, not on DynamoDB."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx
import pytest

from voicetrail.providers.vapi.auth import VapiAuthConfig
from voicetrail_cli.dev.local import EmbeddedDynamo, LocalApi
from voicetrail_cli.dev.simulate.command import run_simulation
from voicetrail_cli.dev.simulate.driver import HttpDriver, Signer
from voicetrail_cli.dev.simulate.evaluate import latency_line
from voicetrail_cli.dev.simulate.plan import SimConfig, plan_simulation
from voicetrail_cli.target import dynamodb_admin_client

pytestmark = pytest.mark.e2e


class _Stopper:
    def __init__(self, dynamo: EmbeddedDynamo) -> None:
        self.close = dynamo.stop


WORKERS = 3  # 2 cores: the HTTP front, moto and the sender threads share them with the workers


@pytest.mark.parametrize(
    ("calls", "min_requests"),
    [
        pytest.param(20, 2_000, id="20-calls"),
        pytest.param(100, 10_000, id="100-calls", marks=pytest.mark.slow),
    ],
)
def test_concurrent_calls_lose_and_duplicate_nothing(tmp_path: Path, calls: int, min_requests: int) -> None:
    log_path = tmp_path / "functions.log"
    plan = plan_simulation(
        SimConfig(calls=calls, turns=6, seed=20261125, retry_rate=0.03, duplicate_rate=0.03, forged_rate=0.01)
    )
    assert sum(1 for _ in plan.deliveries()) >= min_requests
    dynamo = EmbeddedDynamo()
    endpoint = dynamo.start()
    # moto's backends are shared by every server in this process: start from an empty table, so the
    # figures do not depend on what earlier test modules stored.
    httpx.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
    with (
        contextlib.closing(_Stopper(dynamo)),
        LocalApi(workers=WORKERS, log_path=str(log_path), dynamodb_endpoint=endpoint) as api,
    ):
        signer = Signer(VapiAuthConfig(), api.secrets.vapi, api.secrets.twilio, api.base_url)
        driver = HttpDriver(api.base_url, signer, concurrency=calls)
        try:
            report = run_simulation(
                plan,
                driver,
                dynamodb=dynamodb_admin_client(api.dynamodb_endpoint),
                table=api.table,
                log_path=str(log_path),
            )
        finally:
            # Leave the shared backends empty too: later modules must not wade through ~40k items.
            httpx.post(f"{endpoint}/moto-api/reset", timeout=120)
    summary = report.summary()
    print("\nLOAD " + latency_line(report.stats))
    print("LOAD " + json.dumps(summary))
    assert report.stats.requests >= min_requests
    assert report.evaluation is not None and report.evaluation.stored_events == plan.expected.total
    assert report.failures() == dict.fromkeys(report.failures(), 0), summary
    assert report.stats.kinds["retry"] and report.stats.kinds["duplicate"] and report.stats.kinds["forged"]
