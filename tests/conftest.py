"""Shared fixtures: event files, fake AWS, a moto table created from template.yaml, handler loading."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
TABLE = "voicetrail-test"
VAPI_SECRET = "test-vapi-secret"
PEPPER = "test-pepper"
TWILIO_TOKEN = "test-twilio-token"


def load_fixture(relative: str) -> dict[str, Any]:
    return json.loads((FIXTURES / relative).read_text())


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests never reach AWS: fake credentials, a fixed region, metrics printed nowhere.
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "VoicetrailTest",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def function_env(**overrides: str) -> dict[str, str]:
    env = {
        "VOICETRAIL_ENV": "test",
        "TABLE_NAME": TABLE,
        "VOICETRAIL_ALLOW_ENV_SECRETS": "true",
        "VAPI_SECRET_REF": "env:TEST_VAPI_SECRET",
        "TEST_VAPI_SECRET": VAPI_SECRET,
        "HASH_PEPPER_REF": "env:TEST_PEPPER",
        "TEST_PEPPER": PEPPER,
        "TWILIO_AUTH_TOKEN_REF": "env:TEST_TWILIO_TOKEN",
        "TEST_TWILIO_TOKEN": TWILIO_TOKEN,
        "TWILIO_WEBHOOK_BASE_URL": "https://hooks.example.com",
        "SECRET_CACHE_SECONDS": "0",
    }
    env.update(overrides)
    return env


@pytest.fixture
def moto_table() -> Iterator[Any]:
    """An in-process moto DynamoDB with the table exactly as template.yaml defines it."""
    from moto import mock_aws

    from voicetrail_cli.dev.local import ensure_table

    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        ensure_table(client, TABLE)
        yield client


def load_function(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import functions/<name>/app.py fresh, with `env` set, as Lambda would at cold start."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = ROOT / "functions" / name / "app.py"
    module_name = f"test_fn_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class FakeContext:
    function_name = "test-fn"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-fn"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_event(
    path: str,
    body: bytes,
    headers: dict[str, str],
    *,
    method: str = "POST",
    base64_body: bool = False,
    query: str = "",
) -> dict[str, Any]:
    import base64

    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "req-1",
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode() if base64_body else body.decode("utf-8", "surrogateescape"),
        "isBase64Encoded": base64_body,
    }


@pytest.fixture(autouse=True, scope="session")
def _warm_name_tagger() -> None:
    # The name tagger loads on first use (its weights and gazetteer, a few ms); loaded here so that the load
    # never lands in whichever timed (hypothesis) example runs first.
    from voicetrail.redaction import _names

    _names.tagger()
