"""Voice latency health: a simulated day through the real handler, the report's figures checked, the cost.

1. A day of end-of-call-reports (seeded; a share of calls get three slow turns injected) goes through
   vapi_webhook's lambda_handler against DynamoDB (moto, in process). `voicetrail report`'s computation
   then reads the call ledger back: the slow calls it flags are compared with the injected ones, and its
   day p95 with a direct computation over every injected turn (statistics.quantiles, inclusive method).
2. The added in-process time per end-of-call-report: reading performanceMetrics, the per-call figures,
   the call-record JSON and the EMF metrics, for a 30-turn report (goal: under 1 ms). Also the handler's
   time for the same report with and without performanceMetrics, interleaved, as a cross-check.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import VAPI_FUNCTION_ENV, emit_summary

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _headers() -> dict[str, str]:
    return {"x-vapi-secret": VAPI_FUNCTION_ENV["BENCH_SECRET"], "content-type": "application/json"}


def _event(body: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": "POST /vapi/webhook",
        "rawPath": "/vapi/webhook",
        "rawQueryString": "",
        "headers": _headers(),
        "requestContext": {
            "http": {"method": "POST", "path": "/vapi/webhook", "sourceIp": "127.0.0.1"},
            "domainName": "localhost",
            "stage": "$default",
        },
        "body": raw,
        "isBase64Encoded": False,
    }


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000, help="calls in the simulated day")
    parser.add_argument("--slow-share", type=float, default=0.08)
    parser.add_argument("--repeats", type=int, default=2000, help="timing repeats of the latency work")
    args = parser.parse_args()

    os.environ.update(VAPI_FUNCTION_ENV)
    os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_NAMESPACE="Bench")
    from moto import mock_aws

    from tests.support.metrics import MemoryRecorder
    from voicetrail.domain.latency import CallLatency, LatencyMetrics, call_latency
    from voicetrail_cli.dev.scenario import latency_day, performance_metrics
    from voicetrail_cli.ops.report.render import render_slow_calls, render_table
    from voicetrail_cli.ops.report.roi import load_report

    with mock_aws():
        from voicetrail.storage.dynamo import dynamodb_client
        from voicetrail_cli.dev.local import ensure_table

        client = dynamodb_client(region="us-east-1")
        ensure_table(client, "voicetrail-bench")
        spec = importlib.util.spec_from_file_location("bench_app", ROOT / "functions/vapi_webhook/app.py")
        assert spec and spec.loader
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)

        day_start = 1_764_028_800  # 2025-11-25 00:00 UTC
        calls = latency_day(
            seed=7, calls=args.calls, day_start_ms=day_start * 1000, slow_share=args.slow_share
        )
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):  # EMF lines
            for call in calls:
                assert app.lambda_handler(_event(call.report), _Context())["statusCode"] == 200
        report = load_report(
            client,
            "voicetrail-bench",
            since=day_start,
            until=day_start + 86_399,
            human_cost_per_minute=0.5,
            now=time.time(),
        )
        injected = {c.call_key for c in calls if c.slow_injected}
        flagged = {s.call_key for s in report.slow_calls}
        every_turn = [t for c in calls for t in c.turn_latencies_ms]
        direct_p95 = statistics.quantiles(every_turn, n=100, method="inclusive")[94]
        from rich.console import Console

        console = Console(width=200)
        console.print(render_table(report))
        console.print(f"slow calls flagged: {len(flagged)} (showing 5)")
        report.slow_calls = report.slow_calls[:5]
        console.print(render_slow_calls(report))
        day = report.days[0]
        print(
            f"calls {len(calls)}, slow injected {len(injected)}, flagged {len(flagged)}, "
            f"flagged == injected: {flagged == injected}"
        )
        print(
            f"day turn p95: report {day.latency.turn_p95_ms:.1f} ms, direct {direct_p95:.1f} ms, "
            f"equal: {abs((day.latency.turn_p95_ms or 0) - direct_p95) < 1e-6}"
        )

        # 2. the added in-process time, on a 30-turn report
        base = copy.deepcopy(calls[0].report["message"])
        base["artifact"]["performanceMetrics"] = performance_metrics(random.Random(1), 30, interruptions=3)
        samples = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            latency = call_latency(base)
            assert latency is not None
            latency.figures()
            CallLatency.from_record(latency.to_record())
            LatencyMetrics(MemoryRecorder()).call_reported(latency)
            samples.append(time.perf_counter() - start)
        ordered = sorted(samples)
        p50_us = statistics.median(samples) * 1e6
        p99_us = ordered[int(0.99 * (len(ordered) - 1))] * 1e6
        print(
            f"latency work per 30-turn end-of-call-report: p50 {p50_us:.1f} us, p99 {p99_us:.1f} us "
            f"({args.repeats} repeats; parse + figures + record round trip + EMF values)"
        )

        with_metrics, without = [], []
        plain = copy.deepcopy(base)
        del plain["artifact"]["performanceMetrics"]
        with contextlib.redirect_stdout(sink):
            for n in range(200):
                for body, bucket in ((base, with_metrics), (plain, without)):
                    body = copy.deepcopy(body)
                    body["call"]["id"] = f"bench-{n}-{len(bucket)}-{id(bucket)}"
                    start = time.perf_counter()
                    app.lambda_handler(_event({"message": body}), _Context())
                    bucket.append(time.perf_counter() - start)
        delta_ms = (statistics.median(with_metrics) - statistics.median(without)) * 1000
        print(
            f"handler p50 with performanceMetrics {statistics.median(with_metrics) * 1000:.2f} ms, "
            f"without {statistics.median(without) * 1000:.2f} ms, delta {delta_ms:+.2f} ms "
            "(200 each, interleaved; moto in process, so storage is not AWS's)"
        )
    emit_summary(
        "latency_health",
        {
            "flagged_equals_injected": flagged == injected,
            "p95_equals_direct": abs((day.latency.turn_p95_ms or 0) - direct_p95) < 1e-6,
            "added_p50_us": round(p50_us, 1),
            "added_p99_us": round(p99_us, 1),
        },
    )


if __name__ == "__main__":
    main()
