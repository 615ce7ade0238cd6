"""DynamoDB failures are classified once (voicetrail.storage.failures): a transient one is answered 503
(retry), a permanent one 422 (never "retry": the same request would fail the same way)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from voicetrail.domain.calls.ports import PutOutcome, StoredEvent
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.errors import StoreRejectedError, StoreUnavailableError, to_http_error
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail.storage.expressions import is_dynamo_number, n
from voicetrail.storage.failures import PERMANENT_CODES, TRANSIENT_CODES, Failure, classify, store_error

pytestmark = pytest.mark.unit

# Real messages DynamoDB returns for its permanent failures (each a ValidationException).
VALIDATION_MESSAGES = (
    "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of "
    "2048 bytes",
    "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size "
    "limit of 1024 bytes",
    "Item size has exceeded the maximum allowed size",
    "The parameter cannot be converted to a numeric value: NaN",
    "Number overflow. Attempting to store a number with magnitude larger than supported range",
    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain "
    "an empty string value.",
)


def client_error(code: str, message: str = "", operation: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class RaisingClient:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def put_item(self, **_: Any) -> None:
        raise self.exc

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}  # the expiry day record written before the item (storage.expiry_days) succeeds


def event(**changes: Any) -> StoredEvent:
    fields: dict[str, Any] = {
        "call_id": "c1",
        "event_key": "status-update#ended",
        "source": "vapi",
        "event_type": "status-update",
        "retention_class": RetentionClass.METADATA,
        "expires_at": 2_000_000_000,
        "received_at_ms": 1_764_079_300_000,
        "body": {"type": "status-update"},
    }
    fields.update(changes)
    return StoredEvent(**fields)


@pytest.mark.parametrize("code", sorted(TRANSIENT_CODES))
def test_a_transient_code_is_answered_retry(code: str) -> None:
    store = DynamoEventStore(RaisingClient(client_error(code)), "t")  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailableError) as raised:
        store.put_event(event(), now=1.0)
    answer = to_http_error(raised.value)
    assert (answer.status, answer.headers.get("Retry-After")) == (503, "1")


@pytest.mark.parametrize("message", VALIDATION_MESSAGES)
def test_a_validation_failure_is_permanent_never_retry(message: str) -> None:
    store = DynamoEventStore(RaisingClient(client_error("ValidationException", message)), "t")  # type: ignore[arg-type]
    with pytest.raises(StoreRejectedError) as raised:
        store.put_event(event(), now=1.0)
    answer = to_http_error(raised.value)
    assert answer.status == 422 and "Retry-After" not in answer.headers
    assert "size" not in str(raised.value).lower() and "NaN" not in str(raised.value)  # codes, never text


@pytest.mark.parametrize("code", sorted(PERMANENT_CODES))
def test_every_permanent_code_is_classified_permanent(code: str) -> None:
    assert classify(client_error(code)) is Failure.PERMANENT
    assert isinstance(store_error(client_error(code), "put_item"), StoreRejectedError)


@pytest.mark.parametrize(
    "exc",
    [
        ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ConnectionClosedError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        NoCredentialsError(),
        client_error("AccessDeniedException"),  # fixed by a deploy, after which the retry succeeds
        client_error("ResourceNotFoundException"),
        client_error("SomethingNewException"),
    ],
    ids=lambda e: type(e).__name__ if not isinstance(e, ClientError) else e.response["Error"]["Code"],
)
def test_timeouts_connection_errors_and_unknown_codes_are_transient(exc: BaseException) -> None:
    assert classify(exc) is Failure.TRANSIENT
    store = DynamoEventStore(RaisingClient(exc), "t")  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailableError):
        store.put_event(event(), now=1.0)


@pytest.mark.parametrize(
    "exc",
    [
        ParamValidationError(report="Invalid type for parameter Item"),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
        ValueError("Out of range float values are not JSON compliant"),
        OverflowError("cannot convert float infinity to integer"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_client_side_and_encoding_errors_are_permanent(exc: BaseException) -> None:
    assert classify(exc) is Failure.PERMANENT


def test_an_item_that_cannot_be_encoded_is_rejected_before_any_request() -> None:
    client = RaisingClient(AssertionError("no request may be sent"))
    store = DynamoEventStore(client, "t")  # type: ignore[arg-type]
    with pytest.raises(StoreRejectedError):
        store.put_event(event(attributes={"cost_usd": float("inf")}), now=1.0)


def test_a_conditional_check_failure_stays_a_duplicate() -> None:
    store = DynamoEventStore(RaisingClient(client_error("ConditionalCheckFailedException")), "t")  # type: ignore[arg-type]
    assert store.put_event(event(), now=1.0) is PutOutcome.DUPLICATE


@pytest.mark.parametrize(
    ("value", "written"),
    [(0, "0"), (12.0, "12"), (0.25, "0.25"), (1e100, "1e+100"), (10**37, str(10**37)), (-3, "-3")],
)
def test_numbers_dynamodb_can_hold_are_written_as_before(value: float, written: str) -> None:
    assert n(value) == {"N": written}


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), 1e200, 1e-200, 10**40 + 1, True]
)
def test_numbers_dynamodb_cannot_hold_are_refused_before_any_request(value: float) -> None:
    assert not is_dynamo_number(value)
    with pytest.raises(ValueError):
        n(value)
