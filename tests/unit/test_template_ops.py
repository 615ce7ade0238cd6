"""template.yaml operations: alarm topic, alarms (metric + dimension each), dashboard, IAM hygiene."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.template_support import dashboard_body
from voicetrail_cli.ops.template import load_template

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def dims(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Properties"].get("Dimensions", [])}


def alarm_on(template: dict[str, Any], namespace: Any, metric: str, **dimensions: Any) -> dict[str, Any]:
    found = [
        a
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == namespace
        and a["Properties"].get("MetricName") == metric
        and all(dims(a).get(k) == v for k, v in dimensions.items())
    ]
    assert len(found) == 1, (namespace, metric, dimensions, len(found))
    return found[0]["Properties"]


def test_every_alarm_notifies_the_topic(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 12
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


def test_optional_email_subscription(template: dict[str, Any]) -> None:
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    sub = template["Resources"]["AlarmEmailSubscription"]
    assert sub["Condition"] == "AlarmEmailGiven"
    assert sub["Properties"]["Protocol"] == "email"
    assert template["Conditions"]["AlarmEmailGiven"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }


def test_http_api_5xx_alarm(template: dict[str, Any]) -> None:
    # HTTP APIs publish `5xx` / `4xx` with ApiId (REST APIs' 5XXError/ApiName would never fire).
    alarm = alarm_on(template, "AWS/ApiGateway", "5xx", ApiId={"Ref": "HttpApi"})
    assert alarm["Statistic"] == "Sum"


@pytest.mark.parametrize(
    "function",
    ["VapiWebhookFunction", "TwilioStatusFunction", "RetentionPurgeFunction", "OperatorApiFunction"],
)
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_errors_and_throttles_per_function(template: dict[str, Any], function: str, metric: str) -> None:
    if function not in template["Resources"]:
        pytest.skip(f"{function} is not in this template")
    alarm = alarm_on(template, "AWS/Lambda", metric, FunctionName={"Ref": function})
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_every_function_has_error_and_throttle_alarms(template: dict[str, Any]) -> None:
    for function in resources(template, "AWS::Serverless::Function"):
        for metric in ("Errors", "Throttles"):
            alarm_on(template, "AWS/Lambda", metric, FunctionName={"Ref": function})


def test_vapi_p99_latency_alarm(template: dict[str, Any]) -> None:
    alarm = alarm_on(template, "AWS/Lambda", "Duration", FunctionName={"Ref": "VapiWebhookFunction"})
    assert alarm["ExtendedStatistic"] == "p99"
    assert alarm["Threshold"] == 500
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_auth_rejected_spike_alarm(template: dict[str, Any]) -> None:
    alarm = template["Resources"]["AuthRejectedSpikeAlarm"]["Properties"]
    (query,) = alarm["Metrics"]
    expression = query["Expression"]["Fn::Sub"]
    # every (source, reason) of this environment, from our EMF metric
    assert "SUM(AuthRejected)" in expression
    assert 'SCHEMA("${MetricsNamespace}", environment, reason, source)' in expression
    assert "environment = '${Environment}'" in expression
    assert query["Period"] * alarm["EvaluationPeriods"] <= 3 * 3600  # Metrics Insights alarms see 3 h


def test_purge_alarms(template: dict[str, Any]) -> None:
    ns = {"Ref": "MetricsNamespace"}
    purge_dims = {"environment": {"Ref": "Environment"}, "service": "retention_purge"}
    failed = alarm_on(template, ns, "PurgeFailures", **purge_dims)
    assert failed["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    not_run = alarm_on(template, ns, "PurgeRuns", **purge_dims)
    assert not_run["TreatMissingData"] == "breaching"
    assert not_run["ComparisonOperator"] == "LessThanThreshold"
    assert not_run["Period"] * not_run["EvaluationPeriods"] == 25 * 3600
    assert not_run["DatapointsToAlarm"] == not_run["EvaluationPeriods"]


def test_recording_deletion_stuck_and_audit_failure_alarms(template: dict[str, Any]) -> None:
    ns = {"Ref": "MetricsNamespace"}
    env = {"Ref": "Environment"}
    stuck = alarm_on(template, ns, "PurgeRecordingStuck", environment=env, service="retention_purge")
    assert stuck["Threshold"] == 1 and stuck["TreatMissingData"] == "notBreaching"
    dims = {"environment": env, "source": "vapi", "service": "vapi_webhook"}
    audit = alarm_on(template, ns, "AuditAppendFailed", **dims)
    assert audit["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_dlq_alarm_if_a_queue_exists(template: dict[str, Any]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    for name in queues:
        alarm_on(
            template,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            QueueName={"Fn::GetAtt": [name, "QueueName"]},
        )


def test_metrics_namespace_is_a_parameter(template: dict[str, Any]) -> None:
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert template["Parameters"]["MetricsNamespace"]["Default"] == "Voicetrail"


def test_dashboard(template: dict[str, Any]) -> None:
    assert len(resources(template, "AWS::CloudWatch::Dashboard")) == 1
    body = json.loads(dashboard_body(template))
    text = json.dumps(body)
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    assert any("latency" in t.lower() for t in titles)
    for needle in (
        '"Count"',
        '"5xx"',
        '"p99"',
        "AuthRejected",
        "CallsStarted",
        "CallsAnswered",
        "CallsCompleted",
        "CallsFailed",
        "CallsBusy",
        "CallsNoAnswer",
        "CallDuration",
        "CallCost",
        "Escalations",
        "ConsentGranted",
        "100*a/s",
        "100*c/s",
    ):
        assert needle in text, needle
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24


@pytest.mark.parametrize(
    "conditions",
    [
        frozenset(),
        frozenset({"RetellOn"}),
        frozenset({"ElevenLabsOn"}),
        frozenset({"RetellOn", "ElevenLabsOn"}),
    ],
    ids=["neither", "retell", "elevenlabs", "both"],
)
def test_the_platform_widgets_exist_exactly_with_their_functions(
    template: dict[str, Any], conditions: frozenset[str]
) -> None:
    body = json.loads(dashboard_body(template, conditions))
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    for platform, condition, function in (
        ("Retell", "RetellOn", "RetellWebhookFunction"),
        ("ElevenLabs", "ElevenLabsOn", "ElevenLabsWebhookFunction"),
    ):
        title = f"{platform} webhook"
        mine = [w for w in body["widgets"] if w["properties"].get("title", "").startswith(title)]
        assert bool(mine) is (condition in conditions), titles
        text = dashboard_body(template, conditions)
        assert (f"${{{function}}}" in text) is (condition in conditions)  # never a missing resource
        if mine:
            metrics = json.dumps([w["properties"]["metrics"] for w in mine])
            for needle in ("Invocations", "Errors", "AuthRejected", "RequestRejected", '"p99"'):
                assert needle in metrics, needle
    occupied = set()
    for widget in body["widgets"]:
        x, y, width, height = widget["x"], widget["y"], widget["width"], widget["height"]
        cells = {(x + dx, y + dy) for dx in range(width) for dy in range(height)}
        assert not cells & occupied, widget["properties"].get("title")  # no widget covers another
        occupied |= cells


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Statement" in node and isinstance(node["Statement"], list):
                found.extend(s for s in node["Statement"] if isinstance(s, dict))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template["Resources"])
    return found


def test_no_wildcard_iam_actions(template: dict[str, Any]) -> None:
    statements = _statements(template)
    assert statements
    for statement in statements:
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            assert isinstance(action, str), action
            assert "*" not in action, action
        assert "NotAction" not in statement
