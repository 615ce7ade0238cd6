"""Batch deletes and provider outcomes, without AWS or network."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.dynamo import client_error
from voicetrail.domain.erasure.deleters import (
    ExternalDeletions,
    ExternalOutcome,
    RecordingRef,
    TwilioRecordingDeleter,
    VapiCallDeleter,
    recording_ref,
)
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.storage.batch import BatchDeleter, ItemKey

pytestmark = pytest.mark.unit
KEY = SecretResolver(SecretRef("env", "K"), fetch=lambda ref, age: "k")


class Recorder:
    def __init__(self, responses: list[Any]) -> None:
        self.responses = responses
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> Any:  # noqa: N803 - boto3's name
        self.calls.append(len(RequestItems["t"]))
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response


def test_more_than_25_keys_is_refused_and_duplicates_are_sent_once() -> None:
    deleter = BatchDeleter(Recorder([{}]), "t", sleep=lambda _: None)
    with pytest.raises(ValueError):
        deleter.delete([ItemKey("p", str(n)) for n in range(26)])
    client = Recorder([{}])
    outcome = BatchDeleter(client, "t", sleep=lambda _: None).delete([ItemKey("p", "a"), ItemKey("p", "a")])
    assert client.calls == [1] and outcome.deleted == [ItemKey("p", "a")]


def test_throttles_back_off_and_other_errors_raise() -> None:
    sleeps: list[float] = []
    client = Recorder([client_error("ThrottlingException", "BatchWriteItem"), {}])
    outcome = BatchDeleter(client, "t", sleep=sleeps.append).delete([ItemKey("p", "a")])
    assert outcome.deleted and outcome.throttled == 1 and len(sleeps) == 1
    with pytest.raises(Exception, match="AccessDenied"):
        BatchDeleter(Recorder([client_error("AccessDeniedException", "BatchWriteItem")]), "t").delete(
            [ItemKey("p", "a")]
        )


def _vapi(status: int) -> VapiCallDeleter:
    return VapiCallDeleter(KEY, transport=httpx.MockTransport(lambda request: httpx.Response(status)))


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "deleted"), (404, "gone"), (503, "retry"), (429, "retry"), (500, "retry"), (401, "failed")],
)
def test_vapi_status_codes_map_to_outcomes(status: int, outcome: str) -> None:
    assert _vapi(status).delete_call("3fa85f64-5717-4562-b3fc-2c963f66afa6") == outcome


def test_bad_pointers_and_missing_credentials_never_reach_the_network() -> None:
    assert _vapi(200).delete_call("../admin") is ExternalOutcome.FAILED
    assert VapiCallDeleter(None).delete_call("abc") is ExternalOutcome.UNCONFIGURED
    assert TwilioRecordingDeleter(None, KEY).delete_recording("RE" + "0" * 32) is ExternalOutcome.UNCONFIGURED
    assert TwilioRecordingDeleter("AC" + "0" * 32, KEY).delete_recording("RE/../x") is ExternalOutcome.FAILED


def test_pointers_come_from_attributes_or_the_partition() -> None:
    twilio_item = {"pk": {"S": "CALL#twilio:CA1"}, "recording_sid": {"S": "RE1"}}
    assert recording_ref(twilio_item) == RecordingRef("RE1", None)
    assert recording_ref({"pk": {"S": "CALL#vapi-9"}}) == RecordingRef(None, "vapi-9")
    assert (
        recording_ref({"pk": {"S": "CALL#x"}, "body": {"S": '{"RecordingSid": "RE2"}'}}).twilio_recording_sid
        == "RE2"
    )


class Counting:
    def __init__(self, outcome: ExternalOutcome) -> None:
        self.outcome = outcome
        self.calls = 0

    def delete_recording(self, sid: str) -> ExternalOutcome:
        self.calls += 1
        return self.outcome

    def delete_call(self, call_id: str) -> ExternalOutcome:
        self.calls += 1
        return self.outcome


def test_one_request_per_resource_per_run_and_the_worst_outcome_wins() -> None:
    twilio, vapi = Counting(ExternalOutcome.DELETED), Counting(ExternalOutcome.RETRY)
    run = ExternalDeletions(twilio, vapi)
    assert run.delete(RecordingRef("RE1", "v1")) is ExternalOutcome.RETRY
    assert run.delete(RecordingRef("RE1", "v1")) is ExternalOutcome.RETRY
    assert run.delete(RecordingRef(None, None)) is ExternalOutcome.DELETED
    assert (twilio.calls, vapi.calls, run.twilio_deleted, run.failed) == (1, 1, 1, 1)
