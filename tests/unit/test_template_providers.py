"""template.yaml: Retell and ElevenLabs are off by default, and when on, each gets exactly what it needs."""

from __future__ import annotations

from typing import Any

import pytest

from voicetrail_cli.ops.template import load_template

pytestmark = pytest.mark.unit

PLATFORMS = {
    "Retell": ("RetellOn", "EnableRetell", "/retell/webhook", ["RetellApiKeySecret"]),
    "ElevenLabs": ("ElevenLabsOn", "EnableElevenLabs", "/elevenlabs/webhook", ["ElevenLabsWebhookSecret"]),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_the_platform_is_off_by_default_and_everything_of_it_is_conditional(
    template: dict[str, Any], platform: str
) -> None:
    condition, parameter, _, _ = PLATFORMS[platform]
    assert template["Parameters"][parameter]["Default"] == "false"
    assert template["Conditions"][condition] == {"Fn::Equals": [{"Ref": parameter}, "true"]}
    resources = {k: v for k, v in template["Resources"].items() if k.startswith(platform)}
    assert len(resources) >= 5  # function, log group, secret(s), errors and throttles alarms
    assert {k for k, v in resources.items() if v.get("Condition") != condition} == set()
    outputs = {k: v for k, v in template["Outputs"].items() if k.startswith(platform)}
    assert outputs and all(v.get("Condition") == condition for v in outputs.values())


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in function["Properties"]["Policies"]:
        if "Statement" in policy:
            found.extend(policy["Statement"])
    return found


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_the_function_reads_only_its_own_secret_and_the_pepper(
    template: dict[str, Any], platform: str
) -> None:
    _, _, route, secrets = PLATFORMS[platform]
    function = template["Resources"][f"{platform}WebhookFunction"]
    statements = _statements(function)
    reads = [s for s in statements if s["Action"] == ["secretsmanager:GetSecretValue"]]
    assert [s["Resource"] for s in reads] == [[{"Ref": name} for name in [*secrets, "HashPepperSecret"]]]
    actions = {a for s in statements for a in s["Action"]}
    assert not any(a.endswith(("DeleteItem", "Scan", "BatchWriteItem")) for a in actions)  # no erasure rights
    [event] = function["Properties"]["Events"].values()
    assert event["Properties"]["Path"] == route and event["Properties"]["Method"] == "POST"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_errors_and_throttles_alarms_have_runbook_entries(template: dict[str, Any], platform: str) -> None:
    from voicetrail_cli.ops.template import REPO_ROOT

    for metric in ("Errors", "Throttles"):
        name = f"{platform}Webhook{metric}Alarm"
        alarm = template["Resources"][name]["Properties"]
        assert alarm["MetricName"] == metric
        assert alarm["Dimensions"] == [
            {"Name": "FunctionName", "Value": {"Ref": f"{platform}WebhookFunction"}}
        ]
        assert (REPO_ROOT / "docs" / "runbook" / f"{name}.md").exists()


def _conditional(function: dict[str, Any], condition: str) -> list[dict[str, Any]]:
    return [
        s
        for policy in function["Properties"]["Policies"]
        if "Fn::If" in policy and policy["Fn::If"][0] == condition
        for s in policy["Fn::If"][1]["Statement"]
    ]


def test_kept_audio_is_off_by_default_and_its_s3_rights_exist_only_when_it_is_on(
    template: dict[str, Any],
) -> None:
    assert template["Parameters"]["ElevenLabsKeepAudio"]["Default"] == "false"
    assert template["Conditions"]["ElevenLabsAudioOn"] == {
        "Fn::And": [{"Condition": "ElevenLabsOn"}, {"Fn::Equals": [{"Ref": "ElevenLabsKeepAudio"}, "true"]}]
    }
    resources = template["Resources"]
    webhook = resources["ElevenLabsWebhookFunction"]
    assert webhook["Properties"]["Environment"]["Variables"]["ELEVENLABS_KEEP_AUDIO"] == {
        "Ref": "ElevenLabsKeepAudio"
    }
    recording_objects = {"Fn::Sub": "${LargeEventsBucket.Arn}/recording/*"}
    [put] = _conditional(webhook, "ElevenLabsAudioOn")
    assert put["Action"] == ["s3:PutObject"] and put["Resource"] == recording_objects
    assert not any("s3:" in str(s["Action"]) for s in _statements(webhook))  # nothing unconditional
    [delete] = _conditional(resources["RetentionPurgeFunction"], "ElevenLabsAudioOn")
    assert delete["Action"] == ["s3:DeleteObject"] and delete["Resource"] == recording_objects
    rules = resources["LargeEventsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [r for r in rules if r.get("Prefix") == "recording/"]
    assert rule["ExpirationInDays"] == {"Ref": "RetentionDaysRecording"} and rule["Status"] == "Enabled"
