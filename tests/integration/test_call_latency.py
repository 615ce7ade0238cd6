"""End-of-call performance metrics through the real vapi_webhook handler: call record and EMF, once."""

from __future__ import annotations

import json
import statistics
import time
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import (
    TABLE,
    VAPI_SECRET,
    FakeContext,
    fixture_bytes,
    function_env,
    http_event,
    load_function,
)
from tests.integration.test_twilio_status import emitted_metrics
from voicetrail.domain.calls.state import twilio_call_key
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.storage.ledger import DynamoCallLedger

pytestmark = pytest.mark.integration


@pytest.fixture
def handler(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("vapi_webhook", function_env(), monkeypatch)


def deliver(module: ModuleType, fixture: str) -> int:
    headers = {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"}
    event = http_event("/vapi/webhook", fixture_bytes(fixture), headers)
    return int(module.lambda_handler(event, FakeContext())["statusCode"])


def summary_of(client: Any, fixture: str) -> Any:
    call = json.loads(fixture_bytes(fixture))["message"]["call"]
    key = twilio_call_key(call["phoneCallProviderId"]) if "phoneCallProviderId" in call else call["id"]
    return DynamoCallLedger(client, TABLE, RetentionPolicy()).get_summary(key, now=time.time())


def test_figures_land_in_the_call_record_and_metrics_once(
    handler: ModuleType, moto_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = "vapi/end-of-call-report-performance.json"
    capsys.readouterr()
    assert deliver(handler, fixture) == 200
    assert deliver(handler, fixture) == 200  # Vapi's retry: no second set of metrics
    metrics = emitted_metrics(capsys.readouterr().out)
    turns = [1110, 1240, 2670, 1130, 1210]
    assert metrics["TurnLatency"] == sum(turns)  # each turn's value, one delivery's worth
    assert metrics["CallsWithLatency"] == 1
    assert metrics["CallInterruptions"] == 3
    summary = summary_of(moto_table, fixture)
    assert summary is not None and summary.latency is not None
    assert summary.latency.turn_latencies_ms == tuple(float(t) for t in turns)
    assert summary.latency.turn_p95_ms == pytest.approx(
        statistics.quantiles(turns, n=100, method="inclusive")[94]
    )
    assert summary.latency.turn_max_ms == 2670
    assert summary.latency.interruptions_per_minute == pytest.approx(3 / (189 / 60))
    raw = moto_table.get_item(
        TableName=TABLE, Key={"pk": {"S": f"CALL#{summary.call_key}"}, "sk": {"S": "SUMMARY"}}
    )["Item"]
    assert json.loads(raw["latency"]["S"])["turn_p95_ms"] == pytest.approx(summary.latency.turn_p95_ms)


@pytest.mark.parametrize(
    ("fixture", "has_latency"),
    [("vapi/end-of-call-report-no-metrics.json", False), ("vapi/end-of-call-report-no-turns.json", True)],
)
def test_reports_without_turns_or_metrics(
    handler: ModuleType, moto_table: Any, capsys: pytest.CaptureFixture[str], fixture: str, has_latency: bool
) -> None:
    capsys.readouterr()
    assert deliver(handler, fixture) == 200
    metrics = emitted_metrics(capsys.readouterr().out)
    assert "TurnLatency" not in metrics
    summary = summary_of(moto_table, fixture)
    assert summary is not None and (summary.latency is not None) == has_latency
    if summary.latency is not None:
        assert summary.latency.turn_p95_ms is None and summary.latency.interruptions == 0


def test_a_simulated_day_flags_exactly_the_injected_slow_calls(handler: ModuleType, moto_table: Any) -> None:
    from voicetrail_cli.dev.scenario import latency_day
    from voicetrail_cli.ops.report.roi import load_report

    day_start = 1_764_028_800  # 2025-11-25 00:00 UTC
    calls = latency_day(seed=17, calls=30, day_start_ms=day_start * 1000, slow_share=0.25)
    headers = {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"}
    for call in calls:
        event = http_event("/vapi/webhook", json.dumps(call.report).encode(), headers)
        assert handler.lambda_handler(event, FakeContext())["statusCode"] == 200
    report = load_report(
        moto_table,
        TABLE,
        since=day_start,
        until=day_start + 86_399,
        human_cost_per_minute=0.5,
        now=time.time(),
    )
    injected = {c.call_key for c in calls if c.slow_injected}
    assert 3 <= len(injected) < 30
    assert {s.call_key for s in report.slow_calls} == injected
    every_turn = [t for c in calls for t in c.turn_latencies_ms]
    direct = statistics.quantiles(every_turn, n=100, method="inclusive")[94]
    (day,) = report.days
    assert day.latency.turn_p95_ms == pytest.approx(direct)
    assert report.total.latency.calls == 30 and report.total.latency.slow_calls == len(injected)


def test_calls_show_puts_each_turns_latency_next_to_the_transcript(
    handler: ModuleType, moto_table: Any
) -> None:
    from typer.testing import CliRunner

    from voicetrail_cli.main import app

    fixture = "vapi/end-of-call-report-performance.json"
    assert deliver(handler, fixture) == 200
    call_id = json.loads(fixture_bytes(fixture))["message"]["call"]["id"]
    result = CliRunner().invoke(app, ["calls", "show", call_id, "--json", "--table", TABLE])
    assert result.exit_code == 0, result.output
    latency = json.loads(result.stdout)["latency"]
    assert latency["figures"]["turn_max_ms"] == 2670 and latency["figures"]["interruptions"] == 3
    turns = latency["turns"]
    assert [t["slow"] for t in turns] == [False, False, True, False, False]
    assert turns[2]["model_ms"] == 1900 and "[SSN]" in turns[2]["caller"]  # the words as stored: redacted
    text = CliRunner().invoke(app, ["calls", "show", call_id, "--table", TABLE], env={"COLUMNS": "220"})
    assert text.exit_code == 0 and "Turns (slow: above 1,500 ms)" in text.stdout and "2,670" in text.stdout


def test_report_json_lists_the_slow_calls(handler: ModuleType, moto_table: Any) -> None:
    from typer.testing import CliRunner

    from voicetrail_cli.main import app

    assert deliver(handler, "vapi/end-of-call-report-performance.json") == 200
    result = CliRunner().invoke(app, ["report", "--since", "2025-11-24", "--json", "--table", TABLE])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    total = data["rows"][-1]
    assert total["period"] == "total" and total["slow_calls"] == 1 and total["turn_p95_ms"] == 2384.0
    (slow,) = data["slow_calls"]
    assert slow["slowest_turn"] == 3 and slow["turn_max_ms"] == 2670.0 and data["slow_turn_ms"] == 1500.0
