"""In-process vapi_webhook handler time per message type, split into verify / parse / redact / store.

The handler runs as Lambda runs it (lambda_handler(event, context)) against a local DynamoDB: moto's
server on loopback, so storage includes a real HTTP round trip (not AWS's network). The split comes from
timing wrappers around the service's own steps.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import VAPI_FUNCTION_ENV, emit_summary, summarize_ms

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TIMINGS: dict[str, list[float]] = defaultdict(list)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMINGS[name].append(time.perf_counter() - start)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300, help="events per message type")
    args = parser.parse_args()

    import contextlib
    import io
    import logging

    from voicetrail.providers.vapi import sanitize as sanitize_module
    from voicetrail.providers.vapi import service as service_module
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail_cli.dev.local import EmbeddedDynamo, ensure_table
    from voicetrail_cli.dev.scenario import CallScript

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    dynamo = EmbeddedDynamo()
    endpoint = dynamo.start()
    os.environ.update(VAPI_FUNCTION_ENV)
    os.environ.update(
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    from voicetrail.storage.dynamo import dynamodb_client

    ensure_table(dynamodb_client(endpoint_url=endpoint, region="us-east-1"), "voicetrail-bench")
    spec = importlib.util.spec_from_file_location("bench_vapi_app", ROOT / "functions/vapi_webhook/app.py")
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)

    service = app.service
    service._authenticate = timed("verify", service._authenticate)
    service_module.parse_envelope = timed("parse", service_module.parse_envelope)
    sanitize_module.MessageSanitizer.sanitize = timed("redact", sanitize_module.MessageSanitizer.sanitize)
    service._store.put_event = timed("store", service._store.put_event)
    # Every DynamoDB call of the function (event write, consent, audit, call record, name memory...).
    client = service._store._client
    original_call = client._make_api_call
    operations: list[str] = []

    def counted(operation: str, params: dict[str, Any]) -> Any:
        operations.append(operation)
        return timed("dynamodb", original_call)(operation, params)

    client._make_api_call = counted

    from tests.conftest import FakeContext, http_event

    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    while min((len(v) for v in by_type.values()), default=0) < args.events:
        for _label, payload in CallScript().messages():
            by_type[payload["message"]["type"]].append(payload)
    config = VapiAuthConfig()
    results: dict[str, dict[str, float]] = {}
    mixes: list[str] = []
    lines = [
        f"{args.events} events per type, handler in-process, DynamoDB = moto server on loopback",
        f"{'type':22} {'total p50':>10} {'p99':>8} "
        f"{'verify':>8} {'parse':>8} {'redact':>8} {'store':>8}  store%  db calls/event  db ms/event",
    ]
    quiet = contextlib.redirect_stdout(io.StringIO())  # the handler's EMF metric lines
    quiet.__enter__()
    for message_type, payloads in by_type.items():
        TIMINGS.clear()
        operations.clear()
        totals = []
        for payload in payloads[: args.events]:
            body = json.dumps(payload).encode()
            event = http_event("/vapi/webhook", body, sign_request(config, body, "s"))
            start = time.perf_counter()
            response = app.lambda_handler(event, FakeContext())
            totals.append(time.perf_counter() - start)
            assert response["statusCode"] == 200, response
        total = summarize_ms(totals)
        parts = {
            name: summarize_ms(TIMINGS[name])["p50_ms"] for name in ("verify", "parse", "redact", "store")
        }
        share = parts["store"] / total["p50_ms"] * 100
        count = len(payloads[: args.events])
        db_calls = len(operations) / count
        db_ms = sum(TIMINGS["dynamodb"]) * 1000 / count
        mix = ", ".join(f"{op} x{n / count:.1f}" for op, n in sorted(Counter(operations).items()))
        mixes.append(f"  {message_type:22} {mix}")
        results[message_type] = {
            **total,
            **{f"{k}_p50_ms": v for k, v in parts.items()},
            "store_share_pct": share,
        }
        lines.append(
            f"{message_type:22} {total['p50_ms']:9.2f}ms {total['p99_ms']:7.2f}ms {parts['verify']:7.3f}ms "
            f"{parts['parse']:7.3f}ms {parts['redact']:7.3f}ms {parts['store']:7.3f}ms  {share:4.0f}%"
            f"  {db_calls:14.1f}  {db_ms:11.2f}"
        )
    quiet.__exit__(None, None, None)
    print("\n".join([*lines, "DynamoDB operations per event:", *mixes]))
    dynamo.stop()
    transcript = results.get("transcript", {})
    emit_summary(
        "handler_latency",
        {
            "transcript_p50_ms": transcript.get("p50_ms"),
            "transcript_p99_ms": transcript.get("p99_ms"),
            "transcript_store_share_pct": round(transcript.get("store_share_pct", 0), 1),
        },
    )


if __name__ == "__main__":
    main()
