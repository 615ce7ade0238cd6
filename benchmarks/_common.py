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


def emit_summary(name: str, figures: dict[str, Any]) -> None:
    """The last line of every benchmark: `make bench` collects these into one table."""
    print("BENCH_SUMMARY " + json.dumps({"name": name, **figures}))
