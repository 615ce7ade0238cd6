"""Live-call configs from SSM (the operator's alternative to table items), against moto."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from voicetrail.storage.ssm_config import SsmConfigSource

pytestmark = pytest.mark.integration


@pytest.fixture
def ssm() -> Iterator[object]:
    from moto import mock_aws

    with mock_aws():
        import boto3

        yield boto3.client("ssm", region_name="us-east-1")


def test_phone_assistant_and_default_configs_are_read_from_their_parameters(ssm: object) -> None:
    prefix = f"/voicetrail/test-{uuid.uuid4().hex[:8]}/live"
    phone_config = json.dumps({"consent_policy": "end-call"})
    ssm.put_parameter(Name=f"{prefix}/phone/pn-1", Value=phone_config, Type="String")  # type: ignore[attr-defined]
    ssm.put_parameter(Name=f"{prefix}/default", Value="{}", Type="String")  # type: ignore[attr-defined]
    source = SsmConfigSource(prefix, max_age=0)
    assert source.fetch("CONFIG#phone#pn-1") == phone_config
    assert source.fetch("CONFIG#default") == "{}"
    assert source.fetch("CONFIG#assistant#missing") is None  # absent: fall through to the next key
