"""Cost on paper, from measured per-call work.

Simulated calls (the `voicetrail simulate` stream: every Vapi message of a call + its Twilio callbacks,
no injected faults) go through the real vapi_webhook and twilio_status handlers, in-process, against
moto's DynamoDB server behind a metering proxy (voicetrail_cli.dev.faults.FaultProxy with no faults). Per call
we measure: requests, handler durations (-> Lambda GB-s at 512 MB arm64), every DynamoDB operation and
the size of every item written (-> write/read request units), log + EMF bytes (-> CloudWatch Logs), and
stored bytes (-> DynamoDB storage at the retention in force). Then $ per 1,000 calls at 10k calls/day
at AWS list prices, with every assumption printed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import math
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_summary

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# AWS list prices, us-east-1 (checked 2026-11; no free tier, no savings plans).
PRICES = {
    "apigw_http_per_million": 1.00,  # HTTP API, first 300M requests/month, per 512 KB chunk
    "lambda_requests_per_million": 0.20,
    "lambda_arm_gb_second": 0.0000133334,  # arm64, first 7.5B GB-s/month tier
    "ddb_wru_per_million": 0.625,  # on-demand write request units
    "ddb_rru_per_million": 0.125,  # on-demand read request units
    "ddb_storage_gb_month": 0.25,
    "cw_logs_ingest_gb": 0.50,
}
MEMORY_GB = 0.5  # 512 MB, template.yaml
AWS_DDB_RTT_MS = 4.0  # assumed in-region DynamoDB round trip added per operation (loopback moto is faster)
CALLS_PER_DAY = 10_000
DAYS_PER_MONTH = 30
RETENTION_DAYS = {"content": 30, "metadata": 90}
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
READS = {"GetItem", "Query", "Scan"}


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--turns", type=int, default=6, help="caller turns per call")
    args = parser.parse_args()

    import logging

    from voicetrail.providers.vapi.auth import VapiAuthConfig
    from voicetrail_cli.dev.faults import FaultProxy
    from voicetrail_cli.dev.local import EmbeddedDynamo, ensure_table, http_api_event
    from voicetrail_cli.dev.simulate.driver import Signer
    from voicetrail_cli.dev.simulate.plan import SimConfig, plan_simulation
    from voicetrail_cli.ops.template import Route
    from voicetrail_cli.target import dynamodb_admin_client

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    dynamo = EmbeddedDynamo()
    endpoint = dynamo.start()
    table = "voicetrail-cost"
    ensure_table(dynamodb_admin_client(endpoint), table)
    proxy = FaultProxy(endpoint).start()
    base_url = "https://hooks.example.com"
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_DYNAMODB=proxy.url,
        TABLE_NAME=table,
        VOICETRAIL_ENV="bench",
        VOICETRAIL_ALLOW_ENV_SECRETS="true",
        VAPI_SECRET_REF="env:BENCH_SECRET",
        HASH_PEPPER_REF="env:BENCH_PEPPER",
        TWILIO_AUTH_TOKEN_REF="env:BENCH_TWILIO",
        TWILIO_WEBHOOK_BASE_URL=base_url,
        BENCH_SECRET="s",
        BENCH_PEPPER="p",
        BENCH_TWILIO="t",
        POWERTOOLS_LOG_LEVEL="INFO",
    )
    from tests.conftest import FakeContext

    vapi = _load("cost_vapi_app", ROOT / "functions/vapi_webhook/app.py")
    twilio = _load("cost_twilio_app", ROOT / "functions/twilio_status/app.py")

    plan = plan_simulation(
        SimConfig(calls=args.calls, turns=args.turns, seed=7, retry_rate=0, duplicate_rate=0, forged_rate=0)
    )
    signer = Signer(VapiAuthConfig(), "s", "t", base_url)
    durations: Counter[str] = Counter()
    per_type_ms: dict[str, list[float]] = {}
    requests = 0
    log_bytes = 0
    proxy.stats.operations.clear()
    for delivery in plan.deliveries():
        body, headers = signer.sign(delivery, delivery.body())
        headers = {k.lower(): v for k, v in headers.items()}
        event = http_api_event(
            method="POST",
            path=delivery.route,
            query="",
            headers={"host": "hooks.example.com", **headers},
            body=body,
            source_ip="203.0.113.9",
            route=Route("POST", delivery.route, ""),
        )
        handler = vapi.lambda_handler if delivery.route == "/vapi/webhook" else twilio.lambda_handler
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            start = time.perf_counter()
            response = handler(event, FakeContext())
            elapsed_ms = (time.perf_counter() - start) * 1000
        assert response["statusCode"] in (200, 204), response
        log_bytes += len(captured.getvalue().encode())
        requests += 1
        kind = (delivery.payload or {}).get("message", {}).get("type", "twilio")
        per_type_ms.setdefault(str(kind), []).append(elapsed_ms)
        durations[delivery.source] += math.ceil(elapsed_ms)  # Lambda bills per 1 ms
    ops = Counter(proxy.stats.operations)
    sizes = list(proxy.stats.put_item_sizes)
    proxy.stop()
    dynamo.stop()

    n = args.calls
    per_call_requests = requests / n
    per_call_ops = {op: count / n for op, count in sorted(ops.items())}
    ddb_calls = sum(ops.values()) / n
    measured_ms = sum(durations.values()) / n
    billed_ms = measured_ms + AWS_DDB_RTT_MS * ddb_calls
    gb_s = billed_ms / 1000 * MEMORY_GB
    # Write units: each PutItem = ceil(item KB) (a failed conditional put costs the same); GSI copies of
    # event items (ExpiryIndex for every event, CallerIndex when a caller hash is present: upper bound 2 per
    # put) = 1 WRU each (small projections); UpdateItem/DeleteItem on small state items = 1 WRU each.
    put_wru = sum(math.ceil(s / 1024) for s in sizes) / n
    gsi_wru = 2 * ops.get("PutItem", 0) / n
    other_wru = sum(ops.get(op, 0) for op in WRITES - {"PutItem"}) / n
    wru = put_wru + gsi_wru + other_wru
    rru = sum(ops.get(op, 0) for op in READS) / n  # small items, strongly consistent: 1 RRU each
    stored_kb = sum(sizes) / n / 1024
    logs_kb = log_bytes / n / 1024

    calls_month = CALLS_PER_DAY * DAYS_PER_MONTH
    cost = {
        "API Gateway (HTTP API)": per_call_requests * PRICES["apigw_http_per_million"] / 1e6,
        "Lambda requests": per_call_requests * PRICES["lambda_requests_per_million"] / 1e6,
        "Lambda compute (GB-s)": gb_s * PRICES["lambda_arm_gb_second"],
        "DynamoDB writes": wru * PRICES["ddb_wru_per_million"] / 1e6,
        "DynamoDB reads": rru * PRICES["ddb_rru_per_million"] / 1e6,
        # steady state: a call's items live for their retention (content ~ all of it, 30 days)
        "DynamoDB storage": stored_kb
        / 1024
        / 1024
        * PRICES["ddb_storage_gb_month"]
        * RETENTION_DAYS["content"]
        / 30,
        "CloudWatch Logs ingest": logs_kb / 1024 / 1024 * PRICES["cw_logs_ingest_gb"],
    }
    per_call = sum(cost.values())
    print(f"measured: {n} simulated calls x {per_call_requests:.0f} webhook requests, handlers in-process,")
    print("          DynamoDB = moto server on loopback behind a metering proxy")
    print(
        f"per call: {per_call_requests:.1f} requests | handler {measured_ms:.0f} ms measured, "
        f"{billed_ms:.0f} ms billed (+{AWS_DDB_RTT_MS:.0f} ms x {ddb_calls:.1f} DynamoDB calls) "
        f"= {gb_s:.3f} GB-s at 512 MB"
    )
    print("          DynamoDB calls: " + ", ".join(f"{k} {v:.1f}" for k, v in per_call_ops.items()))
    print(
        f"          {put_wru:.1f} WRU items (mean item {statistics.fmean(sizes):.0f} B, max {max(sizes)} B) "
        f"+ {gsi_wru:.1f} WRU GSI copies + {other_wru:.1f} WRU updates = {wru:.1f} WRU; {rru:.1f} RRU"
    )
    print(f"          {stored_kb:.1f} KB stored, {logs_kb:.1f} KB logs+EMF")
    print(
        "handler p50 per message type (ms): "
        + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in sorted(per_type_ms.items()))
    )
    print(f"\n$ at {CALLS_PER_DAY:,} calls/day ({calls_month:,} calls/month), AWS list prices us-east-1:")
    print(f"{'component':26} {'$/1,000 calls':>14} {'$/month':>10}")
    for name, value in cost.items():
        print(f"{name:26} {value * 1000:14.4f} {value * calls_month:10.2f}")
    print(f"{'total':26} {per_call * 1000:14.4f} {per_call * calls_month:10.2f}")
    print(
        "\nassumptions: list prices above (no free tier, no savings plans); 512 MB arm64; Lambda billed per"
    )
    print(f"1 ms on measured handler time + {AWS_DDB_RTT_MS:.0f} ms per DynamoDB call; on-demand DynamoDB;")
    print("1 WRU per KB per put (failed conditional puts cost the same), +1 WRU per GSI copy (ExpiryIndex,")
    print("CallerIndex), 1 WRU per update, 1 RRU per read; storage at 30-day content retention; no retries,")
    print(
        "duplicates or forgeries (each duplicate adds ~1 request + 1 put); no data transfer, X-Ray, alarms,"
    )
    print("Secrets Manager (cached: ~$0.05 per 10k API calls) or the daily purge (negligible).")
    emit_summary(
        "cost_model",
        {
            "usd_per_1000_calls": round(per_call * 1000, 4),
            "usd_per_month_10k_day": round(per_call * calls_month, 2),
            "requests_per_call": round(per_call_requests, 1),
            "gb_s_per_call": round(gb_s, 4),
            "wru_per_call": round(wru, 1),
        },
    )


if __name__ == "__main__":
    main()
