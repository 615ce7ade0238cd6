"""template.yaml: the voice-health alarms read exactly the metrics the code emits; defaults are parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.template_support import dashboard_body
from voicetrail.domain import latency
from voicetrail.domain.roi import FINAL_STATUS_METRICS
from voicetrail_cli.ops.template import load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ENV_AND_SERVICE = {"environment": {"Ref": "Environment"}, "service": "vapi_webhook"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    resource = template["Resources"][name]
    assert resource["Type"] == "AWS::CloudWatch::Alarm"
    assert resource["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    return dict(resource["Properties"])


def dims(metric: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in metric["Dimensions"]}


def test_turn_latency_p95_alarm(template: dict[str, Any]) -> None:
    alarm = props(template, "TurnLatencyP95Alarm")
    assert alarm["MetricName"] == latency.TURN_LATENCY
    assert alarm["Namespace"] == {"Ref": "MetricsNamespace"}
    assert dims(alarm) == ENV_AND_SERVICE
    assert alarm["ExtendedStatistic"] == "p95" and "Statistic" not in alarm
    assert alarm["Unit"] == "Milliseconds"
    assert alarm["Threshold"] == {"Ref": "TurnLatencyP95ThresholdMs"}
    assert alarm["Period"] == {"Ref": "VoiceHealthAlarmPeriodSeconds"}
    assert template["Parameters"]["TurnLatencyP95ThresholdMs"]["Default"] == 1500


def test_interruptions_per_call_alarm(template: dict[str, Any]) -> None:
    alarm = props(template, "InterruptionsPerCallAlarm")
    assert alarm["MetricName"] == latency.CALL_INTERRUPTIONS
    assert dims(alarm) == ENV_AND_SERVICE
    assert alarm["Statistic"] == "Average"  # one value per call: the average is "per call"
    assert alarm["Threshold"] == {"Ref": "InterruptionsPerCallThreshold"}
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_telephony_failure_rate_alarm(template: dict[str, Any]) -> None:
    alarm = props(template, "TelephonyFailureRateAlarm")
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    stats = {i: q["MetricStat"] for i, q in queries.items() if "MetricStat" in q}
    names = {s["Metric"]["MetricName"] for s in stats.values()}
    outcomes = {"completed", "failed", "busy", "no-answer", "canceled"}
    assert names == {FINAL_STATUS_METRICS[o] for o in outcomes}
    for stat in stats.values():
        assert dims(stat["Metric"]) == {"environment": {"Ref": "Environment"}, "service": "twilio_status"}
        assert stat["Stat"] == "Sum" and stat["Period"] == {"Ref": "VoiceHealthAlarmPeriodSeconds"}
    returned = [q for q in queries.values() if q.get("ReturnData", True)]
    assert len(returned) == 1
    expression = returned[0]["Expression"]["Fn::Sub"]
    for metric_id in stats:
        assert f"FILL({metric_id},0)" in expression
    assert "${TelephonyAlarmMinCalls}" in expression
    numerator = expression.split("/")[0]
    assert all(f"FILL({i},0)" in numerator for i in ("failed", "busy", "noanswer"))
    assert alarm["Threshold"] == {"Ref": "TelephonyFailureRateThreshold"}


def test_dashboard_shows_latency_and_interruptions(template: dict[str, Any]) -> None:
    body = dashboard_body(template)
    # Substitute every ${...} with a number so the JSON parses; metric names must be the emitted ones.
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "1", body))["widgets"]
    titles = [w["properties"].get("title", "") for w in widgets]
    assert "Turn latency p95 per day (ms)" in titles
    emitted = {latency.TURN_LATENCY, latency.CALL_INTERRUPTIONS, latency.MODEL_LATENCY}
    used = {m[1] for w in widgets for m in w["properties"].get("metrics", []) if isinstance(m[0], str)}
    assert emitted <= used


VOICE_HEALTH_ALARMS = ["TurnLatencyP95Alarm", "InterruptionsPerCallAlarm", "TelephonyFailureRateAlarm"]


@pytest.mark.parametrize("alarm", VOICE_HEALTH_ALARMS)
def test_each_voice_health_alarm_has_a_runbook_entry(alarm: str) -> None:
    page = ROOT / "docs" / "runbook" / f"{alarm}.md"
    assert page.exists(), page
    text = page.read_text()
    assert "## What it means" in text and "## First checks" in text and "## Fix" in text
