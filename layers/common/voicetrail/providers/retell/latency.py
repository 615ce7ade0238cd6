"""A Retell call's latency in the terms of the call record (voicetrail.domain.latency.CallLatency).

Retell's call object carries `latency` (retell-sdk `Latency`): for `e2e` (the whole turn), `llm`, `tts`
and `asr`, percentiles and `values`, every data point of the call in milliseconds. The `e2e` values are
the turn latencies; the others, where present, are matched to the turns by position. A call without e2e
values has no latency figures (None), never made-up zeros. Retell sends no interruption counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from voicetrail.domain.latency import CallLatency, TurnTiming
from voicetrail.providers.bounds import MAX_TURNS

# No turn of a live call takes ten minutes: a larger number is not a latency.
_MAX_MS = 600_000.0


def _values(latency: Mapping[str, Any], part: str) -> list[float]:
    block = latency.get(part)
    raw = block.get("values") if isinstance(block, Mapping) else None
    if not isinstance(raw, list):
        return []
    values = [
        float(v)
        for v in raw[:MAX_TURNS]
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= _MAX_MS
    ]
    return values


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def retell_call_latency(call: Mapping[str, Any]) -> CallLatency | None:
    latency = call.get("latency")
    if not isinstance(latency, Mapping):
        return None
    e2e = _values(latency, "e2e")
    if not e2e:
        return None
    llm, tts, asr = _values(latency, "llm"), _values(latency, "tts"), _values(latency, "asr")

    def at(values: list[float], index: int) -> float | None:
        return values[index] if index < len(values) else None

    duration = call.get("duration_ms")
    return CallLatency(
        turns=tuple(
            TurnTiming(turn_ms=turn, model_ms=at(llm, i), voice_ms=at(tts, i), transcriber_ms=at(asr, i))
            for i, turn in enumerate(e2e)
        ),
        model_avg_ms=_mean(llm),
        voice_avg_ms=_mean(tts),
        transcriber_avg_ms=_mean(asr),
        turn_avg_ms=_mean(e2e),
        duration_s=duration / 1000 if isinstance(duration, int) and duration >= 0 else None,
    )
