"""The campaign.predial gate: its decision on every case of tests/data/predial_cases.json, and its time.

Two timings, both in process on in-memory adapters (no network):
  gate     PredialGate.decide() + the audit append + the reply: the gate's own time per contact;
  webhook  a whole VapiWebhookService.handle() of a campaign.predial (authenticate, parse, sanitise,
           store once, the gate, the audit), on a new contact id each time.

Usage: python benchmarks/predial.py [--iterations N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_summary, summarize_ms

ROOT = Path(__file__).resolve().parents[1]
CASES = json.loads((ROOT / "tests" / "data" / "predial_cases.json").read_text())["cases"]
PEPPER = "bench-pepper"
SECRET = "bench-vapi-secret"


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def gate_for(case: dict[str, Any]) -> tuple[Any, Any]:
    from tests.support.live import MemoryAuditSink
    from tests.support.memory import InMemoryDoNotCallList, MemoryLiveStore
    from voicetrail.domain.callers import CallerHasher
    from voicetrail.domain.live.store import CallerConsent
    from voicetrail.providers.vapi.predial import PredialGate, PredialPolicy, RecordedConsent

    hasher = CallerHasher(PEPPER)
    at = epoch(case["at"])
    dnc = InMemoryDoNotCallList()
    if case.get("dnc") or case.get("dnc_number"):
        dnc.add(hasher.hash(case.get("dnc_number") or case["number"]), now=at)
    consents = MemoryLiveStore()
    days = case.get("consent_days_ago")
    if days is not None:
        decision = "granted" if days >= 0 else "denied"
        consents.put_caller_consent(
            hasher.hash(case["number"]), CallerConsent(decision, int(at - abs(days) * 86_400)), now=at
        )
    gate = PredialGate(
        policy=PredialPolicy.model_validate(case.get("policy", {})),
        dnc=dnc,
        consent=RecordedConsent(consents),
        audit=MemoryAuditSink(),
        clock=lambda: at,
    )
    return gate, hasher


def decisions_table() -> list[dict[str, Any]]:
    rows = []
    for case in CASES:
        gate, hasher = gate_for(case)
        decision = gate.decide(case["number"], hasher)
        rows.append(
            {
                "case": case["name"],
                "local": ",".join(decision.zones[:2]) + ("..." if len(decision.zones) > 2 else ""),
                "at_utc": case["at"][11:16],
                "reply": json.dumps(decision.reply()),
                "reason": decision.reason,
                "expected": case["expect"],
            }
        )
    return rows


def time_gate(iterations: int) -> tuple[list[float], list[float]]:
    """(wall-clock samples, CPU-time samples of this thread). On a shared machine the wall clock also
    counts the time the process waited for a core; the thread's CPU time does not."""
    wall: list[float] = []
    cpu: list[float] = []
    prepared = [(*gate_for(case), case) for case in CASES]
    for i in range(iterations):
        gate, hasher, case = prepared[i % len(prepared)]
        start, start_cpu = time.perf_counter(), time.thread_time()
        decision = gate.decide(case["number"], hasher)
        gate.audit(decision, campaign_id="campaign-bench", contact_id=f"c{i}")
        decision.reply()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def time_webhook(iterations: int) -> list[float]:
    from aws_lambda_powertools import Logger

    from tests.support.live import MemoryAuditSink
    from tests.support.memory import InMemoryDoNotCallList, InMemoryEventStore, MemoryLiveStore
    from tests.support.metrics import MemoryRecorder
    from tests.support.vapi import vapi_service
    from voicetrail.domain.callers import CallerHasher
    from voicetrail.domain.retention.classes import RetentionPolicy
    from voicetrail.infra.secrets import SecretRef, SecretResolver
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail.providers.vapi.predial import PredialGate, PredialPolicy, RecordedConsent
    from voicetrail.providers.vapi.replies import PredialResponder, base_responders
    from voicetrail.transport.http import InboundRequest

    def resolver(value: str) -> SecretResolver:
        return SecretResolver(SecretRef("env", "UNUSED"), fetch=lambda ref, age: value)

    metrics = MemoryRecorder()
    gate = PredialGate(
        policy=PredialPolicy(),
        dnc=InMemoryDoNotCallList(),
        consent=RecordedConsent(MemoryLiveStore()),
        audit=MemoryAuditSink(),
        clock=time.time,
    )
    logger = Logger(service="bench-predial")
    logger.setLevel(logging.WARNING)
    service = vapi_service(
        auth=VapiAuthConfig(),
        secrets=resolver(SECRET),
        pepper=resolver(PEPPER),
        store=InMemoryEventStore(),
        retention=RetentionPolicy(),
        metrics=metrics,
        logger=logger,
        max_body_bytes=1_048_576,
        fallback_responders=base_responders(
            predial=PredialResponder(gate, lambda: CallerHasher(PEPPER), metrics)
        ),
    )
    samples: list[float] = []
    for i in range(iterations):
        contact = {
            "id": f"contact-{i}",
            "campaignId": "campaign-bench",
            "orgId": "org",
            "number": "+442079460018",
            "createdAt": "2025-11-20T10:00:00Z",
        }
        body = json.dumps(
            {"message": {"type": "campaign.predial", "campaignId": "campaign-bench", "contact": contact}}
        ).encode()
        request = InboundRequest(
            method="POST",
            path="/vapi/webhook",
            raw_query="",
            headers=sign_request(VapiAuthConfig(), body, SECRET),
            body=body,
        )
        start = time.perf_counter()
        service.handle(request)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000)
    args = parser.parse_args()
    rows = decisions_table()
    print(f"{'case':36} {'zones':34} {'UTC':5}  {'reply':20} {'reason':18} ok")
    for row in rows:
        ok = "yes" if row["reason"] == row["expected"] else "NO"
        print(
            f"{row['case']:36} {row['local']:34} {row['at_utc']:5}  {row['reply']:20} {row['reason']:18} {ok}"
        )
    time_gate(200)  # warm-up: imports, zoneinfo and phonenumbers caches
    wall, cpu = time_gate(args.iterations)
    gate, gate_cpu = summarize_ms(wall), summarize_ms(cpu)
    time_webhook(100)
    webhook = summarize_ms(time_webhook(max(500, args.iterations // 5)))
    print(f"gate    (decide + audit + reply), {args.iterations} decisions over {len(CASES)} cases: {gate}")
    print(f"gate    the same, CPU time of the thread (no waiting for a core): {gate_cpu}")
    print(f"webhook (whole handle() of a campaign.predial), in-memory adapters: {webhook}")
    wrong = sum(1 for r in rows if r["reason"] != r["expected"])
    figures = {
        "cases": len(rows),
        "wrong": wrong,
        "gate_p99_ms": gate["p99_ms"],
        "gate_cpu_p99_ms": gate_cpu["p99_ms"],
    }
    emit_summary("predial", {**figures, "webhook_p99_ms": webhook["p99_ms"]})
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
