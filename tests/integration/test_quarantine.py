"""The quarantine through the real handlers against moto: an authenticated message that fails after
authentication is kept (redacted, once, counted, under its call), and replays after a fix."""

from __future__ import annotations

import gzip
import json
import time
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import (
    TABLE,
    VAPI_SECRET,
    FakeContext,
    function_env,
    http_event,
    load_fixture,
    load_function,
)
from tests.twilio_support import fixture_params, new_call_sid
from tests.webhook_support import post_twilio, post_vapi
from voicetrail.domain.quarantine import Source, utc_day
from voicetrail.providers.twilio.service import CallbackKind
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail.storage.quarantine import DynamoQuarantineStore
from voicetrail.transport import payload

pytestmark = pytest.mark.integration
CANARY = {"phone": "+14155550199", "email": "canary.person@example.com", "ssn": "219-09-9999"}


@pytest.fixture
def vapi(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    return load_function("vapi_webhook", function_env(), monkeypatch)


@pytest.fixture
def twilio(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("twilio_status", function_env(), monkeypatch)


def deep_transcript(call_id: str, levels: int) -> bytes:
    document = load_fixture("vapi/transcript-final-user.json")
    document["message"]["call"]["id"] = call_id
    document["message"]["transcript"] = (
        f"call me on {CANARY['phone']} or {CANARY['email']}, ssn {CANARY['ssn']}"
    )
    text = json.dumps(document)
    nested = '{"a":' * levels + "1" + "}" * levels
    return text.replace('"transcript":', f'"metadata": {nested}, "transcript":', 1).encode()


def items(client: Any) -> list[dict[str, Any]]:
    return list(client.scan(TableName=TABLE)["Items"])


def test_a_message_past_a_bound_is_quarantined_once_redacted_and_counted(
    vapi: ModuleType, moto_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    body = deep_transcript("call-q-1", payload.MAX_DEPTH + 5)
    first = post_vapi(vapi, body)
    again = post_vapi(vapi, body)  # the sender retries anyway
    assert first["statusCode"] == again["statusCode"] == 400
    assert "nested deeper" in json.loads(first["body"])["message"]
    records = [i for i in items(moto_table) if i["pk"]["S"].startswith("QRN#")]
    pointers = [i for i in items(moto_table) if i["sk"]["S"].startswith("QRN#")]
    assert len(records) == 1 and len(pointers) == 1  # once per body, however often it is resent
    [record] = records
    assert record["pk"]["S"] == f"QRN#{utc_day(int(time.time() * 1000))}"
    assert record["reason"]["S"] == "bad_request" and record["retention_class"]["S"] == "metadata"
    assert "exp_bucket" in record  # the purge finds it
    kept = gzip.decompress(record["body_gz"]["B"]).decode()
    assert "transcript" in kept and '{"a":' in kept  # the message is kept...
    for value in CANARY.values():
        assert value not in kept  # ...redacted
    assert pointers[0]["pk"]["S"] == "CALL#call-q-1"
    logged = capsys.readouterr().out
    assert '"MessageQuarantined"' in logged
    for value in CANARY.values():
        assert value not in logged


def test_an_unauthenticated_body_is_never_quarantined(vapi: ModuleType, moto_table: Any) -> None:
    body = deep_transcript("call-q-2", payload.MAX_DEPTH + 5)
    headers = {"x-vapi-secret": "wrong", "content-type": "application/json"}
    result = vapi.lambda_handler(http_event("/vapi/webhook", body, headers), FakeContext())
    assert result["statusCode"] == 401
    assert items(moto_table) == []


def test_a_quarantined_message_replays_after_the_fix(
    vapi: ModuleType, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "bug": a bound set too tight. The message is refused and kept...
    monkeypatch.setattr(payload, "MAX_DEPTH", 3)
    body = deep_transcript("call-q-3", 2)
    assert post_vapi(vapi, body)["statusCode"] == 400
    store = DynamoQuarantineStore(moto_table, TABLE)
    day = utc_day(int(time.time() * 1000))
    [record] = store.list_day(day, now=time.time())
    assert record.source == Source.VAPI and record.call_id == "call-q-3"
    # ...the fix ships, and one replay stores it (redacted as kept), then marks it replayed.
    monkeypatch.setattr(payload, "MAX_DEPTH", 64)
    assert vapi.service.replay(record.body.encode()).status == 200
    store.mark_replayed(day, record.record_id, at_ms=1)
    events = DynamoEventStore(moto_table, TABLE).call_events("call-q-3", now=time.time())
    assert [e.event_type for e in events] == ["transcript"]
    assert CANARY["phone"] not in json.dumps(events[0].body)
    assert store.list_day(day, now=time.time())[0].replayed_at_ms == 1
    assert vapi.service.replay(record.body.encode()).status == 200  # a second replay is a duplicate
    assert len(DynamoEventStore(moto_table, TABLE).call_events("call-q-3", now=time.time())) == 1


def test_a_signed_twilio_callback_with_a_bad_field_is_quarantined(
    twilio: ModuleType, moto_table: Any
) -> None:
    sid = new_call_sid()
    pairs = [(k, sid if k == "CallSid" else v) for k, v in fixture_params("status-completed.json")]
    pairs = [(k, v) for k, v in pairs if k != "SequenceNumber"] + [("SequenceNumber", "\u00b2")]
    assert post_twilio(twilio, pairs)["statusCode"] == 400
    [record] = [i for i in items(moto_table) if i["pk"]["S"].startswith("QRN#")]
    assert record["sk"]["S"].startswith("twilio.status#")
    assert record["call_id"]["S"] == f"twilio:{sid}"
    kept = gzip.decompress(record["body_gz"]["B"]).decode()
    assert "+14155550123" not in kept and "4155550123" not in kept  # the caller's number, redacted
    fixed = [(k, "7" if k == "SequenceNumber" else v) for k, v in pairs]
    from urllib.parse import urlencode

    assert twilio.service.replay(urlencode(fixed).encode(), CallbackKind.STATUS).status == 204


def test_a_transient_store_failure_is_a_503_and_not_quarantined(
    vapi: ModuleType, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    events = vapi.service._pipeline.records.events

    def throttled(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")

    monkeypatch.setattr(events._client, "put_item", throttled)
    body = load_fixture("vapi/transcript-final-user.json")
    result = post_vapi(vapi, json.dumps(body).encode())
    assert result["statusCode"] == 503
    monkeypatch.undo()
    assert [i for i in items(moto_table) if "QRN#" in i["pk"]["S"] + i["sk"]["S"]] == []


def test_the_webhook_secret_is_never_kept(vapi: ModuleType, moto_table: Any) -> None:
    body = deep_transcript("call-q-4", payload.MAX_DEPTH + 1)
    post_vapi(vapi, body)
    assert VAPI_SECRET not in json.dumps([str(i) for i in items(moto_table)])


def test_the_cli_lists_shows_and_replays_a_quarantined_message(
    vapi: ModuleType, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from voicetrail_cli.main import app

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, [*args, "--table", TABLE])

    monkeypatch.setattr(payload, "MAX_DEPTH", 3)
    assert post_vapi(vapi, deep_transcript("call-q-5", 2))["statusCode"] == 400
    listed = run("quarantine", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)["records"]
    assert (row["reason"], row["call_id"], row["replayed_at_ms"]) == ("bad_request", "call-q-5", None)
    shown = run("calls", "show", "call-q-5", "--json")
    assert shown.exit_code == 0, shown.output
    assert [q["id"] for q in json.loads(shown.output)["quarantined"]] == [row["id"]]

    still = run("quarantine", "replay", "--all", "--pepper-ref", "env:TEST_PEPPER", "--json")
    assert still.exit_code == 1 and json.loads(still.stdout)["results"][0]["status"] == 400  # not fixed yet
    monkeypatch.setattr(payload, "MAX_DEPTH", 64)
    replayed = run("quarantine", "replay", "--id", row["id"], "--pepper-ref", "env:TEST_PEPPER", "--json")
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["results"] == [{"id": row["id"], "status": 200, "replayed": True}]
    events = DynamoEventStore(moto_table, TABLE).call_events("call-q-5", now=time.time())
    assert [e.event_type for e in events] == ["transcript"]
    assert json.loads(run("quarantine", "list", "--json").output)["records"][0]["replayed_at_ms"]
