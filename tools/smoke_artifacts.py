"""Smoke test of the built artifacts: every handler, from the build folder alone, answers a real event.

For each option set in VARIANTS and each function it names, a fresh python3.13 process (`-I`: no user site,
no PYTHON* variables) whose site-packages hold only the boto3 stack that the Lambda runtime provides:

* puts the function's built folder, then the built layers' `python/` (the common layer, and the tracing
  layer when the option set turns tracing on, as template.yaml attaches them) first on sys.path;
* gets exactly the environment template.yaml gives that function under the option set (the template's
  intrinsics evaluated here, with the option set's parameters);
* imports the handler module (a cold start) and answers one representative event per function;
* reports the status, the modules it imported from the artifacts without a shipped .pyc, and whether
  the X-Ray SDK was loaded.

DynamoDB, Secrets Manager, SSM, S3 and Comprehend are a moto server on loopback (AWS_ENDPOINT_URL). The
events are signed as Vapi, Twilio, Retell and ElevenLabs sign them; the Retell and ElevenLabs functions run in
their own option set, with the ElevenLabs audio kept in S3 (the PutObject must happen). Run it with
`make smoke`, which builds the x86_64 variant first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TABLE = "voicetrail-smoke"
REGION = "us-east-1"
API_DOMAIN = "abc123def4.execute-api.us-east-1.amazonaws.com"
SECRET_NAMES = {
    "VapiWebhookSecret": "smoke/vapi-webhook",
    "TwilioAuthTokenSecret": "smoke/twilio-auth-token",
    "HashPepperSecret": "smoke/hash-pepper",
    "VapiApiKeySecret": "smoke/vapi-api-key",
    "RetellApiKeySecret": "smoke/retell-api-key",
    "ElevenLabsWebhookSecret": "smoke/elevenlabs-webhook",
    "ElevenLabsApiKeySecret": "smoke/elevenlabs-api-key",
}
LARGE_EVENTS_BUCKET = "voicetrail-smoke-large-events"

# Option set -> (template parameters, functions to run). Every documented option is on in at least one set.
VARIANTS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "defaults (shared-secret)": (
        {},
        ("VapiWebhookFunction", "TwilioStatusFunction", "RetentionPurgeFunction", "OperatorApiFunction"),
    ),
    "bearer auth": ({"VapiAuthScheme": "bearer"}, ("VapiWebhookFunction",)),
    "all options (hmac, tracing, Comprehend, SSM live configs, base URL, account SID)": (
        {
            "EnableTracing": "true",
            "EnableComprehendPass": "true",
            "EnableSnapStart": "true",
            "VapiAuthScheme": "hmac",
            "LiveConfigSource": "ssm",
            "TwilioWebhookBaseUrl": "https://hooks.example.com/voice",
            "TwilioAccountSid": "AC" + "1" * 32,
            "RedactKinds": "all",
            "RedactPlaceholders": '{"ssn": "***-**-****"}',
            "LogLevel": "DEBUG",
        },
        ("VapiWebhookFunction", "TwilioStatusFunction", "RetentionPurgeFunction", "OperatorApiFunction"),
    ),
    "Retell and ElevenLabs (audio kept in S3)": (
        {"EnableRetell": "true", "EnableElevenLabs": "true", "ElevenLabsKeepAudio": "true"},
        (
            "RetellWebhookFunction",
            "ElevenLabsWebhookFunction",
            "RetentionPurgeFunction",
            "OperatorApiFunction",
        ),
    ),
}

RUNNER = r"""
import json, sys, time
sys.dont_write_bytecode = True  # /var/task and /opt are read-only on Lambda
spec = json.load(sys.stdin)
sys.path[:0] = [spec["function_dir"], *spec["layer_dirs"]]
# Every AWS call the handler makes (voicetrail builds all its clients from boto3's default session).
import boto3
boto3.setup_default_session()
aws_calls = set()
boto3.DEFAULT_SESSION.events.register(
    "before-call", lambda model, **_: aws_calls.add(f"{model.service_model.service_name}.{model.name}")
)
started = time.perf_counter()
import app
init_ms = (time.perf_counter() - started) * 1000

class Context:
    function_name = "voicetrail-smoke"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:voicetrail-smoke"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000000"
    def get_remaining_time_in_millis(self):
        return 60_000

answers = []
for event in spec["events"]:
    result = app.lambda_handler(event, Context())
    answers.append(result.get("statusCode", "ok") if isinstance(result, dict) else repr(result))
roots = (spec["function_dir"], *spec["layer_dirs"])
import importlib.util, os
no_pyc = sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").startswith(roots)
    and (getattr(module, "__file__", "") or "").endswith(".py")
    and not os.path.exists(importlib.util.cache_from_source(module.__file__))
)
outside = sorted(
    name.split(".")[0] for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").find("site-packages") >= 0
    and not (getattr(module, "__file__", "") or "").startswith(roots)
)
print(json.dumps({
    "init_ms": round(init_ms),
    "answers": answers,
    "no_pyc": no_pyc,
    "xray": "aws_xray_sdk" in sys.modules,
    "from_runtime": sorted(set(outside)),
    "aws_calls": sorted(aws_calls),
}))
"""


# ---- the template's environment, evaluated -------------------------------------------------------------


class Intrinsics:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        defaults = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
        self.values: dict[str, str] = {
            **defaults,
            **parameters,
            "AWS::Region": REGION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            "AWS::AccountId": "123456789012",
            "EventsTable": TABLE,
            # Bodies over the item limit and kept ElevenLabs audio go there.
            "LargeEventsBucket": LARGE_EVENTS_BUCKET,
            **SECRET_NAMES,
        }
        self.conditions = template.get("Conditions", {})

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.conditions[name]))

    def evaluate(self, node: Any) -> Any:
        if isinstance(node, bool):
            return node
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, dict) and len(node) == 1:
            (name, arg), *_ = node.items()
            if name == "Ref":
                return None if arg == "AWS::NoValue" else self.values[arg]
            if name == "Fn::Sub":
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self.values[m.group(1)], arg)
            if name == "Fn::If":
                return self.evaluate(arg[1] if self.condition(arg[0]) else arg[2])
            if name == "Fn::Equals":
                return self.evaluate(arg[0]) == self.evaluate(arg[1])
            if name == "Fn::Not":
                return not self.evaluate(arg[0])
            if name == "Fn::And":
                return all(self.evaluate(a) for a in arg)
            if name == "Condition":
                return self.condition(arg)
        raise ValueError(f"cannot evaluate {node!r} for the smoke environment")


def function_environment(
    template: dict[str, Any], logical_id: str, parameters: dict[str, str]
) -> dict[str, str]:
    intrinsics = Intrinsics(template, parameters)
    raw = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    env = {name: intrinsics.evaluate(value) for name, value in raw.items()}
    return {k: v for k, v in env.items() if v is not None}


# ---- events -----------------------------------------------------------------------------------------------


def _http_event(path: str, body: bytes, headers: dict[str, str], route_path: str) -> dict[str, Any]:
    from voicetrail_cli.dev.local import http_api_event
    from voicetrail_cli.ops.template import Route

    headers = {"host": API_DOMAIN, **{k.lower(): v for k, v in headers.items()}}
    return http_api_event(
        method="POST",
        path=path,
        query="",
        headers=headers,
        body=body,
        source_ip="203.0.113.10",
        route=Route("POST", route_path, "smoke"),
    )


def vapi_events(env: dict[str, str], secret: str) -> list[dict[str, Any]]:
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
    from voicetrail.settings import vapi_auth_from_env

    auth = VapiAuthConfig(**vapi_auth_from_env(env))
    events = []
    for fixture in ("end-of-call-report.json", "assistant-request.json"):
        # A new call per option set: a redelivery would be answered from the store, skipping the pipeline.
        payload = json.loads((FIXTURES / "vapi" / fixture).read_text())
        payload["message"]["call"]["id"] = str(uuid.uuid4())
        body = json.dumps(payload).encode()
        headers = {
            "content-type": "application/json",
            **sign_request(auth, body, secret, timestamp=time.time()),
        }
        events.append(_http_event("/vapi/webhook", body, headers, "/vapi/webhook"))
    return events


def twilio_events(env: dict[str, str], token: str) -> list[dict[str, Any]]:
    from twilio.request_validator import RequestValidator

    base = env.get("TWILIO_WEBHOOK_BASE_URL") or f"https://{API_DOMAIN}"
    events = []
    fresh = {"CallSid": "CA" + uuid.uuid4().hex, "RecordingSid": "RE" + uuid.uuid4().hex}
    for fixture, path in (
        ("status-completed.json", "/twilio/status"),
        ("recording-completed.json", "/twilio/recording"),
    ):
        params = json.loads((FIXTURES / "twilio" / fixture).read_text())["params"]
        pairs = [(str(k), fresh.get(str(k), str(v))) for k, v in params]
        signature = RequestValidator(token).compute_signature(base + path, dict(pairs))
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": str(signature),
            "i-twilio-idempotency-token": uuid.uuid4().hex,
        }
        events.append(_http_event(path, urlencode(pairs).encode(), headers, path))
    return events


def retell_events(key: str) -> list[dict[str, Any]]:
    from voicetrail.providers.retell.signature import sign

    call_id = "call_" + uuid.uuid4().hex  # a new call per run: a redelivery skips the pipeline
    events = []
    for fixture in ("call_started.json", "call_ended.json"):
        payload = json.loads((FIXTURES / "retell" / fixture).read_text())
        payload["call"]["call_id"] = call_id
        body = json.dumps(payload).encode()
        headers = {
            "content-type": "application/json",
            **sign(body, key, timestamp_ms=int(time.time() * 1000)),
        }
        events.append(_http_event("/retell/webhook", body, headers, "/retell/webhook"))
    return events


def elevenlabs_events(secret: str) -> list[dict[str, Any]]:
    from voicetrail.providers.elevenlabs.signature import sign

    conversation_id = "conv_" + uuid.uuid4().hex
    events = []
    for fixture in ("post_call_transcription.json", "post_call_audio.json"):
        payload = json.loads((FIXTURES / "elevenlabs" / fixture).read_text())
        payload["data"]["conversation_id"] = conversation_id
        body = json.dumps(payload).encode()
        headers = {"content-type": "application/json", **sign(body, secret, timestamp=int(time.time()))}
        events.append(_http_event("/elevenlabs/webhook", body, headers, "/elevenlabs/webhook"))
    return events


def purge_events() -> list[dict[str, Any]]:
    return [
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": REGION,
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/voicetrail-purge"],
            "detail": {},
        }
    ]


def operator_events() -> list[dict[str, Any]]:
    body = json.dumps({"phone": "+14155550199"}).encode()
    return [_http_event("/operator/erase", body, {"content-type": "application/json"}, "/operator/erase")]


# AWS calls an option must cause (evidence that the option really ran, not just loaded).
EXPECTED_CALLS = {
    ("VapiWebhookFunction", "EnableComprehendPass"): "comprehend.DetectPiiEntities",
    ("VapiWebhookFunction", "LiveConfigSource"): "ssm.GetParameter",
    ("ElevenLabsWebhookFunction", "ElevenLabsKeepAudio"): "s3.PutObject",
}

EXPECTED = {
    "VapiWebhookFunction": [200, 200],
    "TwilioStatusFunction": [204, 204],
    "RetentionPurgeFunction": ["ok"],
    "OperatorApiFunction": [200],
    "RetellWebhookFunction": [200, 200],
    "ElevenLabsWebhookFunction": [200, 200],
}


# ---- the fake AWS -----------------------------------------------------------------------------------------


def start_fake_aws(template: dict[str, Any], values: dict[str, str]) -> tuple[Any, str]:
    import boto3
    from moto.server import ThreadedMotoServer

    from voicetrail_cli.ops.template import table_definition

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per AWS call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    session = boto3.Session(
        aws_access_key_id="smoke",
        aws_secret_access_key="smoke",  # noqa: S106 - moto's fake credentials
        region_name=REGION,
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    kwargs, ttl = table_definition(template, TABLE)
    dynamodb.create_table(**kwargs)
    if ttl:
        dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
        )
    secretsmanager = session.client("secretsmanager", endpoint_url=endpoint)
    for logical_id, value in values.items():
        secretsmanager.create_secret(Name=SECRET_NAMES[logical_id], SecretString=value)
    # The SSM live config of the option set with LiveConfigSource=ssm: content kept without a consent step,
    # so the end-of-call report's transcript reaches the Comprehend pass.
    ssm = session.client("ssm", endpoint_url=endpoint)
    ssm.put_parameter(Name="/voicetrail/dev/live/default", Value='{"consent_required": false}', Type="String")
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=LARGE_EVENTS_BUCKET)
    return server, endpoint


def run_function(
    runtime_python: str, build_dir: Path, logical_id: str, env: dict[str, str], events: list[dict[str, Any]]
) -> dict[str, Any]:
    # The layers template.yaml attaches: the common layer, and the X-Ray SDK's only with tracing on.
    layers = ["CommonLayer"] + (["TracingLayer"] if env.get("VOICETRAIL_TRACING") == "true" else [])
    layer_dirs = [str(build_dir / layer / "python") for layer in layers]
    spec = {"function_dir": str(build_dir / logical_id), "layer_dirs": layer_dirs, "events": events}
    proc = subprocess.run(
        [runtime_python, "-I", "-c", RUNNER],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{"init_ms"')]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.splitlines()[-15:])
        return {"error": f"exit {proc.returncode}\n{tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build-x86_64")
    parser.add_argument("--runtime-python", required=True, help="python3.13 with only the runtime's boto3")
    args = parser.parse_args()

    from voicetrail_cli.ops.template import load_template

    template = load_template()
    vapi_secret, twilio_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    retell_key, elevenlabs_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    server, endpoint = start_fake_aws(
        template,
        {
            "VapiWebhookSecret": json.dumps({"current": vapi_secret}),
            "TwilioAuthTokenSecret": json.dumps({"primary": twilio_token}),
            "HashPepperSecret": json.dumps({"pepper": secrets.token_hex(32)}),
            "VapiApiKeySecret": json.dumps({"key": secrets.token_urlsafe(24)}),
            "RetellApiKeySecret": json.dumps({"current": retell_key}),
            "ElevenLabsWebhookSecret": json.dumps({"current": elevenlabs_secret}),
            "ElevenLabsApiKeySecret": json.dumps({"key": secrets.token_urlsafe(24)}),
        },
    )
    aws_env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "smoke",
        "AWS_SECRET_ACCESS_KEY": "smoke",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # What the Lambda runtime sets: Powertools enables its Tracer only inside Lambda.
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_LAMBDA_FUNCTION_NAME": "voicetrail-smoke",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",  # UDP, fire and forget: nothing listens
    }
    failures = 0
    try:
        for variant, (parameters, logical_ids) in VARIANTS.items():
            print(f"== {variant}: {json.dumps(parameters) if parameters else 'template defaults'}")
            for logical_id in logical_ids:
                env = {**function_environment(template, logical_id, parameters), **aws_env}
                events = {
                    "VapiWebhookFunction": lambda e=env: vapi_events(e, vapi_secret),
                    "TwilioStatusFunction": lambda e=env: twilio_events(e, twilio_token),
                    "RetentionPurgeFunction": purge_events,
                    "OperatorApiFunction": operator_events,
                    "RetellWebhookFunction": lambda: retell_events(retell_key),
                    "ElevenLabsWebhookFunction": lambda: elevenlabs_events(elevenlabs_secret),
                }[logical_id]()
                result = run_function(args.runtime_python, args.build_dir, logical_id, env, events)
                tracing = env.get("VOICETRAIL_TRACING") == "true"
                problems = []
                if "error" in result:
                    problems.append(result["error"])
                else:
                    if result["answers"] != EXPECTED[logical_id]:
                        problems.append(f"answers {result['answers']}, expected {EXPECTED[logical_id]}")
                    if result["no_pyc"]:
                        problems.append(f"imported without a shipped .pyc: {result['no_pyc'][:5]}")
                    if result["xray"] != tracing:
                        problems.append(f"X-Ray SDK loaded={result['xray']} with tracing={tracing}")
                    for (function, option), call in EXPECTED_CALLS.items():
                        if (
                            function == logical_id
                            and option in parameters
                            and call not in result["aws_calls"]
                        ):
                            problems.append(f"{option} is on but {call} was never called")
                status = "FAIL" if problems else "ok"
                failures += bool(problems)
                detail = (
                    f"answers {result['answers']}, init {result['init_ms']} ms, "
                    f"x-ray {'loaded' if result['xray'] else 'not loaded'}, "
                    f"AWS calls: {', '.join(result['aws_calls']) or '-'}"
                    if "error" not in result
                    else ""
                )
                print(f"  {status:<4} {logical_id:<24} {detail}")
                for problem in problems:
                    print(f"       {problem}")
    finally:
        server.stop()
    print(f"smoke: {'FAILED' if failures else 'passed'} ({failures} failing)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
