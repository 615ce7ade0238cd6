"""The deployment's signer: a KMS asymmetric key (moto) signs a bundle that verifies offline with the
public key alone, and KMS itself accepts the signature; a key of the wrong spec is refused by name."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.unit.test_evidence_signing import NOW, call_view
from voicetrail.infra.signing import (
    KEY_SPEC,
    SIGNING_ALGORITHM,
    KmsSigner,
    SigningUnavailableError,
    fingerprint,
)
from voicetrail_cli.main import app
from voicetrail_cli.ops.evidence import build_bundle, public_key_pem, statement_message

pytestmark = pytest.mark.integration


@pytest.fixture
def kms() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("kms", region_name="us-east-1")


def test_a_kms_signed_bundle_verifies_offline_with_the_public_key_alone(kms: Any, tmp_path: Path) -> None:
    key_id = kms.create_key(KeySpec=KEY_SPEC, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/voicetrail-evidence", TargetKeyId=key_id)
    signer = KmsSigner(kms, "alias/voicetrail-evidence")

    bundle = build_bundle(call_view(), source="stack", now=NOW, signer=signer)

    named = bundle["signature"]["statement"]["key"]
    assert named["key_id"].endswith(key_id) and named["key_id"].startswith("arn:aws:kms:")  # never the alias
    assert named["fingerprint"] == fingerprint(kms.get_public_key(KeyId=key_id)["PublicKey"])
    accepted = kms.verify(
        KeyId=key_id,
        Message=statement_message(bundle["signature"]["statement"]),
        MessageType="RAW",
        Signature=base64.b64decode(bundle["signature"]["value"]),
        SigningAlgorithm=SIGNING_ALGORITHM,
    )
    assert accepted["SignatureValid"]
    path, public = tmp_path / "bundle.json", tmp_path / "kms.pub.pem"
    path.write_text(json.dumps(bundle))
    public.write_text(public_key_pem(signer))
    result = CliRunner().invoke(
        app,
        ["audit", "verify", "--file", str(path), "--public-key", str(public), "--json", "--now", str(NOW)],
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"], result.output
    bundle["events"][0]["attributes"]["customer_number"] = "+14155550100"
    path.write_text(json.dumps(bundle))
    forged = CliRunner().invoke(app, ["audit", "verify", "--file", str(path), "--public-key", str(public)])
    assert forged.exit_code == 1 and "record_edited" in forged.stdout


@pytest.mark.parametrize(
    ("spec", "usage"),
    [("RSA_2048", "SIGN_VERIFY"), ("ECC_NIST_P384", "SIGN_VERIFY"), ("SYMMETRIC_DEFAULT", None)],
)
def test_a_key_that_cannot_sign_evidence_is_refused_by_name(kms: Any, spec: str, usage: str | None) -> None:
    options = {"KeySpec": spec, **({"KeyUsage": usage} if usage else {})}
    key_id = kms.create_key(**options)["KeyMetadata"]["KeyId"]
    with pytest.raises(SigningUnavailableError) as raised:
        KmsSigner(kms, key_id).sign(b"\x00" * 32)
    assert KEY_SPEC in str(raised.value)


def test_an_unknown_key_is_a_clean_error(kms: Any) -> None:
    with pytest.raises(SigningUnavailableError, match="NotFoundException"):
        KmsSigner(kms, "alias/no-such-key").public_key_der()
