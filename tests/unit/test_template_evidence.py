"""template.yaml: the evidence signing key is ECDSA P-256 for signing only, retained, reachable through its
alias, and usable for signing only through EvidenceSignerPolicy (no function role touches it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from voicetrail.infra.signing import KEY_SPEC, SIGNING_ALGORITHM
from voicetrail_cli.ops.template import load_template

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_the_key_is_an_asymmetric_signing_key_that_outlives_the_stack(template: dict[str, Any]) -> None:
    key = template["Resources"]["EvidenceSigningKey"]
    assert key["Type"] == "AWS::KMS::Key" and key["DeletionPolicy"] == "Retain"
    props = key["Properties"]
    assert (props["KeySpec"], props["KeyUsage"]) == (KEY_SPEC, "SIGN_VERIFY")
    assert props["EnableKeyRotation"] is False  # KMS cannot rotate asymmetric keys: the docs say how
    signing = [s for s in props["KeyPolicy"]["Statement"] if "kms:Sign" in s["Action"]]
    assert signing and all(
        s["Condition"]["StringEquals"]["kms:SigningAlgorithm"] == SIGNING_ALGORITHM for s in signing
    )


def test_only_the_signer_policy_grants_sign_and_it_follows_the_alias(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    policy = resources["EvidenceSignerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in policy for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {"kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"}
    alias = resources["EvidenceSigningKeyAlias"]["Properties"]["AliasName"]
    for statement in policy:
        assert statement["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == alias
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions and "kms:Sign" not in json.dumps(functions)
    outputs = template["Outputs"]
    assert "EvidenceSigningKeyAlias" in json.dumps(outputs["EvidenceSigningKey"]["Value"])
