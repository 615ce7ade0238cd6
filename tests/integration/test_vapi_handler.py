"""The real vapi_webhook Lambda handler against moto: statuses, storage shape, store failures."""

from __future__ import annotations

import json
import time
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.conftest import (
    TABLE,
    VAPI_SECRET,
    FakeContext,
    fixture_bytes,
    function_env,
    http_event,
    load_function,
)
from voicetrail.domain.retention.classes import DAY

pytestmark = pytest.mark.integration
PATH = "/vapi/webhook"


@pytest.fixture
def handler(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("vapi_webhook", function_env(), monkeypatch)


def invoke(
    module: ModuleType, body: bytes, headers: dict[str, str] | None = None, **kwargs: Any
) -> dict[str, Any]:
    headers = (
        {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"} if headers is None else headers
    )
    result: dict[str, Any] = module.lambda_handler(
        http_event(kwargs.pop("path", PATH), body, headers, **kwargs), FakeContext()
    )
    return result


def items(client: Any) -> list[dict[str, Any]]:
    """The stored events (the joined call summary and other records are not events)."""
    return [i for i in client.scan(TableName=TABLE)["Items"] if i["sk"]["S"].startswith("EVT#")]


def test_a_signed_event_is_stored_once_with_retention_attributes(
    handler: ModuleType, moto_table: Any
) -> None:
    response = invoke(handler, fixture_bytes("vapi/transcript-final-user.json"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {}
    [item] = items(moto_table)
    assert item["pk"]["S"] == "CALL#73daba4d-2bcc-4cca-8e49-3d7903467ade"
    assert item["sk"]["S"].startswith("EVT#vapi#transcript#user#final#")
    assert item["retention_class"]["S"] == "content"
    expires_at = int(item["expires_at"]["N"])
    assert abs(expires_at - (time.time() + 30 * DAY)) < 60
    assert item["exp_bucket"]["S"].startswith("EXP#")
    assert item["caller_hash"]["S"].startswith("ph_")
    assert "123-45-6789" not in json.dumps(item)


def test_base64_encoded_bodies_are_verified_on_the_decoded_bytes(
    handler: ModuleType, moto_table: Any
) -> None:
    response = invoke(handler, fixture_bytes("vapi/status-update.json"), base64_body=True)
    assert response["statusCode"] == 200
    assert len(items(moto_table)) == 1


def test_a_retry_is_answered_200_and_stored_once(handler: ModuleType, moto_table: Any) -> None:
    body = fixture_bytes("vapi/end-of-call-report.json")
    assert invoke(handler, body)["statusCode"] == 200
    assert invoke(handler, body)["statusCode"] == 200
    assert len(items(moto_table)) == 1


def test_every_event_of_a_call_is_kept(handler: ModuleType, moto_table: Any) -> None:
    names = [
        "status-update",
        "transcript-final-user",
        "transcript-partial-user",
        "speech-update",
        "tool-calls",
        "end-of-call-report",
        "unknown-type",
    ]
    for name in names:
        assert invoke(handler, fixture_bytes(f"vapi/{name}.json"))["statusCode"] == 200
    assert len(items(moto_table)) == len(names)


REJECTIONS = [
    ("no credential", fixture_bytes("vapi/status-update.json"), {}, 401),
    ("wrong secret", fixture_bytes("vapi/status-update.json"), {"x-vapi-secret": "forged"}, 401),
    ("wrong-length secret", fixture_bytes("vapi/status-update.json"), {"x-vapi-secret": "x"}, 401),
    (
        "bearer instead of secret",
        fixture_bytes("vapi/status-update.json"),
        {"authorization": f"Bearer {VAPI_SECRET}"},
        401,
    ),
    ("not json", b"hello", None, 400),
    ("no message.type", b'{"message":{}}', None, 400),
    ("oversized", b'{"message":{"type":"hang","pad":"' + b"x" * 1_100_000 + b'"}}', None, 413),
]


@pytest.mark.parametrize(
    ("body", "headers", "status"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_rejections_have_clear_statuses_and_store_nothing(
    handler: ModuleType, moto_table: Any, body: bytes, headers: dict[str, str] | None, status: int
) -> None:
    response = invoke(handler, body, headers)
    assert response["statusCode"] == status
    assert set(json.loads(response["body"])) == {"error", "message"}
    assert items(moto_table) == []


def test_unknown_route_is_404(handler: ModuleType) -> None:
    assert invoke(handler, b"{}", path="/vapi/other")["statusCode"] == 404


def test_non_base64_body_flagged_as_base64_is_400(handler: ModuleType) -> None:
    event = http_event(PATH, b"", {"x-vapi-secret": VAPI_SECRET})
    event.update(body="@@not-base64@@", isBase64Encoded=True)
    assert handler.lambda_handler(event, FakeContext())["statusCode"] == 400


STORE_FAILURES = [
    ("throttled", ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")),
    ("dynamodb 500", ClientError({"Error": {"Code": "InternalServerError"}}, "PutItem")),
    ("unreachable", EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")),
]


@pytest.mark.parametrize("error", [f[1] for f in STORE_FAILURES], ids=[f[0] for f in STORE_FAILURES])
def test_store_failure_answers_503_with_retry_after(
    handler: ModuleType, moto_table: Any, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def fail(**_: Any) -> None:
        raise error

    monkeypatch.setattr(handler.service._pipeline.records.events._client, "put_item", fail)
    response = invoke(handler, fixture_bytes("vapi/status-update.json"))
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "1"
    assert items(moto_table) == []


def test_unexpected_bug_is_a_retryable_500_without_details(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret detail +14155550123")

    monkeypatch.setattr(handler.service, "_process", explode)
    response = invoke(handler, fixture_bytes("vapi/status-update.json"))
    assert response["statusCode"] == 500
    assert "+1415" not in response["body"] and "secret detail" not in response["body"]


def test_expired_items_are_never_returned(handler: ModuleType, moto_table: Any) -> None:
    from voicetrail.storage.dynamo import DynamoEventStore

    invoke(handler, fixture_bytes("vapi/status-update.json"))
    store = DynamoEventStore(moto_table, TABLE)
    call_id = "73daba4d-2bcc-4cca-8e49-3d7903467ade"
    assert len(store.call_events(call_id, now=time.time())) == 1
    assert store.call_events(call_id, now=time.time() + 91 * DAY) == []
