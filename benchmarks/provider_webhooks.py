"""Retell and ElevenLabs through the real handlers: the figures of issue 27, per platform.

For each platform, `--calls` generated calls (voicetrail_cli.dev.retell_events / elevenlabs_events: a
synthetic
caller's name, SSN, card, phone, e-mail, date of birth, address and member id planted in every field that
carries caller content) are sent to the handler in-process, as Lambda runs it, against a local DynamoDB
(moto's server on loopback). Every event is sent signed, then resent (Retell: refreshed links and
re-ordered keys; ElevenLabs: re-ordered keys), then sent forged (a wrong key), tampered (one byte changed
after signing), stale (signed an hour ago) and unsigned. Printed per platform: deliveries and statuses by
event type, events stored, duplicates stored on resend, forgeries stored, planted values found in the
table or the log lines, and the handler time (p50/p99) of signed deliveries.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import logging
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_summary, summarize_ms

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TABLE = "voicetrail-bench-providers"
KEYS = {"retell": "bench-retell-key", "elevenlabs": "bench-elevenlabs-secret"}


def _env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "TABLE_NAME": TABLE,
        "VOICETRAIL_ALLOW_ENV_SECRETS": "true",
        "HASH_PEPPER_REF": "env:BENCH_PEPPER",
        "BENCH_PEPPER": "bench-pepper",
        "RETELL_API_KEY_REF": "env:BENCH_RETELL",
        "BENCH_RETELL": KEYS["retell"],
        "ELEVENLABS_WEBHOOK_SECRET_REF": "env:BENCH_ELEVENLABS",
        "BENCH_ELEVENLABS": KEYS["elevenlabs"],
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / f"functions/{name}/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calls(platform: str, count: int, seed: int) -> list[tuple[list[dict[str, Any]], list[str]]]:
    """Each call's events in delivery order and its planted values."""
    from voicetrail_cli.dev import elevenlabs_events, retell_events

    rng = random.Random(seed)
    calls = []
    for index in range(count):
        if platform == "retell":
            s = retell_events.script(rng, start_ms=int(time.time() * 1000) - 60_000)
            stream = retell_events.call_stream(s, transfer=index % 2 == 0)
            identity = s.identity
        else:
            e = elevenlabs_events.script(rng, start_s=int(time.time()) - 60)
            stream = [elevenlabs_events.post_call_transcription(e), elevenlabs_events.post_call_audio(e)]
            if index % 5 == 0:  # some outbound calls never connect
                stream = [elevenlabs_events.call_initiation_failure(e)]
            identity = e.identity
        needles = [v for k, v in identity.needles().items() if k != "last_name"]
        calls.append((stream, needles))
    return calls


def _resend(platform: str, payload: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    from voicetrail_cli.dev import elevenlabs_events, retell_events

    if platform == "retell":
        return retell_events.resend(payload, rng)
    return elevenlabs_events.resend(payload)


def _signer(platform: str) -> Callable[[bytes, str, float], dict[str, str]]:
    if platform == "retell":
        from voicetrail.providers.retell.signature import sign as sign_retell

        return lambda body, key, now: sign_retell(body, key, timestamp_ms=int(now * 1000))
    from voicetrail.providers.elevenlabs.signature import sign as sign_elevenlabs

    return lambda body, key, now: sign_elevenlabs(body, key, timestamp=int(now))


def run(platform: str, calls: int, seed: int, client: Any, log: io.StringIO) -> dict[str, Any]:
    from tests.conftest import FakeContext, http_event

    app = _load(f"{platform}_webhook")
    sign = _signer(platform)
    path = f"/{platform}/webhook"
    rng = random.Random(seed + 1)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)  # event type -> "kind status" counts
    handler_s: dict[str, list[float]] = defaultdict(list)  # "authentic" | "refused" -> seconds
    planted: list[str] = []

    def send(body: bytes, headers: dict[str, str]) -> int:
        event = http_event(path, body, {"content-type": "application/json", **headers})
        start = time.perf_counter()
        response = app.lambda_handler(event, FakeContext())
        elapsed = time.perf_counter() - start
        status = int(response["statusCode"])
        handler_s["authentic" if status < 300 else "refused"].append(elapsed)
        return status

    for stream, needles in _calls(platform, calls, seed):
        planted.extend(needles)
        for payload in stream:
            kind = str(payload.get("event", payload.get("type")))
            body = json.dumps(payload).encode()
            now = time.time()
            statuses[kind][f"signed {send(body, sign(body, KEYS[platform], now))}"] += 1
            again = json.dumps(_resend(platform, payload, rng)).encode()
            statuses[kind][f"resent {send(again, sign(again, KEYS[platform], time.time()))}"] += 1
            forged = {
                "forged": (body, sign(body, "attacker-key", now)),
                "tampered": (body.replace(b":", b": ", 1), sign(body, KEYS[platform], now)),
                "stale": (body, sign(body, KEYS[platform], now - 3600)),
                "unsigned": (body, {}),
            }
            for label, (sent, headers) in forged.items():
                statuses[kind][f"{label} {send(sent, headers)}"] += 1
    items = _scan(client)
    stored = [
        i for i in items if i["sk"]["S"].startswith("EVT#") and i.get("source", {}).get("S") == platform
    ]
    by_type = Counter(i["event_type"]["S"] for i in stored)
    keys = Counter((i["pk"]["S"], i["sk"]["S"]) for i in stored)
    haystack = (json.dumps(items) + log.getvalue()).lower()
    found = sorted({n for n in planted if n.lower() in haystack})
    expected = sum(
        1
        for stream, _ in _calls(platform, calls, seed)
        for payload in stream
        if payload.get("type") != "post_call_audio"
    )
    return {
        "statuses": {k: dict(sorted(v.items())) for k, v in sorted(statuses.items())},
        "stored_by_type": dict(sorted(by_type.items())),
        "stored": len(stored),
        "distinct_events_sent": expected,
        "duplicates_stored": sum(n - 1 for n in keys.values() if n > 1) + max(0, len(stored) - expected),
        "planted_values": len(set(planted)),
        "planted_found": found,
        "handler": summarize_ms(handler_s["authentic"]),
        "handler_refused": summarize_ms(handler_s["refused"]),
        "deliveries": {kind: len(samples) for kind, samples in handler_s.items()},
        "log_lines": log.getvalue().count("\n"),
    }


def _scan(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": TABLE, "Limit": 100}  # small pages: moto's server is slow
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20, help="generated calls per platform")
    parser.add_argument("--seed", type=int, default=27)
    args = parser.parse_args()

    from voicetrail.storage.dynamo import dynamodb_client
    from voicetrail_cli.dev.local import EmbeddedDynamo, ensure_table

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    dynamo = EmbeddedDynamo()
    endpoint = dynamo.start()
    os.environ.update(_env(endpoint))
    client = dynamodb_client(endpoint_url=endpoint, region="us-east-1")
    ensure_table(client, TABLE)
    import boto3
    from botocore.config import Config

    # The read-back scans the whole table at the end: a patient client (the handlers keep their own).
    client = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", config=Config(read_timeout=300)
    )
    results: dict[str, Any] = {}
    for platform in ("retell", "elevenlabs"):
        log = io.StringIO()  # the handler's log lines (Powertools writes JSON to stdout)
        with contextlib.redirect_stdout(log):
            results[platform] = run(platform, args.calls, args.seed, client, log)
    dynamo.stop()
    for platform, figures in results.items():
        print(f"== {platform}: {args.calls} generated calls, handler in-process, DynamoDB = moto server")
        print("statuses by event type (delivery kind -> HTTP status: count):")
        for kind, counts in figures["statuses"].items():
            print(f"  {kind:20} {counts}")
        sent = figures["distinct_events_sent"]
        print(f"stored by type: {figures['stored_by_type']} (distinct events sent: {sent})")
        print(f"duplicates stored after resends: {figures['duplicates_stored']}")
        print(
            f"planted values: {figures['planted_values']}, found in the table or the "
            f"{figures['log_lines']} log lines: {figures['planted_found']}"
        )
        print(f"deliveries: {figures['deliveries']}")
        print(f"handler time, authentic deliveries (2xx): {figures['handler']}")
        print(f"handler time, refused deliveries (401): {figures['handler_refused']}")
    emit_summary(
        "provider_webhooks",
        {
            p: {
                "stored": f["stored"],
                "duplicates": f["duplicates_stored"],
                "planted_found": len(f["planted_found"]),
                **f["handler"],
            }
            for p, f in results.items()
        },
    )


if __name__ == "__main__":
    main()
