"""ElevenLabs `post_call_audio` kept in S3 on request (ElevenLabsKeepAudio), against moto (DynamoDB, S3):
through the real elevenlabs_webhook handler, the audio is written once under `recording/` with a pointer
record in the table (never the audio), and erasing the caller or the purge past the recording retention
deletes the object, with the audit trail saying so. Off (the default) the audio is dropped as before."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.conftest import TABLE, FakeContext, function_env, http_event, load_function
from voicetrail.providers.elevenlabs.signature import sign
from voicetrail_cli.dev import elevenlabs_events

pytestmark = pytest.mark.integration

BUCKET = "voicetrail-large-events-audio-test"
SECRET = "audio-test-secret"
AUDIO_ENV = {
    "ELEVENLABS_WEBHOOK_SECRET_REF": "env:TEST_ELEVENLABS_SECRET",
    "TEST_ELEVENLABS_SECRET": json.dumps({"current": SECRET}),
    "LARGE_EVENTS_BUCKET": BUCKET,
}


@pytest.fixture
def bucket(moto_table: Any) -> Iterator[Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    yield s3


def handler(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    return load_function("elevenlabs_webhook", function_env(**AUDIO_ENV, **env), monkeypatch)


def post(module: ModuleType, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", **sign(body, SECRET, timestamp=int(time.time()))}
    result: dict[str, Any] = module.lambda_handler(
        http_event("/elevenlabs/webhook", body, headers), FakeContext()
    )
    return result


def objects(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def items(client: Any) -> list[dict[str, Any]]:
    return list(client.scan(TableName=TABLE)["Items"])


def a_call(seed: int = 3) -> Any:
    return elevenlabs_events.script(random.Random(seed), start_s=int(time.time()) - 120)


def audio_of(payload: dict[str, Any]) -> bytes:
    return base64.b64decode(payload["data"]["full_audio"])


def test_kept_audio_is_one_s3_object_under_recording_with_a_pointer_record_and_no_audio_in_the_table(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = handler(monkeypatch, ELEVENLABS_KEEP_AUDIO="true")
    call = a_call()
    payload = elevenlabs_events.post_call_audio(call, size=50_000)
    audio = audio_of(payload)
    assert post(module, payload)["statusCode"] == 200
    assert post(module, elevenlabs_events.resend(payload))["statusCode"] == 200  # a resend
    assert post(module, payload)["statusCode"] == 200  # and the very same body again
    [key] = objects(bucket)
    assert key.startswith("recording/") and key.endswith(".mp3")
    for needle in (call.conversation_id, call.identity.phone, call.identity.phone.lstrip("+"), call.agent_id):
        assert needle not in key  # no call id, no number in the key
    stored = bucket.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == audio and stored["ContentType"] == "audio/mpeg"
    assert stored["ServerSideEncryption"] == "aws:kms"
    [pointer] = [i for i in items(moto_table) if i["sk"]["S"] == "REC#elevenlabs#audio"]
    assert pointer["pk"]["S"] == f"CALL#elevenlabs:{call.conversation_id}"
    assert pointer["retention_class"]["S"] == "recording"
    body = json.loads(pointer["body"]["S"])
    assert body["audio"] == {
        "key": key,
        "bytes": len(audio),
        "sha256": hashlib.sha256(audio).hexdigest(),
        "content_type": "audio/mpeg",
    }
    table_text = json.dumps(items(moto_table))
    assert payload["data"]["full_audio"][:200] not in table_text  # the audio is never in the table
    assert not [i for i in items(moto_table) if i["sk"]["S"].startswith("EVT#")]  # no event item either


def test_the_call_view_lists_the_kept_audio(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicetrail.storage.call_view import partition_items
    from voicetrail_cli.ops.call_view import build_call_view

    module = handler(monkeypatch, ELEVENLABS_KEEP_AUDIO="true")
    call = a_call(4)
    payload = elevenlabs_events.post_call_audio(call)
    assert post(module, payload)["statusCode"] == 200
    call_id = f"elevenlabs:{call.conversation_id}"
    view = build_call_view(call_id, partition_items(moto_table, TABLE, f"CALL#{call_id}"))
    [row] = view.recordings
    assert row["provider"] == "elevenlabs" and row["status"] == "kept in S3"
    assert (
        row["bytes"] == len(audio_of(payload))
        and row["sha256"] == hashlib.sha256(audio_of(payload)).hexdigest()
    )


def test_by_default_the_audio_is_dropped(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = handler(monkeypatch)
    assert module.settings.keep_audio is False
    assert post(module, elevenlabs_events.post_call_audio(a_call()))["statusCode"] == 200
    assert objects(bucket) == [] and items(moto_table) == []


@pytest.mark.parametrize(
    ("full_audio", "status"),
    [("not base64 at all!", 400), ("QUJ", 400), ("", 200)],
    ids=["not-base64", "bad-padding", "empty"],
)
def test_broken_audio_is_a_400_and_empty_audio_is_dropped(
    moto_table: Any,
    bucket: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    full_audio: str,
    status: int,
) -> None:
    module = handler(monkeypatch, ELEVENLABS_KEEP_AUDIO="true")
    payload = elevenlabs_events.post_call_audio(a_call())
    payload["data"]["full_audio"] = full_audio
    capsys.readouterr()
    response = post(module, payload)
    assert response["statusCode"] == status
    assert full_audio not in response["body"] or not full_audio
    assert objects(bucket) == [] and items(moto_table) == []
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
    ]
    rejected = [m for m in emitted if "RequestRejected" in m]
    dropped = [m for m in emitted if "EventDropped" in m]
    if status == 400:  # counted per source for the dashboard's 4xx series
        assert [(m["source"], m["reason"]) for m in rejected] == [("elevenlabs", "bad_request")]
    else:
        assert rejected == [] and [m["reason"] for m in dropped] == ["audio"]


def test_audio_over_the_bound_is_answered_200_and_not_kept(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = handler(monkeypatch, ELEVENLABS_KEEP_AUDIO="true", ELEVENLABS_MAX_AUDIO_BYTES="2048")
    assert post(module, elevenlabs_events.post_call_audio(a_call(), size=4096))["statusCode"] == 200
    assert objects(bucket) == [] and items(moto_table) == []


def test_a_store_failure_is_a_503_and_the_retry_keeps_it(
    moto_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = handler(monkeypatch, ELEVENLABS_KEEP_AUDIO="true")  # the bucket does not exist yet
    payload = elevenlabs_events.post_call_audio(a_call())
    response = post(module, payload)
    assert response["statusCode"] == 503
    assert payload["data"]["full_audio"][:40] not in response["body"]
    assert items(moto_table) == []  # no pointer without its object
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    assert post(module, payload)["statusCode"] == 200
    assert len(objects(s3)) == 1


def test_keeping_audio_without_the_bucket_fails_the_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicetrail.errors import ConfigurationError
    from voicetrail.settings import ElevenLabsWebhookSettings

    env = function_env(**AUDIO_ENV, ELEVENLABS_KEEP_AUDIO="true")
    del env["LARGE_EVENTS_BUCKET"]
    with pytest.raises(ConfigurationError, match="ELEVENLABS_KEEP_AUDIO"):
        ElevenLabsWebhookSettings.from_env(env)


def _store_call_with_audio(monkeypatch: pytest.MonkeyPatch, seed: int) -> tuple[Any, str]:
    """A phone call's transcription (it carries the caller) and its audio, through the real handler."""
    module = handler(monkeypatch, ELEVENLABS_KEEP_AUDIO="true")
    call = a_call(seed)
    assert post(module, elevenlabs_events.post_call_transcription(call))["statusCode"] == 200
    assert post(module, elevenlabs_events.post_call_audio(call))["statusCode"] == 200
    return call, f"elevenlabs:{call.conversation_id}"


def test_erasing_the_caller_deletes_the_audio_object_and_the_audit_trail_says_so(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicetrail.storage.audit import DynamoAuditStore

    call, call_id = _store_call_with_audio(monkeypatch, 5)
    assert len(objects(bucket)) == 1
    operator = load_function("operator_api", function_env(LARGE_EVENTS_BUCKET=BUCKET), monkeypatch)
    body = json.dumps({"phone": call.identity.phone}).encode()
    response = operator.lambda_handler(
        http_event("/operator/erase", body, {"content-type": "application/json"}), FakeContext()
    )
    assert response["statusCode"] == 200, response["body"]
    result = json.loads(response["body"])
    assert result["calls_erased"] == 1 and result["audio_objects_deleted"] == 1
    assert objects(bucket) == []  # the audio is gone
    left = [i for i in items(moto_table) if i["pk"]["S"] == f"CALL#{call_id}"]
    assert [i["sk"]["S"] for i in left if not i["sk"]["S"].startswith("AUDIT#")] == []
    audit = DynamoAuditStore(moto_table, TABLE)
    [receipt] = [r for r in audit.chain("SYS#erasure") if r.kind == "erasure"]
    assert receipt.details["audio_objects_deleted"] == 1
    [record] = [r for r in audit.chain(f"CALL#{call_id}") if r.kind == "erasure"]
    assert record.details["audio_objects_deleted"] == 1 and record.details["deleted_recording"] >= 1


def test_the_purge_past_the_recording_retention_deletes_the_audio_object_and_audits_it(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.metrics import MemoryRecorder
    from voicetrail.domain.audit.trail import AuditTrail
    from voicetrail.domain.retention.classes import DAY, RetentionPolicy
    from voicetrail.storage.audit import DynamoAuditStore
    from voicetrail.storage.large_bodies import S3BodyStore
    from voicetrail.wiring.deletion import dynamo_purger

    _, call_id = _store_call_with_audio(monkeypatch, 6)
    [key] = objects(bucket)
    policy = RetentionPolicy()

    def purge_at(at: float) -> Any:
        return dynamo_purger(
            moto_table,
            TABLE,
            large_bodies=S3BodyStore(bucket, BUCKET),
            metrics=MemoryRecorder(),
            audit=AuditTrail(DynamoAuditStore(moto_table, TABLE), sleep=lambda _: None),
            clock=lambda: at,
            sleep=lambda _: None,
        ).run(from_days=500)

    before = purge_at(time.time() + (policy.recording_days - 1) * DAY)
    assert before.audio_deleted == 0 and objects(bucket) == [key]  # not yet due
    after = purge_at(time.time() + (policy.recording_days + 1) * DAY)
    assert after.audio_deleted == 1
    assert objects(bucket) == []  # the audio is gone with its pointer
    assert not [i for i in items(moto_table) if i["sk"]["S"] == "REC#elevenlabs#audio"]
    audit = DynamoAuditStore(moto_table, TABLE)
    purges = [r for r in audit.chain("SYS#purge") if r.kind == "purge"]
    assert purges[-1].details["audio_objects_deleted"] == 1
    assert "audio_objects_deleted" not in purges[0].details
    assert call_id  # the call's other items follow their own classes


def test_when_the_object_cannot_be_deleted_the_pointer_stays_for_the_next_run(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicetrail.domain.items import ItemKey
    from voicetrail.errors import StoreUnavailableError
    from voicetrail.storage.audio import HeldObjectsDeleter
    from voicetrail.storage.batch import BatchDeleter
    from voicetrail.storage.large_bodies import S3BodyStore

    class Down(S3BodyStore):
        def delete(self, keys: list[str]) -> None:
            raise StoreUnavailableError("s3 delete_objects failed: ServiceUnavailable")

    _, call_id = _store_call_with_audio(monkeypatch, 7)
    keys = [ItemKey(f"CALL#{call_id}", "REC#elevenlabs#audio"), ItemKey(f"CALL#{call_id}", "NAMES")]
    outcome = HeldObjectsDeleter(BatchDeleter(moto_table, TABLE), Down(bucket, BUCKET)).delete(keys)
    assert outcome.failed == [keys[0]] and outcome.deleted == [keys[1]]
    assert len(objects(bucket)) == 1
    assert [i for i in items(moto_table) if i["sk"]["S"] == "REC#elevenlabs#audio"]
    outcome = HeldObjectsDeleter(BatchDeleter(moto_table, TABLE), S3BodyStore(bucket, BUCKET)).delete(
        keys[:1]
    )
    assert outcome.deleted == [keys[0]] and objects(bucket) == []


def test_the_purge_function_deletes_kept_audio_when_the_bucket_is_configured(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicetrail.storage.audio import HeldObjectsDeleter

    with_bucket = load_function("retention_purge", function_env(LARGE_EVENTS_BUCKET=BUCKET), monkeypatch)
    assert isinstance(with_bucket.purger._deleter, HeldObjectsDeleter)
    monkeypatch.delenv("LARGE_EVENTS_BUCKET")
    without = load_function("retention_purge", function_env(), monkeypatch)
    assert not isinstance(without.purger._deleter, HeldObjectsDeleter)


def test_audio_is_not_kept_when_the_agents_observer_policy_keeps_no_caller_content(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicetrail.storage.live import TableConfigSource

    call = a_call(8)
    TableConfigSource(moto_table, TABLE).store(
        f"CONFIG#assistant#{call.agent_id}", json.dumps({"observer_policy": "withhold"})
    )
    module = handler(monkeypatch, ELEVENLABS_KEEP_AUDIO="true")
    assert post(module, elevenlabs_events.post_call_audio(call))["statusCode"] == 200
    assert objects(bucket) == []
    assert not [i for i in items(moto_table) if i["pk"]["S"].startswith("CALL#")]


def test_erasing_from_the_cli_deletes_the_audio_object_too(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`voicetrail erase` run from an operator's machine (no operator route): the same receipt, the kept
    audio gone from the bucket, not left to the lifecycle rule."""
    from typer.testing import CliRunner

    from tests.conftest import PEPPER
    from voicetrail_cli.main import app

    call, call_id = _store_call_with_audio(monkeypatch, 8)
    assert len(objects(bucket)) == 1
    monkeypatch.setenv("CLI_TEST_PEPPER", PEPPER)
    for var in ("RETELL_DELETION_KEY_REF", "ELEVENLABS_API_KEY_REF", "VAPI_API_KEY_REF"):
        monkeypatch.delenv(var, raising=False)
    args = ["erase", "--phone", call.identity.phone, "--table", TABLE, "--pepper-ref", "env:CLI_TEST_PEPPER"]
    result = CliRunner().invoke(app, [*args, "--large-events-bucket", BUCKET, "--json"])
    assert result.exit_code in (0, 3), result.output
    receipt = json.loads(result.output)
    assert receipt["calls_erased"] == 1 and receipt["audio_objects_deleted"] == 1
    assert objects(bucket) == []
    assert not [i for i in items(moto_table) if i["pk"]["S"] == f"CALL#{call_id}" and "REC#" in i["sk"]["S"]]


def test_the_cli_purge_deletes_kept_audio_with_its_pointer(
    moto_table: Any, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`voicetrail purge` builds the same purger as the scheduled function: the bucket and the platform
    deleters go in (its clock is the real one, so the deletion itself is proven by the purge test above)."""
    from typer.testing import CliRunner

    import voicetrail.wiring.deletion as deletion
    from voicetrail_cli.main import app

    seen: dict[str, Any] = {}
    real = deletion.dynamo_purger

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(deletion, "dynamo_purger", spy)
    monkeypatch.setenv("RETELL_DELETION_KEY_REF", "env:CLI_RETELL_KEY")
    monkeypatch.setenv("CLI_RETELL_KEY", "retell-key")
    monkeypatch.delenv("ELEVENLABS_API_KEY_REF", raising=False)
    result = CliRunner().invoke(app, ["purge", "--table", TABLE, "--large-events-bucket", BUCKET, "--json"])
    assert result.exit_code == 0, result.output
    assert seen["large_bodies"] is not None
    assert set(seen["platforms"]) == {"retell"}  # ElevenLabs has no key here: skipped, never pending
