"""Voice latency and interruption health of one call, from Vapi's end-of-call-report.

Vapi sends `artifact.performanceMetrics` (schema `PerformanceMetrics` in Vapi's OpenAPI spec) with the
end-of-call-report: one `TurnLatency` per turn (`turnLatency`, and the model, voice, transcriber and
endpointing parts of it, in milliseconds), call averages (`modelLatencyAverage`, `voiceLatencyAverage`,
`transcriberLatencyAverage`, `endpointingLatencyAverage`, `turnLatencyAverage`), transport averages and
two interruption counts:

  numAssistantInterrupted   the caller talked over the assistant (barge-in)
  numUserInterrupted        the assistant talked over the caller

Everything here is pure: `call_latency` turns a report body into `CallLatency` (per-call figures kept in
the call record), `LatencyMetrics` emits the EMF metrics the alarms read, and `LatencyAggregate` is what
`voicetrail report` adds up per day. Missing or partial metrics (older payloads, web calls, calls that
ended before the first turn) give `None` for what is missing, never a made-up zero: a call without
`performanceMetrics` has no latency figures at all (`call_latency` returns None).

Percentiles use linear interpolation between the closest ranks (numpy's default), so a p95 here equals
`numpy.percentile(values, 95)` on the same values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voicetrail.infra.observability import MetricsRecorder

# A call's turn list is stored in its call record: bound it so one item stays far below DynamoDB's 400 KB.
MAX_STORED_TURNS = 500
# The default "slow turn" line: voice-AI guidance is an assistant response within 1.5 s.
SLOW_TURN_MS = 1500.0

TURN_LATENCY = "TurnLatency"  # one value per turn (Milliseconds): CloudWatch p95 over all turns
CALL_TURN_P95 = "CallTurnLatencyP95"  # one value per call (Milliseconds)
MODEL_LATENCY = "ModelLatency"
VOICE_LATENCY = "VoiceLatency"
TRANSCRIBER_LATENCY = "TranscriberLatency"
ENDPOINTING_LATENCY = "EndpointingLatency"
CALL_INTERRUPTIONS = "CallInterruptions"  # one value per call: both directions added
CALLER_BARGE_INS = "CallerBargeIns"  # count: the caller talked over the assistant
ASSISTANT_TALKOVERS = "AssistantTalkOvers"  # count: the assistant talked over the caller
INTERRUPTIONS_PER_MINUTE = "InterruptionsPerMinute"
CALLS_WITH_LATENCY = "CallsWithLatency"

_AVERAGE_FIELDS = {
    "model_avg_ms": "modelLatencyAverage",
    "voice_avg_ms": "voiceLatencyAverage",
    "transcriber_avg_ms": "transcriberLatencyAverage",
    "endpointing_avg_ms": "endpointingLatencyAverage",
    "turn_avg_ms": "turnLatencyAverage",
    "from_transport_avg_ms": "fromTransportLatencyAverage",
    "to_transport_avg_ms": "toTransportLatencyAverage",
}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _number(value: Any) -> float | None:
    """A finite, non-negative number, else None (bools, strings, NaN and negatives are not latencies)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


@dataclass(frozen=True)
class TurnTiming:
    """One turn's latency and its parts, milliseconds (any part may be missing)."""

    turn_ms: float | None
    model_ms: float | None = None
    voice_ms: float | None = None
    transcriber_ms: float | None = None
    endpointing_ms: float | None = None


@dataclass(frozen=True)
class CallLatency:
    """Per-call latency and interruption figures (milliseconds; None where Vapi sent nothing)."""

    turns: tuple[TurnTiming, ...] = ()
    model_avg_ms: float | None = None
    voice_avg_ms: float | None = None
    transcriber_avg_ms: float | None = None
    endpointing_avg_ms: float | None = None
    turn_avg_ms: float | None = None
    from_transport_avg_ms: float | None = None
    to_transport_avg_ms: float | None = None
    user_interrupted: int | None = None  # the assistant talked over the caller
    assistant_interrupted: int | None = None  # the caller talked over the assistant (barge-in)
    duration_s: float | None = None

    @property
    def turn_latencies_ms(self) -> tuple[float, ...]:
        return tuple(t.turn_ms for t in self.turns if t.turn_ms is not None)

    @property
    def turn_p50_ms(self) -> float | None:
        return percentile(self.turn_latencies_ms, 50)

    @property
    def turn_p95_ms(self) -> float | None:
        return percentile(self.turn_latencies_ms, 95)

    @property
    def turn_max_ms(self) -> float | None:
        latencies = self.turn_latencies_ms
        return max(latencies) if latencies else None

    @property
    def interruptions(self) -> int | None:
        counts = [c for c in (self.user_interrupted, self.assistant_interrupted) if c is not None]
        return sum(counts) if counts else None

    @property
    def interruptions_per_minute(self) -> float | None:
        total = self.interruptions
        if total is None or not self.duration_s:
            return None
        return total / (self.duration_s / 60.0)

    def is_slow(self, threshold_ms: float = SLOW_TURN_MS) -> bool:
        p95 = self.turn_p95_ms
        return p95 is not None and p95 > threshold_ms

    def to_record(self) -> str:
        """The compact JSON kept in the call record: per-turn timings as rows, then the figures."""
        rows = [[t.turn_ms, t.model_ms, t.voice_ms, t.transcriber_ms, t.endpointing_ms] for t in self.turns]
        return json.dumps({**self.figures(), "v": 1, "turn_rows": rows}, separators=(",", ":"))

    @classmethod
    def from_record(cls, text: str | None) -> CallLatency | None:
        """Reads `to_record`'s JSON; None for no record or one this version cannot read."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("v") != 1:
            return None
        raw_rows = data.get("turn_rows")
        rows: list[Any] = raw_rows if isinstance(raw_rows, list) else []
        turns = tuple(
            TurnTiming(*(_number(v) for v in row[:5]))
            for row in rows
            if isinstance(row, list) and len(row) >= 5
        )
        return cls(
            turns=turns,
            **{name: _number(data.get(name)) for name in _AVERAGE_FIELDS},
            user_interrupted=_count(data.get("user_interrupted")),
            assistant_interrupted=_count(data.get("assistant_interrupted")),
            duration_s=_number(data.get("duration_s")),
        )

    def figures(self) -> dict[str, float | int | None]:
        """The per-call figures as one flat mapping (call record, `--json`, the per-call view)."""
        return {
            "turns": len(self.turn_latencies_ms),
            "turn_p50_ms": self.turn_p50_ms,
            "turn_p95_ms": self.turn_p95_ms,
            "turn_max_ms": self.turn_max_ms,
            **{name: getattr(self, name) for name in _AVERAGE_FIELDS},
            "user_interrupted": self.user_interrupted,
            "assistant_interrupted": self.assistant_interrupted,
            "interruptions": self.interruptions,
            "interruptions_per_minute": self.interruptions_per_minute,
            "duration_s": self.duration_s,
        }


def _duration_s(report: Mapping[str, Any]) -> float | None:
    duration = _number(report.get("durationSeconds"))
    if duration is not None:
        return duration
    started, ended = report.get("startedAt"), report.get("endedAt")
    if not (isinstance(started, str) and isinstance(ended, str)):
        return None
    try:
        span = datetime.fromisoformat(ended).timestamp() - datetime.fromisoformat(started).timestamp()
    except ValueError:
        return None
    return span if span > 0 else None


def _performance_metrics(report: Mapping[str, Any]) -> Mapping[str, Any] | None:
    artifact = report.get("artifact")
    if isinstance(artifact, Mapping) and isinstance(artifact.get("performanceMetrics"), Mapping):
        metrics: Mapping[str, Any] = artifact["performanceMetrics"]
        return metrics
    # Some payloads nest the artifact under `call` (a call object sent whole).
    call = report.get("call")
    if isinstance(call, Mapping):
        nested = call.get("artifact")
        if isinstance(nested, Mapping) and isinstance(nested.get("performanceMetrics"), Mapping):
            metrics = nested["performanceMetrics"]
            return metrics
    return None


def _turn(entry: Any) -> TurnTiming | None:
    if not isinstance(entry, Mapping):
        return None
    timing = TurnTiming(
        turn_ms=_number(entry.get("turnLatency")),
        model_ms=_number(entry.get("modelLatency")),
        voice_ms=_number(entry.get("voiceLatency")),
        transcriber_ms=_number(entry.get("transcriberLatency")),
        endpointing_ms=_number(entry.get("endpointingLatency")),
    )
    parts = (timing.model_ms, timing.voice_ms, timing.transcriber_ms, timing.endpointing_ms)
    return timing if timing.turn_ms is not None or any(p is not None for p in parts) else None


def call_latency(report: Mapping[str, Any]) -> CallLatency | None:
    """The latency figures of an end-of-call-report body, or None when it carries no performance metrics."""
    metrics = _performance_metrics(report)
    if metrics is None:
        return None
    raw_turns = metrics.get("turnLatencies")
    turns = tuple(
        t for t in (_turn(e) for e in (raw_turns if isinstance(raw_turns, list) else [])) if t is not None
    )[:MAX_STORED_TURNS]
    return CallLatency(
        turns=turns,
        **{name: _number(metrics.get(source)) for name, source in _AVERAGE_FIELDS.items()},
        user_interrupted=_count(metrics.get("numUserInterrupted")),
        assistant_interrupted=_count(metrics.get("numAssistantInterrupted")),
        duration_s=_duration_s(report),
    )


# ---- metrics ---------------------------------------------------------------------------------------


class LatencyMetrics:
    """EMF metrics for one call's latency (emit once per call: when its end-of-call-report is stored).

    `TurnLatency` carries one value per turn, so CloudWatch's p95 statistic over any window is the p95 of
    every turn in it, across calls; the per-call values (averages, interruptions) carry one value per call.
    """

    def __init__(self, recorder: MetricsRecorder) -> None:
        self._recorder = recorder

    def call_reported(self, latency: CallLatency) -> None:
        self._recorder.count(CALLS_WITH_LATENCY)
        for turn_ms in latency.turn_latencies_ms:
            self._recorder.value(TURN_LATENCY, turn_ms, "Milliseconds")
        for name, value in (
            (CALL_TURN_P95, latency.turn_p95_ms),
            (MODEL_LATENCY, latency.model_avg_ms),
            (VOICE_LATENCY, latency.voice_avg_ms),
            (TRANSCRIBER_LATENCY, latency.transcriber_avg_ms),
            (ENDPOINTING_LATENCY, latency.endpointing_avg_ms),
        ):
            if value is not None:
                self._recorder.value(name, value, "Milliseconds")
        if latency.interruptions is not None:
            self._recorder.value(CALL_INTERRUPTIONS, float(latency.interruptions), "Count")
        if latency.assistant_interrupted is not None:
            self._recorder.count(CALLER_BARGE_INS, latency.assistant_interrupted)
        if latency.user_interrupted is not None:
            self._recorder.count(ASSISTANT_TALKOVERS, latency.user_interrupted)
        if latency.interruptions_per_minute is not None:
            self._recorder.value(INTERRUPTIONS_PER_MINUTE, latency.interruptions_per_minute, "Count")


# ---- report ----------------------------------------------------------------------------------------


@dataclass
class LatencyAggregate:
    """Latency health of a set of calls (one report row): every turn, every call's interruptions."""

    slow_turn_ms: float = SLOW_TURN_MS
    turn_latencies_ms: list[float] = field(default_factory=list)
    calls: int = 0  # calls with performance metrics
    slow_calls: int = 0  # calls whose own turn p95 is above slow_turn_ms
    interruptions: int = 0
    interrupted_calls: int = 0  # calls with an interruption count
    minutes: float = 0.0  # talk minutes of the calls with an interruption count and a duration

    def add(self, latency: CallLatency | None) -> None:
        if latency is None:
            return
        self.calls += 1
        self.turn_latencies_ms.extend(latency.turn_latencies_ms)
        self.slow_calls += latency.is_slow(self.slow_turn_ms)
        if latency.interruptions is not None:
            self.interrupted_calls += 1
            self.interruptions += latency.interruptions
            if latency.duration_s:
                self.minutes += latency.duration_s / 60.0

    def merge(self, others: Iterable[LatencyAggregate]) -> None:
        for other in others:
            self.turn_latencies_ms.extend(other.turn_latencies_ms)
            self.calls += other.calls
            self.slow_calls += other.slow_calls
            self.interruptions += other.interruptions
            self.interrupted_calls += other.interrupted_calls
            self.minutes += other.minutes

    @property
    def turn_p50_ms(self) -> float | None:
        return percentile(self.turn_latencies_ms, 50)

    @property
    def turn_p95_ms(self) -> float | None:
        return percentile(self.turn_latencies_ms, 95)

    @property
    def interruptions_per_call(self) -> float | None:
        return self.interruptions / self.interrupted_calls if self.interrupted_calls else None

    @property
    def interruptions_per_minute(self) -> float | None:
        return self.interruptions / self.minutes if self.minutes else None


# ---- the per-call view ------------------------------------------------------------------------------

_CALLER_ROLES = frozenset({"user", "customer"})
_ASSISTANT_ROLES = frozenset({"bot", "assistant"})


@dataclass(frozen=True)
class TurnRow:
    """One turn of the per-call view: what the caller said, the reply, and how long the reply took."""

    turn: int
    caller: str
    assistant: str
    seconds_from_start: float | None
    timing: TurnTiming | None
    slow: bool


def turn_timeline(
    messages: Sequence[Any], latency: CallLatency | None, *, slow_turn_ms: float = SLOW_TURN_MS
) -> list[TurnRow]:
    """Pairs the (redacted) conversation with `turnLatencies`, so a slow turn can be found in context.

    Vapi measures a turn from the caller's speech to the assistant's reply, so the n-th latency belongs to
    the n-th assistant message that answers a caller message; an opening greeting has no turn latency.
    """
    timings = latency.turns if latency else ()
    rows: list[TurnRow] = []
    caller_parts: list[str] = []
    started: float | None = None
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role, text = message.get("role"), message.get("message")
        if not isinstance(text, str):
            continue
        if role in _CALLER_ROLES:
            if not caller_parts:
                started = _number(message.get("secondsFromStart"))
            caller_parts.append(text)
        elif role in _ASSISTANT_ROLES and caller_parts:
            index = len(rows)
            timing = timings[index] if index < len(timings) else None
            turn_ms = timing.turn_ms if timing else None
            rows.append(
                TurnRow(
                    turn=index + 1,
                    caller=" ".join(caller_parts),
                    assistant=text,
                    seconds_from_start=started,
                    timing=timing,
                    slow=turn_ms is not None and turn_ms > slow_turn_ms,
                )
            )
            caller_parts = []
    return rows
