"""What operator reads cost: `calls show` on a 30-turn call, `audit verify` on 1,000 audited calls.

Both against a moto server on loopback (the local stack's DynamoDB), with the table created from
template.yaml, through a client that counts every DynamoDB request.

  calls show      a 30-turn call (status updates, partial and final transcripts, speech updates, a tool
                  call, an escalation, the end-of-call report) stored by the real vapi_webhook handler
                  (live call control on); then `voicetrail calls show CALL_ID`, timed end to end.
  audit verify    1,000 calls with 3 audit records each, written over 30 days, plus the purge and
                  erasure chains; `audit verify` over the default window (2,190 days) with the reader
                  before this change (one AuditIndex query per calendar day, from git) and after (one
                  query for the days that have records, then one per such day).

    .venv/bin/python benchmarks/operator_reads.py            # ~1-2 minutes
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit_summary

ROOT = Path(__file__).resolve().parents[1]

TABLE = "voicetrail-bench"
BEFORE_COMMIT = "bfd0c6c"  # audit.py before day markers
DAY = 86_400
CALLS = 1_000
RETENTION_DAYS = 2_190


def moto_server() -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def store_call(endpoint: str) -> str:
    """A 30-turn call through the real handler (in this process), as the webhook stores it."""
    from benchmarks._common import VAPI_FUNCTION_ENV
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail_cli.dev.scenario import CallScript, encode

    os.environ.update(
        {
            **VAPI_FUNCTION_ENV,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "LIVE_CALL_CONTROL": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    spec = importlib.util.spec_from_file_location(
        "bench_vapi", ROOT / "functions" / "vapi_webhook" / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    turns = tuple("I need a human now." if n == 12 else f"Turn {n}: my card ends 4242." for n in range(30))
    script = CallScript(user_lines=("Yes, that's fine.", *turns))
    from tests.conftest import FakeContext, http_event

    # voicetrail serves the call's assistant (it owns the call), so its live features act on it.
    owned = [("assistant-request", script._envelope({"type": "assistant-request"}, 0)), *script.messages()]
    for _label, payload in owned:
        body = encode(payload)
        headers = {"content-type": "application/json", **sign_request(VapiAuthConfig(), body, "s")}
        response = module.lambda_handler(http_event("/vapi/webhook", body, headers), FakeContext())
        assert response["statusCode"] == 200, response
    return script.call_id


def calls_show(endpoint: str, call_id: str) -> dict[str, Any]:
    from voicetrail_cli.ops.calls import load_call, render_call
    from voicetrail_cli.output import show
    from voicetrail_cli.target import resolve

    target = resolve(table=TABLE, dynamodb_endpoint=endpoint, stack=None, region=None)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        view = load_call(target, call_id, now=time.time())
        with open(os.devnull, "w") as sink:
            from rich.console import Console

            show(*render_call(view), out=Console(file=sink, width=200))
        runs.append(time.perf_counter() - start)
    # The whole command too, in a fresh interpreter (imports included), as an operator runs it.
    start = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("voicetrail")),
            "calls",
            "show",
            call_id,
            "--table",
            TABLE,
            "--dynamodb-endpoint",
            endpoint,
        ],
        check=True,
        capture_output=True,
    )
    process = time.perf_counter() - start
    return {
        "events": len(view.events),
        "audit_records": len(view.audit),
        "timeline_entries": len(view.timeline),
        "dynamodb_requests": view.dynamodb_requests,
        "read_and_render_ms_median": round(sorted(runs)[2] * 1000, 1),
        "command_wall_s": round(process, 2),
    }


def old_audit_module() -> Any:
    source = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:layers/common/voicetrail/domain/audit/trail.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # expiry_bucket has since moved to the storage model; the reader's logic is what is measured.
    source = source.replace(
        "from voicetrail.domain.retention.classes import DAY, RetentionClass, RetentionPolicy, expiry_bucket",
        "from voicetrail.domain.retention.classes import DAY, RetentionClass, RetentionPolicy\n"
        "from voicetrail.storage.table import expiry_bucket",
    )
    path = Path(tempfile.mkdtemp()) / "audit_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("audit_before", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def audit_verify(endpoint: str) -> dict[str, Any]:
    from voicetrail.domain.audit.trail import AuditKind, AuditReader, AuditTrail, system_pk
    from voicetrail.storage.call_view import RequestCounter
    from voicetrail_cli.target import dynamodb_admin_client

    client = dynamodb_admin_client(endpoint)
    now = time.time()
    from voicetrail.storage.audit import DynamoAuditStore

    trail = AuditTrail(DynamoAuditStore(client, TABLE), sleep=lambda _: None)
    for n in range(CALLS):
        at = now - (n % 30) * DAY - n
        trail.append(f"bench-call-{n}", AuditKind.CONSENT_ASKED, {"asks": 1}, at)
        trail.append(f"bench-call-{n}", AuditKind.CONSENT_GIVEN, {"source": "transcript"}, at + 2)
        trail.append(f"bench-call-{n}", AuditKind.PII_REDACTED, {"ssn": 1}, at + 5)
    trail.append_system("purge", AuditKind.PURGE, {"deleted": 0}, now)
    trail.append_system("erasure", AuditKind.ERASURE, {"calls_erased": 0}, now)
    since = now - RETENTION_DAYS * DAY
    results = {}
    for name, reader_class in (("before", old_audit_module().AuditReader), ("after", AuditReader)):
        counting = RequestCounter(client)
        # The reader before this change took (client, table); the current one takes the store port.
        reader = (
            reader_class(counting, TABLE)
            if name == "before"
            else reader_class(DynamoAuditStore(counting, TABLE))
        )
        start = time.perf_counter()
        pks = reader.chains_since(since, now=now)
        pks += [p for p in (system_pk("purge"), system_pk("erasure")) if p not in pks]
        report = reader.verify(pks, now=now)
        elapsed = time.perf_counter() - start
        results[name] = {
            "ok": report.ok,
            "chains": report.chains,
            "records": report.records,
            "dynamodb_requests": counting.total,
            "seconds": round(elapsed, 2),
        }
    return results


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request lines
    from voicetrail_cli.dev.local import ensure_table
    from voicetrail_cli.target import dynamodb_admin_client

    server, endpoint = moto_server()
    try:
        ensure_table(dynamodb_admin_client(endpoint), TABLE)
        call_id = store_call(endpoint)
        show = calls_show(endpoint, call_id)
        print("calls show, a 30-turn call (moto server on loopback)")
        for key, value in show.items():
            print(f"  {key:28s} {value}")
        verify = audit_verify(endpoint)
        print(f"audit verify, {CALLS:,} audited calls x 3 records over 30 days, window {RETENTION_DAYS} days")
        print(f"  {'':8s} {'requests':>9s} {'seconds':>8s} {'chains':>7s} {'records':>8s} ok")
        for name, r in verify.items():
            print(
                f"  {name:8s} {r['dynamodb_requests']:>9d} {r['seconds']:>8.2f} {r['chains']:>7d} "
                f"{r['records']:>8d} {r['ok']}"
            )
    finally:
        server.stop()
    emit_summary("operator_reads", {"calls_show": show, "audit_verify": verify})


if __name__ == "__main__":
    main()
