"""Cold init of retell_webhook and elevenlabs_webhook beside vapi_webhook: each a fresh interpreter.

Each sample starts a new Python process that imports one function's app.py with the function's own
environment from template.yaml (parameter defaults; secrets held in environment variables; DynamoDB at a
closed loopback port, which init never calls) and prints how long the import took. The three functions
are interleaved so that all see the same machine state. This compares the functions with each other on
this machine and interpreter; benchmarks/cold_init.py measures vapi_webhook against Lambda's floor.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_summary

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("vapi_webhook", "retell_webhook", "elevenlabs_webhook")
_PROBE = """
import importlib.util, sys, time
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def _environment(name: str) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "cli"))
    from voicetrail_cli.ops.template import functions, load_template, parameter_defaults, resolve_local_env

    template = load_template()
    spec = next(f for f in functions(template) if f.name == name)
    env = resolve_local_env(
        spec.environment,
        parameters=parameter_defaults(template),
        overrides={"TABLE_NAME": "voicetrail-bench", "VOICETRAIL_TRACING": "false"},
    )
    layer = ROOT / "layers" / "common"
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(layer),
        **env,
        "POWERTOOLS_SERVICE_NAME": name,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "VOICETRAIL_ALLOW_ENV_SECRETS": "true",
        "VOICETRAIL_LOCAL_VAPI_SECRET": "s",
        "VOICETRAIL_LOCAL_RETELL_API_KEY": "s",
        "VOICETRAIL_LOCAL_ELEVENLABS_WEBHOOK_SECRET": "s",
        "VOICETRAIL_LOCAL_HASH_PEPPER": "p",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    environments = {name: _environment(name) for name in FUNCTIONS}
    samples: dict[str, list[float]] = {name: [] for name in FUNCTIONS}
    for _ in range(args.runs):
        for name in FUNCTIONS:
            app = ROOT / "functions" / name / "app.py"
            out = subprocess.run(
                [args.python, "-c", _PROBE, str(app)],
                env=environments[name],
                capture_output=True,
                text=True,
                check=True,
            )
            samples[name].append(float(out.stdout.strip().splitlines()[-1]))
    print(f"{args.runs} fresh interpreters per function ({args.python}), interleaved; import of app.py")
    figures = {}
    for name, values in samples.items():
        median = statistics.median(values) * 1000
        figures[name] = {"median_ms": round(median, 1), "min_ms": round(min(values) * 1000, 1)}
        print(f"  {name:20} median {median:6.1f} ms   min {min(values) * 1000:6.1f} ms")
    emit_summary("provider_cold_init", figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
