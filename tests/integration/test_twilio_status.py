"""functions/twilio_status end to end in-process: API Gateway v2 events -> handler -> moto DynamoDB."""

from __future__ import annotations

import json
import random
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import PEPPER, TABLE, TWILIO_TOKEN, FakeContext, function_env, http_event, load_function
from tests.twilio_support import (
    CALLER,
    call_lifecycle,
    new_call_sid,
    new_recording_sid,
    recording_params,
    signed_form,
    status_params,
)
from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.calls.ports import StoredEvent
from voicetrail.domain.calls.state import merge_vapi_event, twilio_call_key
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.storage.dynamo import DynamoEventStore
from voicetrail.storage.ledger import DynamoCallLedger

pytestmark = pytest.mark.integration
BASE = "https://hooks.example.com"


@pytest.fixture
def fn(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    return load_function("twilio_status", function_env(), monkeypatch)


def post(
    fn: ModuleType,
    pairs: list[tuple[str, str]],
    *,
    path: str = "/twilio/status",
    signed_url: str | None = None,
    token: str = TWILIO_TOKEN,
    base64_body: bool = True,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    url = signed_url or f"{BASE}{path}" + (f"?{query}" if query else "")
    body, signed_headers = signed_form(url, pairs, token)
    event = http_event(
        path, body, {**signed_headers, **(headers or {})}, base64_body=base64_body, query=query
    )
    result: dict[str, Any] = fn.lambda_handler(event, FakeContext())
    return result


def ledger(client: Any) -> DynamoCallLedger:
    return DynamoCallLedger(client, TABLE, RetentionPolicy())


def test_call_lifecycle_folds_into_one_summary(fn: ModuleType, moto_table: Any) -> None:
    sid = new_call_sid()
    start = 1_764_079_000.0
    for _, pairs in call_lifecycle(sid, start=start, duration=77):
        assert post(fn, pairs)["statusCode"] == 204
    summary = ledger(moto_table).get_summary(twilio_call_key(sid), now=start)
    assert summary is not None
    assert (summary.status, summary.final_status, summary.answered, summary.duration_s) == (
        "completed",
        "completed",
        True,
        77,
    )
    assert summary.first_ts_ms == int(start * 1000)
    item = moto_table.get_item(
        TableName=TABLE, Key={"pk": {"S": f"CALL#twilio:{sid}"}, "sk": {"S": "SUMMARY"}}
    )["Item"]
    assert item["retention_class"]["S"] == "metadata"
    assert item["exp_bucket"]["S"].startswith("EXP#")
    assert CALLER not in json.dumps(item)
    assert item["from_hash"]["S"] == CallerHasher(PEPPER).hash(CALLER)
    # the day index points at the call
    day = moto_table.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "CALLS#2025-11-25"}},
    )["Items"]
    assert [i["sk"]["S"] for i in day] == [f"twilio:{sid}"]


def test_shuffled_duplicated_callbacks(
    fn: ModuleType, moto_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = new_call_sid()
    steps = [pairs for _, pairs in call_lifecycle(sid, start=1_764_079_000.0, duration=33)]
    deliveries = steps + steps[:2] + [steps[3]]
    random.Random(7).shuffle(deliveries)
    capsys.readouterr()
    for pairs in deliveries:
        assert post(fn, pairs)["statusCode"] == 204
    summary = ledger(moto_table).get_summary(twilio_call_key(sid), now=1_764_079_000.0)
    assert summary is not None and summary.status == "completed" and summary.duration_s == 33
    events = DynamoEventStore(moto_table, TABLE).call_events(twilio_call_key(sid), now=1_764_079_000.0)
    assert sorted(e.event_key for e in events) == [f"status#{n:06d}" for n in range(4)]
    metrics = emitted_metrics(capsys.readouterr().out)
    for name in ("CallsStarted", "CallsAnswered", "CallsCompleted"):
        assert metrics.get(name) == 1, (name, metrics)
    assert metrics["CallDuration"] == 33
    assert metrics["EventDuplicate"] == 3


def emitted_metrics(stdout: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert "environment" in directive["Dimensions"][0]
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    values if isinstance(values, list) else [values]
                )
        assert CALLER not in line and "+1415" not in line
    return totals


def test_plain_text_body_also_validates(fn: ModuleType) -> None:
    # A proxy that does not base64-encode the form still delivers the same bytes.
    assert (
        post(fn, status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0), base64_body=False)[
            "statusCode"
        ]
        == 204
    )


def test_query_string_is_part_of_the_signed_url(fn: ModuleType) -> None:
    pairs = status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0)
    assert post(fn, pairs, query="tenant=acme&x=")["statusCode"] == 204
    body, headers = signed_form(f"{BASE}/twilio/status", pairs, TWILIO_TOKEN)
    event = http_event("/twilio/status", body, headers, base64_body=True, query="tenant=acme")
    assert fn.lambda_handler(event, FakeContext())["statusCode"] == 401


def test_rejections_never_500(fn: ModuleType, moto_table: Any) -> None:
    rng = random.Random(3)
    for n in range(40):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if n % 2:
            headers["x-twilio-signature"] = "bm90IGEgc2lnbmF0dXJl"
        event = http_event("/twilio/status", body, headers, base64_body=True)
        status = fn.lambda_handler(event, FakeContext())["statusCode"]
        assert status in (400, 401), status
    bad_b64 = http_event("/twilio/status", b"x", {"x-twilio-signature": "x"}, base64_body=False)
    bad_b64["isBase64Encoded"] = True
    bad_b64["body"] = "%%%not base64"
    assert fn.lambda_handler(bad_b64, FakeContext())["statusCode"] == 400
    missing = post(
        fn,
        status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0),
        headers={"x-twilio-signature": ""},
    )
    assert missing["statusCode"] == 401
    assert json.loads(missing["body"]) == {
        "error": "unauthorized",
        "message": "missing or invalid credentials",
    }
    assert moto_table.scan(TableName=TABLE)["Count"] == 0


def test_signed_malformed_is_400(fn: ModuleType) -> None:
    result = post(fn, [("CallSid", "CA" + "0" * 32), ("CallStatus", "ringing"), ("SequenceNumber", "x")])
    assert result["statusCode"] == 400
    assert "SequenceNumber" not in result["body"]  # fixed public message, no field echo


def test_store_outage_is_503_not_500(fn: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    def boom(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")

    monkeypatch.setattr(fn.service._ledger._client, "update_item", boom)
    result = post(fn, status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0))
    assert result["statusCode"] == 503
    assert result["headers"]["Retry-After"] == "1"


def test_retry_after_partial_failure_completes_state(
    fn: ModuleType, moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # First delivery stores the event, then the ledger write fails (503); Twilio's retry is a
    # duplicate event but must still fold the state.
    sid = new_call_sid()
    pairs = status_params(sid, "completed", 3, ts=1_764_079_000.0, duration=12)
    original = fn.service._ledger._client.update_item
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "InternalServerError"}}, "UpdateItem")
        return original(**kwargs)

    monkeypatch.setattr(fn.service._ledger._client, "update_item", flaky)
    assert post(fn, pairs)["statusCode"] == 503
    assert post(fn, pairs)["statusCode"] == 204
    summary = ledger(moto_table).get_summary(twilio_call_key(sid), now=1_764_079_000.0)
    assert summary is not None and summary.final_status == "completed" and summary.duration_s == 12


def test_non_default_stage_and_custom_domain(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    env = function_env(
        TWILIO_WEBHOOK_BASE_URL="https://abc123.execute-api.us-east-1.amazonaws.com/prod#rc=3&rp=5xx"
    )
    fn = load_function("twilio_status", env, monkeypatch)
    pairs = status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0)
    url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/twilio/status"
    body, headers = signed_form(url, pairs, TWILIO_TOKEN)
    event = http_event("/prod/twilio/status", body, headers, base64_body=True)
    event["requestContext"]["stage"] = "prod"
    assert fn.lambda_handler(event, FakeContext())["statusCode"] == 204

    env = function_env(TWILIO_WEBHOOK_BASE_URL="https://hooks.example.com/voice")
    fn = load_function("twilio_status", env, monkeypatch)
    url = "https://hooks.example.com/voice/twilio/recording"
    rec = recording_params(new_call_sid(), new_recording_sid(), "completed", ts=1_764_079_000.0, duration=3)
    for raw_path in ("/twilio/recording", "/voice/twilio/recording"):
        body, headers = signed_form(url, rec, TWILIO_TOKEN)
        event = http_event(raw_path, body, headers, base64_body=True)
        assert fn.lambda_handler(event, FakeContext())["statusCode"] == 204, raw_path


@pytest.mark.parametrize(
    ("stage", "raw_path", "signed_url", "expected"),
    [
        # The template's default: no TwilioWebhookBaseUrl, the execute-api URL of the $default stage.
        (
            "$default",
            "/twilio/status",
            "https://abc123.execute-api.us-east-1.amazonaws.com/twilio/status",
            204,
        ),
        # A named stage: HTTP APIs put it in rawPath, and the signed URL holds it once.
        (
            "prod",
            "/prod/twilio/status",
            "https://abc123.execute-api.us-east-1.amazonaws.com/prod/twilio/status",
            204,
        ),
        # Signed for another host (a request replayed against this API): rejected.
        ("$default", "/twilio/status", "https://evil.example.com/twilio/status", 401),
        # Signed without the stage the request really went through: rejected.
        (
            "prod",
            "/prod/twilio/status",
            "https://abc123.execute-api.us-east-1.amazonaws.com/twilio/status",
            401,
        ),
    ],
)
def test_url_from_the_request_when_no_base_url_is_set(
    moto_table: Any,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    raw_path: str,
    signed_url: str,
    expected: int,
) -> None:
    fn = load_function("twilio_status", function_env(TWILIO_WEBHOOK_BASE_URL=""), monkeypatch)
    assert fn.settings.public_base_url is None
    pairs = status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0)
    body, headers = signed_form(signed_url, pairs, TWILIO_TOKEN)
    event = http_event(raw_path, body, headers, base64_body=True)
    event["requestContext"].update(stage=stage, domainName="abc123.execute-api.us-east-1.amazonaws.com")
    assert fn.lambda_handler(event, FakeContext())["statusCode"] == expected


def test_no_base_url_and_no_domain_is_a_400(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fn = load_function("twilio_status", function_env(TWILIO_WEBHOOK_BASE_URL=""), monkeypatch)
    pairs = status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0)
    body, headers = signed_form("https://abc123.example.com/twilio/status", pairs, TWILIO_TOKEN)
    assert (
        fn.lambda_handler(http_event("/twilio/status", body, headers, base64_body=True), FakeContext())[
            "statusCode"
        ]
        == 400
    )


def test_token_rotation_from_secret_json(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    env = function_env(TEST_TWILIO_TOKEN=json.dumps({"primary": "new-token", "previous": "old-token"}))
    fn = load_function("twilio_status", env, monkeypatch)
    for token in ("new-token", "old-token"):
        assert (
            post(fn, status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0), token=token)[
                "statusCode"
            ]
            == 204
        )
    assert (
        post(fn, status_params(new_call_sid(), "ringing", 1, ts=1_764_079_000.0), token="gone")["statusCode"]
        == 401
    )


def test_recording_index_item(fn: ModuleType, moto_table: Any) -> None:
    sid, rsid = new_call_sid(), new_recording_sid()
    for status, duration in (
        ("in-progress", None),
        ("completed", 187),
        ("completed", 187),
        ("in-progress", None),
    ):
        pairs = recording_params(sid, rsid, status, ts=1_764_079_000.0, duration=duration)
        assert post(fn, pairs, path="/twilio/recording")["statusCode"] == 204
    (rec,) = ledger(moto_table).recordings(sid, now=1_764_079_000.0)
    assert rec == {
        "recording_sid": rsid,
        "call_sid": sid,
        "status": "completed",
        "duration_s": 187.0,
        "channels": 2.0,
        "retention_class": "recording",
        "expires_at": rec["expires_at"],
    }
    item = moto_table.get_item(
        TableName=TABLE, Key={"pk": {"S": f"CALL#twilio:{sid}"}, "sk": {"S": f"REC#{rsid}"}}
    )["Item"]
    from voicetrail.storage.table import expiry_bucket

    # The day of its expiry, in the call's shard (docs/operations/scaling.md).
    assert item["exp_bucket"]["S"] == expiry_bucket(int(item["expires_at"]["N"]), f"CALL#twilio:{sid}")
    assert item["exp_bucket"]["S"].startswith(
        "EXP#"
        + __import__("time").strftime("%Y-%m-%d", __import__("time").gmtime(int(item["expires_at"]["N"])))
    )
    # expiry is fixed at first sight, not pushed back by later callbacks
    assert item["exp_sk"]["S"].startswith(f"{int(item['expires_at']['N']):012d}#CALL#twilio:{sid}#REC#{rsid}")
    summary = ledger(moto_table).get_summary(twilio_call_key(sid), now=1_764_079_000.0)
    assert summary is not None and summary.recordings == (rsid,)


def test_join_with_the_vapi_call(fn: ModuleType, moto_table: Any) -> None:
    sid = new_call_sid()
    vapi_id = "0b9f2f4e-3c1d-4d5e-8f7a-1b2c3d4e5f60"
    book = ledger(moto_table)
    now = 1_764_079_000.0

    def vapi_event(event_type: str, key: str, **attrs: Any) -> StoredEvent:
        return StoredEvent(
            call_id=vapi_id,
            event_key=key,
            source="vapi",
            event_type=event_type,
            retention_class=RetentionClass.METADATA,
            expires_at=int(now) + 86_400,
            received_at_ms=int(now * 1000),
            body={},
            event_ts_ms=int((now - 150) * 1000),
            attributes={"provider_call_id": sid, **attrs},
        )

    # Vapi's first message arrives before any Twilio callback ...
    merge_vapi_event(book, vapi_event("status-update", "status#ringing", status="ringing"), now=now)
    for _, pairs in call_lifecycle(sid, start=now - 160, duration=150):
        post(fn, pairs)
    # ... and the end-of-call-report after all of them.
    merge_vapi_event(
        book,
        vapi_event(
            "end-of-call-report",
            "eocr",
            ended_reason="assistant-forwarded-call",
            cost_usd=0.1394,
            duration_s=149.5,
        ),
        now=now,
    )
    merge_vapi_event(book, vapi_event("transcript", "t1"), now=now)  # ignored: no write
    summary = book.get_summary(twilio_call_key(sid), now=now)
    assert summary is not None
    assert summary.vapi_call_id == vapi_id and summary.twilio_call_sid == sid
    assert (summary.status, summary.duration_s, summary.cost_usd, summary.escalated) == (
        "completed",
        150,
        0.1394,
        True,
    )
    assert summary.vapi_ended
    assert summary.first_ts_ms == int((now - 160) * 1000)
    assert [s.call_key for s in book.summaries_for_days(summary.days, now=now)] == [twilio_call_key(sid)]
