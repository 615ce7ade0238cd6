"""Cold-init ratio of the vapi_webhook handler against the floor of `import boto3` + a DynamoDB client.

Each sample is a fresh interpreter (as a Lambda cold start is), alternating floor and handler so both
see the same machine state. The handler figure is everything its module does at import: Powertools
logger/metrics/resolver, settings validation, models, and building its DynamoDB client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import VAPI_FUNCTION_ENV, emit_summary

ROOT = Path(__file__).resolve().parents[1]

FLOOR = """
import time
t = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - t)
"""

HANDLER = """
import importlib.util, sys, time
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - t
heavy = [m for m in ("twilio.rest", "httpx", "aws_xray_sdk", "moto", "rich", "typer") if m in sys.modules]
print(elapsed, ",".join(heavy) or "-")
"""


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(VAPI_FUNCTION_ENV)
    env.update(
        POWERTOOLS_METRICS_NAMESPACE="Bench",
        # The layer is on sys.path as /opt/python is on Lambda (no editable-install finder involved).
        PYTHONPATH=str(ROOT / "layers" / "common"),
    )
    return env


PYTHON = sys.executable  # replaced by --python


def run(code: str, *args: str) -> list[str]:
    out = subprocess.run(
        [PYTHON, "-c", code, *args],
        capture_output=True,
        text=True,
        env=environment(),
        check=True,
        cwd=ROOT,
    )
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable, help="interpreter, e.g. a python3.13 venv")
    args = parser.parse_args()
    global PYTHON
    PYTHON = args.python
    version = subprocess.run(
        [PYTHON, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    handler_path = str(ROOT / "functions" / "vapi_webhook" / "app.py")
    run(FLOOR)  # warm the OS file cache for both sides
    run(HANDLER, handler_path)
    floor, handler, heavy = [], [], set()
    for _ in range(args.runs):
        floor.append(float(run(FLOOR)[0]))
        elapsed, modules = run(HANDLER, handler_path)
        handler.append(float(elapsed))
        heavy.update(m for m in modules.split(",") if m != "-")
    floor_ms = statistics.median(floor) * 1000
    handler_ms = statistics.median(handler) * 1000
    ratio = handler_ms / floor_ms
    print(f"python {version}, {args.runs} fresh interpreters each, medians")
    print(f"  floor   import boto3 + dynamodb client : {floor_ms:7.1f} ms")
    print(f"  handler vapi_webhook import + clients  : {handler_ms:7.1f} ms")
    print(f"  ratio                                  : {ratio:7.2f}x   (goal <= 1.3x)")
    print(f"  heavy modules on the import path       : {', '.join(sorted(heavy)) or 'none'}")
    emit_summary(
        "cold_init",
        {
            "floor_ms": round(floor_ms, 1),
            "handler_ms": round(handler_ms, 1),
            "ratio": round(ratio, 2),
            "heavy_imports": sorted(heavy),
        },
    )


if __name__ == "__main__":
    main()
