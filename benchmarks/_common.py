"""Helpers shared by the benchmark scripts (not tests: they print figures, they assert nothing)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarize_ms(samples: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 3),
        "p99_ms": round(percentile(samples, 99) * 1000, 3),
        "max_ms": round(max(samples) * 1000, 3),
    }


# The vapi_webhook function's settings for benchmark runs: fake AWS credentials, env-held secrets.
VAPI_FUNCTION_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "TABLE_NAME": "voicetrail-bench",
    "VOICETRAIL_ALLOW_ENV_SECRETS": "true",
    "VAPI_SECRET_REF": "env:BENCH_SECRET",
    "HASH_PEPPER_REF": "env:BENCH_PEPPER",
    "BENCH_SECRET": "s",
    "BENCH_PEPPER": "p",
}


def emit_summary(name: str, figures: dict[str, Any]) -> None:
    """The last line of every benchmark: `make bench` collects these into one table."""
    print("BENCH_SUMMARY " + json.dumps({"name": name, **figures}))
