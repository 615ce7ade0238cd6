"""Voice latency and interruption health: per-call figures, metrics, report aggregation, per-turn view."""

from __future__ import annotations

import copy
import io
import json
import math
import statistics
from contextlib import redirect_stdout
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import load_fixture
from tests.support.metrics import MemoryRecorder
from tests.test_live_support import assert_valid
from voicetrail.domain.latency import (
    CALL_INTERRUPTIONS,
    CALL_TURN_P95,
    CALLER_BARGE_INS,
    TURN_LATENCY,
    CallLatency,
    LatencyAggregate,
    LatencyMetrics,
    TurnTiming,
    call_latency,
    percentile,
    turn_timeline,
)

pytestmark = pytest.mark.unit

WITH_METRICS = "vapi/end-of-call-report-performance.json"
NO_TURNS = "vapi/end-of-call-report-no-turns.json"
WITHOUT_METRICS = "vapi/end-of-call-report-no-metrics.json"


def report(name: str) -> dict[str, Any]:
    return load_fixture(name)["message"]


@pytest.mark.parametrize("name", [WITH_METRICS, NO_TURNS, WITHOUT_METRICS])
def test_fixtures_are_spec_valid_end_of_call_reports(name: str) -> None:
    body = report(name)
    # The spec's artifact message union is ambiguous (a bot or user message matches several branches of a
    # `oneOf`), so the messages are checked against their own schemas and the rest against the report's.
    for message in body["artifact"]["messages"]:
        schema = "BotMessage" if message["role"] == "bot" else "UserMessage"
        assert_valid(schema, message)
    without_messages = copy.deepcopy(body)
    del without_messages["artifact"]["messages"]
    assert_valid("ServerMessageEndOfCallReport", without_messages)


def test_per_call_figures_from_a_full_report() -> None:
    latency = call_latency(report(WITH_METRICS))
    assert latency is not None
    turns = [1110.0, 1240.0, 2670.0, 1130.0, 1210.0]
    assert latency.turn_latencies_ms == tuple(turns)
    # A direct computation, independent of ours: inclusive quantiles are numpy's linear interpolation.
    direct = statistics.quantiles(turns, n=100, method="inclusive")
    assert latency.turn_p50_ms == pytest.approx(statistics.median(turns))
    assert latency.turn_p95_ms == pytest.approx(direct[94])
    assert latency.turn_max_ms == 2670.0
    assert (latency.model_avg_ms, latency.voice_avg_ms) == (752.0, 240.0)
    assert (latency.transcriber_avg_ms, latency.endpointing_avg_ms) == (175.0, 305.0)
    assert (latency.user_interrupted, latency.assistant_interrupted, latency.interruptions) == (1, 2, 3)
    assert latency.interruptions_per_minute == pytest.approx(3 / (189 / 60))
    assert latency.is_slow() and not latency.is_slow(3000)
    assert latency.turns[2] == TurnTiming(2670.0, 1900.0, 260.0, 190.0, 320.0)


@pytest.mark.parametrize("name", [WITH_METRICS, NO_TURNS])
def test_the_call_record_round_trips(name: str) -> None:
    latency = call_latency(report(name))
    assert latency is not None
    assert CallLatency.from_record(latency.to_record()) == latency


@pytest.mark.parametrize("record", [None, "", "not json", "[]", '{"v": 2}', '{"v": 1, "turn_rows": "x"}'])
def test_unreadable_call_records(record: str | None) -> None:
    restored = CallLatency.from_record(record)
    assert restored is None or restored.turns == ()


def test_a_report_without_performance_metrics_has_no_figures() -> None:
    assert call_latency(report(WITHOUT_METRICS)) is None


def test_a_call_that_ended_before_the_first_turn() -> None:
    latency = call_latency(report(NO_TURNS))
    assert latency is not None
    assert latency.turns == () and latency.turn_p95_ms is None and latency.turn_max_ms is None
    assert latency.model_avg_ms is None  # absent, not zero
    assert latency.interruptions == 0
    assert latency.duration_s == 4.0  # from startedAt / endedAt: the report has no durationSeconds
    assert latency.interruptions_per_minute == 0.0
    assert not latency.is_slow()


def _with_metrics(metrics: Any, **top: Any) -> dict[str, Any]:
    body = copy.deepcopy(report(WITH_METRICS))
    body["artifact"]["performanceMetrics"] = metrics
    body.update(top)
    return body


@pytest.mark.parametrize(
    ("metrics", "expected_turns", "expected_interruptions"),
    [
        ({"turnLatencies": "1200"}, (), None),  # not a list
        ({"turnLatencies": [{"turnLatency": "900"}, {"turnLatency": 800}]}, (800.0,), None),
        ({"turnLatencies": [{"turnLatency": -5}, {"turnLatency": float("nan")}]}, (), None),
        ({"turnLatencies": [{"turnLatency": True}, None, 7]}, (), None),
        ({"turnLatencies": [{"modelLatency": 300}]}, (), None),  # parts without a total: no turn latency
        ({"numUserInterrupted": 2}, (), 2),  # one direction only
        ({"numAssistantInterrupted": "3"}, (), None),
        ({}, (), None),  # present but empty (older payloads)
    ],
)
def test_partial_and_malformed_metrics(
    metrics: dict[str, Any], expected_turns: tuple[float, ...], expected_interruptions: int | None
) -> None:
    latency = call_latency(_with_metrics(metrics))
    assert latency is not None
    assert latency.turn_latencies_ms == expected_turns
    assert latency.interruptions == expected_interruptions


END = "2026-11-25T14:01:30Z"


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"durationSeconds": 120}, 120.0),
        (
            {"durationSeconds": None, "startedAt": "2026-11-25T14:00:00Z", "endedAt": "2026-11-25T14:01:30Z"},
            90.0,
        ),
        ({"durationSeconds": None, "startedAt": "garbage", "endedAt": END}, None),
        ({"durationSeconds": None, "startedAt": None}, None),
    ],
)
def test_duration_for_interruptions_per_minute(top: dict[str, Any], expected: float | None) -> None:
    latency = call_latency(_with_metrics({"numUserInterrupted": 3}, **top))
    assert latency is not None and latency.duration_s == expected
    assert latency.interruptions_per_minute == (None if expected is None else 3 / (expected / 60))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=2, max_size=60))
def test_percentile_matches_an_independent_computation(values: list[float]) -> None:
    direct = statistics.quantiles(values, n=100, method="inclusive")
    for q in (50, 95):
        got = percentile(values, q)
        assert got is not None and math.isclose(got, direct[q - 1], rel_tol=1e-9, abs_tol=1e-6)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=25), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_any_json_under_performance_metrics_is_read_without_error(metrics: Any) -> None:
    body = (
        {"artifact": {"performanceMetrics": metrics}} if isinstance(metrics, dict) else {"artifact": metrics}
    )
    latency = call_latency(body)
    if latency is not None:
        assert all(v >= 0 and math.isfinite(v) for v in latency.turn_latencies_ms)
        json.dumps(latency.figures())


def test_metrics_emitted_once_per_call() -> None:
    recorder = MemoryRecorder()
    latency = call_latency(report(WITH_METRICS))
    assert latency is not None
    LatencyMetrics(recorder).call_reported(latency)
    turn_values = [v for n, v, _ in recorder.records if n == TURN_LATENCY]
    assert turn_values == list(latency.turn_latencies_ms)  # one value per turn: CloudWatch p95 is exact
    assert recorder.total(CALL_TURN_P95) == pytest.approx(latency.turn_p95_ms)
    assert recorder.total(CALL_INTERRUPTIONS) == 3
    assert recorder.total(CALLER_BARGE_INS) == 2
    assert all(not dims for _, _, dims in recorder.records)  # no caller data, no open-ended dimensions


def test_no_latency_metrics_for_what_is_missing() -> None:
    recorder = MemoryRecorder()
    latency = call_latency(report(NO_TURNS))
    assert latency is not None
    LatencyMetrics(recorder).call_reported(latency)
    names = {n for n, _, _ in recorder.records}
    assert TURN_LATENCY not in names and CALL_TURN_P95 not in names and "ModelLatency" not in names
    assert recorder.total(CALL_INTERRUPTIONS) == 0


def test_metrics_reach_emf_with_the_dimensions_the_alarms_read() -> None:
    from aws_lambda_powertools import Metrics

    from voicetrail.infra.observability import PowertoolsRecorder

    metrics = Metrics(namespace="Voicetrail", service="vapi_webhook")
    latency = call_latency(report(WITH_METRICS))
    assert latency is not None
    LatencyMetrics(PowertoolsRecorder(metrics, "prod")).call_reported(latency)
    out = io.StringIO()
    with redirect_stdout(out):
        metrics.flush_metrics()
    blobs = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    assert blobs
    blob = blobs[0]
    assert blob["environment"] == "prod" and blob["service"] == "vapi_webhook"
    assert blob[TURN_LATENCY] == list(latency.turn_latencies_ms)
    declared = {m["Name"]: m.get("Unit") for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert declared[TURN_LATENCY] == "Milliseconds" and declared[CALL_INTERRUPTIONS] == "Count"


def _latency(turns: list[float], interruptions: int = 0, duration_s: float | None = 60.0) -> CallLatency:
    return CallLatency(
        turns=tuple(TurnTiming(t) for t in turns),
        user_interrupted=0,
        assistant_interrupted=interruptions,
        duration_s=duration_s,
    )


def test_aggregate_over_calls() -> None:
    day = LatencyAggregate()
    day.add(_latency([800, 900, 1000], interruptions=2))
    day.add(_latency([3000, 3200], interruptions=4, duration_s=120))
    day.add(None)  # a call without metrics counts nowhere
    assert day.calls == 2 and day.slow_calls == 1
    all_turns = [800, 900, 1000, 3000, 3200]
    assert day.turn_p95_ms == pytest.approx(statistics.quantiles(all_turns, n=100, method="inclusive")[94])
    assert day.interruptions_per_call == 3.0
    assert day.interruptions_per_minute == pytest.approx(6 / 3)
    total = LatencyAggregate()
    total.merge([day, day])
    assert total.calls == 4 and total.slow_calls == 2
    assert total.turn_p95_ms == pytest.approx(
        statistics.quantiles(all_turns * 2, n=100, method="inclusive")[94]
    )


def test_empty_aggregate_has_no_figures() -> None:
    empty = LatencyAggregate()
    assert (empty.turn_p95_ms, empty.interruptions_per_call, empty.interruptions_per_minute) == (None,) * 3


def test_turn_timeline_pairs_latencies_with_the_conversation() -> None:
    body = report(WITH_METRICS)
    rows = turn_timeline(body["artifact"]["messages"], call_latency(body))
    assert [r.turn for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].caller.startswith("Yes") and rows[0].timing is not None
    assert [r.slow for r in rows] == [False, False, True, False, False]
    assert rows[2].timing and rows[2].timing.model_ms == 1900.0


def test_turn_timeline_without_metrics_still_lists_the_turns() -> None:
    body = report(WITHOUT_METRICS)
    rows = turn_timeline(body["artifact"]["messages"], None)
    assert rows and all(r.timing is None and not r.slow for r in rows)
    assert turn_timeline([{"role": "bot", "message": "Hello"}, "junk", {"role": "user"}], None) == []


def test_per_call_view_data_and_rendering() -> None:
    from rich.console import Console

    from voicetrail_cli.ops.latency_view import latency_view, render_latency

    body = report(WITH_METRICS)
    view = latency_view(call_latency(body), body)
    json.dumps(view)  # --json carries the same content
    assert view["figures"]["turn_max_ms"] == 2670.0
    assert [t["slow"] for t in view["turns"]] == [False, False, True, False, False]
    console = Console(width=200, record=True)
    console.print(render_latency(view))
    text = console.export_text()
    assert "2,670" in text and "p95 2,384 ms" in text and "caller barge-ins 2" in text
    empty = latency_view(None, None)
    assert empty == {"figures": None, "slow_turn_ms": 1500.0, "turns": []}
    console.print(render_latency(empty))
    assert "No performance metrics" in console.export_text()
