"""In-process time of the live-call replies: assistant-request, tool-calls, transfer-destination-request.

Each sample is one whole `VapiWebhookService.handle()` (authenticate, parse, sanitise, store once, the
live observer and the responder), on a new call id each time, with warm config caches (as in a warm
Lambda). Target: p99 <= 50 ms excluding the network to AWS.

Two backends (both run by default):
  memory  in-memory event store, live store and audit trail: pure CPU time of our code;
  moto    moto's DynamoDB server on 127.0.0.1 with the real adapters (DynamoEventStore, DynamoLiveStore,
          AuditTrail, TableConfigSource): adds real HTTP round trips to a local server, not AWS's network.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_summary, summarize_ms

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-vapi-secret"
PHONE = "5f1b8a8e-7a2c-4b8e-9a51-1f7c2c1d9e10"
CONFIG = {"transfer": {"type": "number", "number": "+14155550100", "mode": "warm-summary"}}


def message(type_: str, call_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "message": {
            "type": type_,
            "timestamp": int(time.time() * 1000),
            "call": {
                "id": call_id,
                "type": "inboundPhoneCall",
                "phoneCallProvider": "twilio",
                "phoneCallProviderId": "CA" + call_id.replace("-", "")[:32],
                "phoneNumberId": PHONE,
                "customer": {"number": "+14155550123"},
                "monitor": {"controlUrl": f"https://phone-call-websocket.vapi.ai/{call_id}/control"},
            },
            "customer": {"number": "+14155550123"},
            **fields,
        }
    }


def build(backend: str) -> tuple[Callable[[dict[str, Any]], Any], Callable[[], None]]:
    from aws_lambda_powertools import Logger

    from tests.support.metrics import MemoryRecorder
    from tests.support.vapi import vapi_service
    from voicetrail.domain.live.control import RecordingController
    from voicetrail.domain.retention.classes import RetentionPolicy
    from voicetrail.infra.secrets import SecretRef, SecretResolver
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail.transport.http import InboundRequest

    logger = Logger(service="bench", level="ERROR")
    metrics = MemoryRecorder()
    stop: Callable[[], None] = lambda: None  # noqa: E731
    if backend == "memory":
        from tests.support.live import InMemoryLive
        from tests.support.memory import InMemoryEventStore

        live = InMemoryLive(configs={f"CONFIG#phone#{PHONE}": CONFIG}, logger=logger)
        store: Any = InMemoryEventStore()
        live_kwargs = live.service_kwargs()
    else:
        from voicetrail.domain.audit.trail import AuditTrail
        from voicetrail.domain.live.config import ConfigResolver
        from voicetrail.domain.live.consent_flow import ConsentService
        from voicetrail.domain.live.escalation import EscalationService
        from voicetrail.providers.vapi.live_runtime import LiveCallFeatures
        from voicetrail.storage.audit import DynamoAuditStore
        from voicetrail.storage.dynamo import DynamoEventStore
        from voicetrail.storage.live import DynamoLiveStore, TableConfigSource
        from voicetrail_cli.dev.live_scenarios import put_config
        from voicetrail_cli.dev.local import EmbeddedDynamo, ensure_table
        from voicetrail_cli.target import dynamodb_admin_client

        dynamo = EmbeddedDynamo()
        endpoint = dynamo.start()
        stop = dynamo.stop
        client = dynamodb_admin_client(endpoint)
        ensure_table(client, "bench")
        put_config(client, "bench", f"CONFIG#phone#{PHONE}", CONFIG)
        retention = RetentionPolicy()
        live_store = DynamoLiveStore(client, "bench", retention)
        audit = AuditTrail(DynamoAuditStore(client, "bench"), retention=retention)
        common: dict[str, Any] = {
            "store": live_store,
            "audit": audit,
            "controller": RecordingController(),
            "metrics": metrics,
            "logger": logger,
            "clock": time.time,
        }
        features = LiveCallFeatures(
            configs=ConfigResolver(TableConfigSource(client, "bench"), cache_seconds=30, metrics=metrics),
            store=live_store,
            audit=audit,
            consent=ConsentService(**common),
            escalation=EscalationService(**common),
            metrics=metrics,
            logger=logger,
            clock=time.time,
        )
        store = DynamoEventStore(client, "bench")
        live_kwargs = {
            "responders": features.responders(),
            "observers": (features.observe,),
            "content_policy": features.content_policy,
        }
    resolver = SecretResolver(SecretRef("env", "UNUSED"), fetch=lambda ref, age: SECRET)
    service = vapi_service(
        auth=VapiAuthConfig(),
        secrets=resolver,
        pepper=SecretResolver(SecretRef("env", "UNUSED"), fetch=lambda ref, age: "bench-pepper"),
        store=store,
        retention=RetentionPolicy(),
        metrics=metrics,
        logger=logger,
        max_body_bytes=1_048_576,
        **live_kwargs,
    )

    def handle(payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {k.lower(): v for k, v in sign_request(VapiAuthConfig(), body, SECRET).items()}
        reply = service.handle(InboundRequest("POST", "/vapi/webhook", "", headers, body))
        assert reply.status == 200, reply
        return reply.body

    return handle, stop


def run(backend: str, iterations: int) -> dict[str, dict[str, float]]:
    handle, stop = build(backend)
    samples: dict[str, list[float]] = {
        "assistant-request": [],
        "tool-calls": [],
        "transfer-destination-request": [],
    }
    try:
        for n in range(iterations + 20):
            call_id = str(uuid.uuid4())
            payloads = {
                "assistant-request": message("assistant-request", call_id),
                "tool-calls": message(
                    "tool-calls",
                    call_id,
                    toolCallList=[
                        {
                            "id": f"call_{n}",
                            "type": "function",
                            "function": {"name": "record_consent", "arguments": '{"decision":"granted"}'},
                        }
                    ],
                ),
                "transfer-destination-request": message("transfer-destination-request", call_id),
            }
            for kind, payload in payloads.items():
                start = time.perf_counter()
                reply = handle(payload)
                elapsed = time.perf_counter() - start
                assert "error" not in reply or kind == "tool-calls", reply
                if n >= 20:  # warm-up: first config fetches, imports
                    samples[kind].append(elapsed)
    finally:
        stop()
    return {kind: summarize_ms(values) for kind, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=300, help="calls per backend")
    parser.add_argument("--backend", choices=["memory", "moto", "both"], default="both")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    backends = ["memory", "moto"] if args.backend == "both" else [args.backend]
    summary: dict[str, Any] = {}
    print(f"{'backend':8} {'message':30} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for backend in backends:
        for kind, figures in run(backend, args.iterations).items():
            p50, p99, top = figures["p50_ms"], figures["p99_ms"], figures["max_ms"]
            print(f"{backend:8} {kind:30} {p50:8.2f} {p99:8.2f} {top:8.2f}")
            short = {"assistant-request": "ar", "tool-calls": "tc", "transfer-destination-request": "tdr"}[
                kind
            ]
            summary[f"{backend}_{short}_p99_ms"] = figures["p99_ms"]
    worst = max(summary.values())
    print(f"target p99 <= 50 ms: {'met' if worst <= 50 else 'NOT met'} (worst p99 {worst:.2f} ms)")
    emit_summary("live_calls", summary)


if __name__ == "__main__":
    main()
