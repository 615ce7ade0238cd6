"""Production secret references: Secrets Manager and SSM SecureString through Powertools, against moto."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from voicetrail.errors import SecretUnavailableError
from voicetrail.infra import aws
from voicetrail.infra.secrets import SecretRef, SecretResolver

pytestmark = pytest.mark.integration


@pytest.fixture
def aws_mock() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


def _name() -> str:
    return f"voicetrail/test/{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    ("stored", "active"),
    [
        ("one-secret", ("one-secret",)),
        (json.dumps(["new", "old"]), ("new", "old")),  # rotation: both accepted until the old one is dropped
        (json.dumps({"current": "a", "previous": ["b"]}), ("a", "b")),
    ],
)
def test_secrets_manager_refs_resolve_through_the_shared_session(
    aws_mock: None, stored: str, active: tuple[str, ...]
) -> None:
    name = _name()
    aws.client("secretsmanager", region="us-east-1").create_secret(Name=name, SecretString=stored)
    resolver = SecretResolver(SecretRef.parse(f"secretsmanager:{name}"), max_age=0)
    assert resolver.values() == active


def test_ssm_secure_string_refs_are_decrypted(aws_mock: None) -> None:
    name = "/" + _name()
    aws.client("ssm", region="us-east-1").put_parameter(Name=name, Value="pepper", Type="SecureString")
    assert SecretResolver(SecretRef.parse(f"ssm:{name}"), max_age=0).values() == ("pepper",)


def test_a_missing_secret_is_unavailable_without_naming_it(aws_mock: None) -> None:
    name = _name()
    with pytest.raises(SecretUnavailableError) as caught:
        SecretResolver(SecretRef.parse(f"secretsmanager:{name}"), max_age=0).values()
    assert name not in str(caught.value)


def test_every_client_and_provider_shares_one_session(aws_mock: None) -> None:
    from voicetrail.storage.dynamo import dynamodb_client

    provider: Any = aws.parameters_provider("secretsmanager")
    shared = aws.session()._session  # the botocore session: its loader holds the parsed endpoint data
    assert provider.client._endpoint is not None
    assert dynamodb_client(region="us-east-1")._loader is shared.get_component("data_loader")
    assert provider.client._loader is shared.get_component("data_loader")
    ssm_provider = aws.parameters_provider("ssm")
    assert aws.parameters_provider("secretsmanager") is provider  # one max_age cache per process
    assert aws.parameters_provider("ssm") is ssm_provider


@pytest.mark.parametrize("source", ["secretsmanager", "ssm"])
def test_refresh_reads_past_powertools_cache(aws_mock: None, source: str) -> None:
    # A five-minute cache, as deployed: only refresh() (force_fetch) may see a rotation before it expires.
    name = ("/" if source == "ssm" else "") + _name()
    if source == "secretsmanager":
        client = aws.client("secretsmanager", region="us-east-1")
        client.create_secret(Name=name, SecretString=json.dumps({"current": "v1"}))
        rotate = lambda: client.put_secret_value(SecretId=name, SecretString=json.dumps({"current": "v2"}))  # noqa: E731
    else:
        client = aws.client("ssm", region="us-east-1")
        client.put_parameter(Name=name, Value="v1", Type="SecureString")
        rotate = lambda: client.put_parameter(Name=name, Value="v2", Type="SecureString", Overwrite=True)  # noqa: E731
    resolver = SecretResolver(SecretRef.parse(f"{source}:{name}"), max_age=300)
    assert resolver.values() == ("v1",)
    rotate()
    assert resolver.values() == ("v1",)
    assert resolver.refresh() == ("v2",)
    assert resolver.values() == ("v2",)
