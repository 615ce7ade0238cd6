"""template.yaml: nothing outlives its retention, and the stack has no circular dependency by construction.

The expanded-template lint (`make lint-template`) proves the template deploys; these tests pin the choices
that lint cannot judge: which parameter drives which retention, and what the access log may hold.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from voicetrail_cli.ops.template import load_template

pytestmark = pytest.mark.unit

FUNCTIONS = [
    "VapiWebhookFunction",
    "TwilioStatusFunction",
    "RetentionPurgeFunction",
    "OperatorApiFunction",
    "RetellWebhookFunction",
    "ElevenLabsWebhookFunction",
]
KMS_OR_DEFAULT = {"Fn::If": ["KmsKeyGiven", {"Ref": "KmsKeyArn"}, {"Ref": "AWS::NoValue"}]}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _log_group(template: dict[str, Any], ref: Any) -> dict[str, Any]:
    assert isinstance(ref, dict) and set(ref) == {"Ref"}, ref
    group = template["Resources"][ref["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup"
    props: dict[str, Any] = group["Properties"]
    return props


def test_every_function_logs_to_its_own_group_with_retention(template: dict[str, Any]) -> None:
    functions = {k for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions == set(FUNCTIONS)
    groups = set()
    for name in FUNCTIONS:
        ref = template["Resources"][name]["Properties"]["LoggingConfig"]["LogGroup"]
        group = _log_group(template, ref)
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert group["KmsKeyId"] == KMS_OR_DEFAULT, name
        assert "LogGroupName" not in group  # a CloudFormation name cannot collide with Lambda's own group
        groups.add(ref["Ref"])
    assert len(groups) == len(FUNCTIONS)


def test_log_retention_default_is_short(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] <= 30
    assert parameter["Default"] in parameter["AllowedValues"]


ACCESS_LOG_CALLER_DATA = [
    "$context.identity.sourceIp",
    "$context.identity.userAgent",
    "$context.path",
    "$context.http.path",
    "$context.requestOverride",
    "$input",
    "querystring",
    "$context.identity.caller",
]


@pytest.fixture(scope="module")
def access_log(template: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    return settings


def test_access_log_goes_to_a_retained_group(template: dict[str, Any], access_log: dict[str, Any]) -> None:
    target = access_log["DestinationArn"]["Fn::GetAtt"]
    assert target[1] == "Arn"
    group = _log_group(template, {"Ref": target[0]})
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["KmsKeyId"] == KMS_OR_DEFAULT


def test_access_log_format_is_json_with_the_audit_fields(access_log: dict[str, Any]) -> None:
    fields = json.loads(access_log["Format"])
    assert {"requestId", "routeKey", "status", "error", "principal"} <= set(fields)


@pytest.mark.parametrize("variable", ACCESS_LOG_CALLER_DATA)
def test_access_log_holds_no_caller_data(access_log: dict[str, Any], variable: str) -> None:
    assert variable.lower() not in access_log["Format"].lower()


def test_pitr_window_is_a_bounded_parameter(template: dict[str, Any]) -> None:
    table = template["Resources"]["EventsTable"]["Properties"]
    pitr = table["PointInTimeRecoverySpecification"]
    assert pitr == {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": {"Ref": "PitrRecoveryDays"}}
    parameter = template["Parameters"]["PitrRecoveryDays"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (1, 35)
    assert 1 <= parameter["Default"] <= 35


def test_optional_customer_managed_key_for_the_table(template: dict[str, Any]) -> None:
    assert template["Parameters"]["KmsKeyArn"]["Default"] == ""
    assert template["Conditions"]["KmsKeyGiven"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}]}
    sse = template["Resources"]["EventsTable"]["Properties"]["SSESpecification"]
    assert sse["SSEEnabled"] is True
    assert sse["KMSMasterKeyId"] == KMS_OR_DEFAULT
    assert sse["SSEType"] == {"Fn::If": ["KmsKeyGiven", "KMS", {"Ref": "AWS::NoValue"}]}


@pytest.mark.parametrize("resource", ["EventsTable", "HashPepperSecret"])
def test_table_and_pepper_survive_a_stack_delete(template: dict[str, Any], resource: str) -> None:
    # The pepper links erasure requests to the hashes in the (retained) table: losing it orphans them.
    assert template["Resources"][resource]["DeletionPolicy"] == "Retain"
    assert template["Resources"][resource]["UpdateReplacePolicy"] == "Retain"


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if "Ref" in node:
            found.add(node["Ref"])
        if "Fn::GetAtt" in node:
            found.add(node["Fn::GetAtt"][0])
        if "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            found.update(part.split("}", 1)[0].split(".", 1)[0] for part in text.split("${")[1:])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_property_names_the_api(template: dict[str, Any], function: str) -> None:
    # The API's generated body names every function behind it: a function naming the API is a cycle.
    properties = {k: v for k, v in template["Resources"][function]["Properties"].items() if k != "Events"}
    assert "HttpApi" not in _refs(properties)
    assert "HttpApi" not in _refs(template["Globals"]["Function"])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_functions_may_use_the_optional_table_key(template: dict[str, Any], function: str) -> None:
    policies = template["Resources"][function]["Properties"]["Policies"]
    conditional = [p["Fn::If"] for p in policies if isinstance(p, dict) and "Fn::If" in p]
    (kms,) = [branches for branches in conditional if branches[0] == "KmsKeyGiven"]
    (statement,) = kms[1]["Statement"]
    assert statement["Resource"] == {"Ref": "KmsKeyArn"}
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= set(statement["Action"])
    assert kms[2] == {"Ref": "AWS::NoValue"}


def test_broken_live_config_alarm_watches_the_emitted_metric(template: dict[str, Any]) -> None:
    # The metric is emitted by LiveConfigResolver with source=vapi from vapi_webhook (PowertoolsRecorder adds
    # environment and service): the alarm must name exactly these dimensions, or it never fires.
    alarm = template["Resources"]["LiveConfigBrokenAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ({"Ref": "MetricsNamespace"}, "LiveConfigBroken")
    dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dims == {"environment": {"Ref": "Environment"}, "source": "vapi", "service": "vapi_webhook"}
    assert alarm["Threshold"] == 1 and alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_alarm_has_a_runbook(template: dict[str, Any]) -> None:
    from pathlib import Path

    runbooks = Path(__file__).resolve().parents[2] / "docs" / "runbook"
    for name in ("LiveConfigBrokenAlarm",):
        assert template["Resources"][name]["Type"] == "AWS::CloudWatch::Alarm"
        assert (runbooks / f"{name}.md").is_file(), name


def test_every_deploy_environment_names_the_region_near_vapi() -> None:
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "samconfig.toml").read_text())
    assert config["default"]["global"]["parameters"]["region"] == "us-west-2"
    for env in ("dev", "staging", "prod"):
        assert config[env]["deploy"]["parameters"]["region"] == "us-west-2", env


def test_the_xray_sdk_layer_is_attached_exactly_when_tracing_is_on(template: dict[str, Any]) -> None:
    from pathlib import Path

    layers = template["Globals"]["Function"]["Layers"]
    assert layers == [
        {"Ref": "CommonLayer"},
        {"Fn::If": ["TracingOn", {"Ref": "TracingLayer"}, {"Ref": "AWS::NoValue"}]},
    ]
    assert template["Globals"]["Function"]["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    root = Path(__file__).resolve().parents[2] / "layers"
    assert "aws-xray-sdk==" in (root / "tracing" / "requirements.txt").read_text()
    assert "aws-xray-sdk==" not in (root / "common" / "requirements.txt").read_text()
