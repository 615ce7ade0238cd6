"""Cold-init ratio of the vapi_webhook handler against the floor of `import boto3` + a DynamoDB client.

Each sample is a fresh interpreter (as a Lambda cold start is), the sides interleaved so that all see the
same machine state. What runs is what Lambda runs:

* the layer is built the way `layers/common/Makefile` builds it for SAM: copied and compiled to bytecode
  (`/opt` is read-only on Lambda, so an uncompiled layer would recompile on every cold start);
* the function's environment comes from template.yaml with its parameter defaults (live call control on),
  so every feature the deployed function loads at init is loaded here.

Four sides are measured:

* floor     `import boto3` + `boto3.client("dynamodb")`;
* required  the floor plus what the design requires on this path before any voicetrail code runs: one
            pydantic model defined and validated ("parse with our own pydantic models"), Powertools Logger
            and Metrics. No handler built that way can init faster. (`phonenumbers` is not in it: voicetrail
            loads it on the first number that needs it, not at init);
* minimal   benchmarks/minimal_webhook.py, a typical ~30-line Powertools webhook (APIGatewayHttpResolver,
            Logger, Metrics, a pydantic model parsed with Powertools' parser, a DynamoDB Table resource):
            the peer voicetrail's handler should start no slower than;
* handler   importing functions/vapi_webhook/app.py: settings, clients, service wiring.

With `--first-request` (default) a second table times the whole cold start to the first response, so that
nothing can hide by being deferred past init: secrets come from Secrets Manager through Powertools
Parameters (as in production), and DynamoDB and Secrets Manager are a moto server on loopback. It times the
first request twice: from a North American caller, and from a UK caller (+44), whose number is the first to
need `phonenumbers` (loaded on demand, not at init).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_summary

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "functions" / "vapi_webhook" / "app.py"
MINIMAL = ROOT / "benchmarks" / "minimal_webhook.py"
HEAVY = ("twilio.rest", "httpx", "aws_xray_sdk", "moto", "rich", "typer", "phonenumbers")

FLOOR = """
import time
t = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - t)
"""

REQUIRED = """
import time
t = time.perf_counter()
import boto3
boto3.client("dynamodb")
from pydantic import BaseModel
class Message(BaseModel):
    type: str
Message.model_validate({"type": "transcript"})
from aws_lambda_powertools import Logger, Metrics
Logger(service="vapi_webhook")
Metrics(namespace="Bench", service="vapi_webhook")
print(time.perf_counter() - t)
"""

HANDLER = """
import importlib.util, sys, time
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - t
heavy = [m for m in sys.argv[2].split(",") if m in sys.modules]
print(elapsed, ",".join(heavy) or "-")
"""

# With --rtt-ms, every AWS call of every side waits that long before it is sent (a sleep releases the GIL, as
# a network wait does): moto on loopback answers in ~3 ms, an AWS service in the same region in 5 to 30 ms.
SIMULATED_RTT = """
import os
if float(os.environ.get("BENCH_RTT_MS") or 0):
    import boto3
    boto3.setup_default_session()
    _rtt = float(os.environ["BENCH_RTT_MS"]) / 1000
    boto3.DEFAULT_SESSION.events.register("before-send", lambda **_: time.sleep(_rtt))
"""

FLOOR_FIRST = (
    """
import sys, time
t = time.perf_counter()
"""
    + SIMULATED_RTT
    + """
import boto3
client = boto3.client("dynamodb")
client.put_item(TableName=sys.argv[1], Item={"pk": {"S": "floor#" + sys.argv[2]}, "sk": {"S": "x"}})
print(time.perf_counter() - t)
"""
)

HANDLER_FIRST = (
    """
import importlib.util, json, sys, time
event = json.loads(open(sys.argv[2]).read())[int(sys.argv[3])]

class Context:
    function_name = "vapi_webhook"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:vapi_webhook"
    def get_remaining_time_in_millis(self): return 10_000

t = time.perf_counter()
"""
    + SIMULATED_RTT
    + """
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
init = time.perf_counter() - t
response = module.lambda_handler(event, Context())
total = time.perf_counter() - t
assert "httpx" not in sys.modules, "the first request reached for the network (Live Call Control)"
print("RESULT", init, total, response["statusCode"])
"""
)


def build_layer(python: str, into: Path) -> Path:
    """The layer as SAM builds it: our package copied and compiled by the target interpreter."""
    target = into / "python"
    shutil.copytree(
        ROOT / "layers" / "common" / "voicetrail",
        target / "voicetrail",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    subprocess.run(
        [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)],
        check=True,
    )
    return target


def function_environment(layer: Path, aws_endpoint: str | None) -> dict[str, str]:
    """The deployed function's environment (template.yaml, parameter defaults), secrets in Secrets Manager."""
    from voicetrail_cli.ops.template import functions, load_template, parameter_defaults, resolve_local_env

    template = load_template()
    spec = next(f for f in functions(template) if f.name == "vapi_webhook")
    env = resolve_local_env(
        spec.environment,
        parameters=parameter_defaults(template),
        overrides={"TABLE_NAME": "voicetrail-bench", "POWERTOOLS_METRICS_NAMESPACE": "Bench"},
    )
    env.update(
        VAPI_SECRET_REF="secretsmanager:voicetrail/bench/vapi",
        HASH_PEPPER_REF="secretsmanager:voicetrail/bench/pepper",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_LAMBDA_FUNCTION_NAME="vapi_webhook",  # set by the Lambda runtime (voicetrail.coldstart reads it)
        PYTHONPATH=str(layer),  # /opt/python on Lambda: no editable-install finder involved
        PATH=os.environ.get("PATH", ""),
    )
    if aws_endpoint:
        env["AWS_ENDPOINT_URL"] = aws_endpoint
    return env


class Runner:
    def __init__(self, python: str, env: dict[str, str]) -> None:
        self.python = python
        self.env = env

    def lines(self, code: str, *args: str) -> list[str]:
        out = subprocess.run(
            [self.python, "-c", code, *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
            cwd=ROOT,
        )
        return out.stdout.splitlines()

    def seconds(self, code: str, *args: str) -> float:
        return float(self.lines(code, *args)[-1].split()[0])


def start_aws() -> tuple[Any, str]:
    """moto server with the table (from template.yaml) and the two secrets the function reads."""
    import logging

    import boto3

    from voicetrail_cli.dev.local import EmbeddedDynamo, ensure_table

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = EmbeddedDynamo()
    endpoint = server.start()
    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    ensure_table(session.client("dynamodb", endpoint_url=endpoint), "voicetrail-bench")
    secrets = session.client("secretsmanager", endpoint_url=endpoint)
    secrets.create_secret(Name="voicetrail/bench/vapi", SecretString="bench-vapi-secret")
    secrets.create_secret(Name="voicetrail/bench/pepper", SecretString="bench-pepper")
    return server, endpoint


def first_transcripts(count: int, path: Path, caller: str = "+14155550123") -> None:
    """One distinct signed transcript (a card number spoken) per run: each first request is a real write."""
    from tests.conftest import http_event
    from voicetrail_cli.dev.scenario import CallScript

    events = []
    for _ in range(count):
        script = CallScript(customer_number=caller)
        payload = next(p for label, p in script.messages() if label == "user final #0")
        body = json.dumps(payload).encode()
        events.append(http_event("/vapi/webhook", body, {"x-vapi-secret": "bench-vapi-secret"}))
    path.write_text(json.dumps(events))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:51} : {value:>9}{'   ' + note if note else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable, help="interpreter, e.g. .venv-lambda/bin/python")
    parser.add_argument("--no-first-request", dest="first_request", action="store_false")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=0.0,
        help="first-request table: a simulated network round trip added to every AWS call (default 0)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    version = subprocess.run(
        [args.python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="voicetrail-layer-") as tmp:
        layer = build_layer(args.python, Path(tmp))
        runner = Runner(args.python, function_environment(layer, None))
        runner.lines(FLOOR)  # warm the OS file cache for every side
        runner.lines(REQUIRED)
        runner.lines(HANDLER, str(APP), ",".join(HEAVY))
        runner.lines(HANDLER, str(MINIMAL), "")
        floor, required, minimal, handler, heavy = [], [], [], [], set()
        for _ in range(args.runs):
            floor.append(runner.seconds(FLOOR))
            required.append(runner.seconds(REQUIRED))
            minimal.append(runner.seconds(HANDLER, str(MINIMAL), ""))
            elapsed, modules = runner.lines(HANDLER, str(APP), ",".join(HEAVY))[-1].split()
            handler.append(float(elapsed))
            heavy.update(m for m in modules.split(",") if m != "-")
        floor_ms, required_ms, handler_ms = median_ms(floor), median_ms(required), median_ms(handler)
        minimal_ms = median_ms(minimal)
        ratio = handler_ms / floor_ms
        print(f"python {version}, compiled layer, template.yaml environment, {args.runs} interpreters a side")
        row("floor     import boto3 + dynamodb client", f"{floor_ms:.1f} ms")
        row(
            "required  floor + pydantic, Powertools",
            f"{required_ms:.1f} ms",
            f"{required_ms / floor_ms:.2f}x: the lowest ratio the design allows",
        )
        row(
            "minimal   ~30-line Powertools webhook",
            f"{minimal_ms:.1f} ms",
            f"{minimal_ms / floor_ms:.2f}x the floor",
        )
        row("handler   vapi_webhook import + clients", f"{handler_ms:.1f} ms")
        row("ratio     handler / floor", f"{ratio:.2f}x")
        row("ratio     handler / minimal webhook", f"{handler_ms / minimal_ms:.2f}x", "(goal <= 1.00x)")
        row("voicetrail's own init (handler - required)", f"{handler_ms - required_ms:.1f} ms")
        row("heavy modules on the import path", ", ".join(sorted(heavy)) or "none")
        figures: dict[str, Any] = {
            "floor_ms": round(floor_ms, 1),
            "required_ms": round(required_ms, 1),
            "minimal_ms": round(minimal_ms, 1),
            "handler_ms": round(handler_ms, 1),
            "ratio": round(ratio, 2),
            "minimal_ratio": round(minimal_ms / floor_ms, 2),
            "handler_vs_minimal": round(handler_ms / minimal_ms, 2),
            "required_ratio": round(required_ms / floor_ms, 2),
            "heavy_imports": sorted(heavy),
        }

        if args.first_request:
            server, endpoint = start_aws()
            try:
                events = Path(tmp) / "events.json"
                first_transcripts(args.runs, events)
                # A caller outside North America: phonenumbers is loaded by this first request.
                abroad = Path(tmp) / "events-abroad.json"
                first_transcripts(args.runs, abroad, caller="+442079460958")
                runner = Runner(args.python, function_environment(layer, endpoint))
                runner.env["BENCH_RTT_MS"] = str(args.rtt_ms)
                floor_first, init, request, total, minimal_total, abroad_total = [], [], [], [], [], []
                for run in range(args.runs):
                    floor_first.append(runner.seconds(FLOOR_FIRST, "voicetrail-bench", str(run)))
                    peer = runner.lines(HANDLER_FIRST, str(MINIMAL), str(events), str(run))[-1].split()
                    assert peer[0] == "RESULT" and peer[3] == "200", peer
                    minimal_total.append(float(peer[2]))
                    result = runner.lines(HANDLER_FIRST, str(APP), str(events), str(run))[-1].split()
                    assert result[0] == "RESULT" and result[3] == "200", result
                    init.append(float(result[1]))
                    total.append(float(result[2]))
                    request.append(float(result[2]) - float(result[1]))
                    other = runner.lines(HANDLER_FIRST, str(APP), str(abroad), str(run))[-1].split()
                    assert other[0] == "RESULT" and other[3] == "200", other
                    abroad_total.append(float(other[2]))
            finally:
                server.stop()
            floor_first_ms, total_ms = median_ms(floor_first), median_ms(total)
            first_ratio = total_ms / floor_first_ms
            rtt = f", {args.rtt_ms:g} ms simulated round trip per AWS call" if args.rtt_ms else ""
            where = f"DynamoDB and Secrets Manager: moto server on loopback{rtt}"
            print(f"cold start to the first response ({where})")
            row("floor     import boto3 + client + one PutItem", f"{floor_first_ms:.1f} ms")
            minimal_first_ms = median_ms(minimal_total)
            row(
                "minimal   init + first transcript (200)",
                f"{minimal_first_ms:.1f} ms",
                f"{minimal_first_ms / floor_first_ms:.2f}x the floor",
            )
            row(
                "handler   init + first signed transcript (200)",
                f"{total_ms:.1f} ms",
                f"init {median_ms(init):.1f} ms, first request {median_ms(request):.1f} ms",
            )
            abroad_ms = median_ms(abroad_total)
            row(
                "handler   the same, caller +44 (loads phonenumbers)",
                f"{abroad_ms:.1f} ms",
                f"{abroad_ms / minimal_first_ms:.2f}x the minimal webhook",
            )
            row("ratio     handler / floor", f"{first_ratio:.2f}x")
            row("ratio     handler / minimal webhook", f"{total_ms / minimal_first_ms:.2f}x")
            figures.update(
                first_response_ratio=round(first_ratio, 2),
                first_response_ms=round(total_ms, 1),
                minimal_first_response_ms=round(minimal_first_ms, 1),
                abroad_first_response_ms=round(abroad_ms, 1),
                simulated_rtt_ms=args.rtt_ms,
            )
    emit_summary("cold_init", figures)


if __name__ == "__main__":
    main()
