"""Erasure on request: every call of one caller goes (here, at Twilio and at Vapi), the audit trail keeps
a receipt, other callers are untouched, a repeat is a no-op, a provider failure leaves it resumable."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import PEPPER, TABLE, FakeContext, function_env, http_event, load_function
from tests.fakes.seed import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    VAPI_KEY,
    all_keys,
    call_sid,
    event_item,
    put_all,
    recording_item,
    recording_sid,
    summary_item,
)
from tests.fakes.servers import FakeTwilio, FakeVapi
from tests.support.metrics import MemoryRecorder
from voicetrail.domain.audit.trail import AuditKind, AuditReader, AuditTrail, system_pk
from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.erasure.deleters import TwilioRecordingDeleter, VapiCallDeleter
from voicetrail.domain.erasure.eraser import ErasureService
from voicetrail.domain.erasure.followups import FollowUpRunner
from voicetrail.domain.erasure.providers import ProviderRegistry, standard_providers
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.errors import InvalidCallerIdError, PepperMismatchError
from voicetrail.infra.secrets import SecretRef, SecretResolver
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.erasure import DynamoCallerItems
from voicetrail.storage.erasure_tasks import DynamoErasureTasks
from voicetrail.storage.pepper import DynamoPepperFingerprints
from voicetrail_cli.main import app

pytestmark = pytest.mark.integration

PHONE_A, PHONE_B = "+14155550123", "+14155550199"
LATER = 4_000_000_000


def _resolver(value: str) -> SecretResolver:
    return SecretResolver(SecretRef("env", "X"), fetch=lambda ref, age, /, *, force=False: value)


def seed(client: Any) -> set[tuple[str, str]]:
    hasher = CallerHasher(PEPPER)
    a, b = hasher.hash(PHONE_A), hasher.hash(PHONE_B)
    items = [
        event_item("vapi-a1", "t1", RetentionClass.CONTENT, LATER, caller_hash=a),
        event_item("vapi-a1", "s1", RetentionClass.METADATA, LATER, caller_hash=a),
        event_item("vapi-a2", "t1", RetentionClass.CONTENT, LATER, caller_hash=hasher.hash("(415) 555-0123")),
        event_item(f"twilio:{call_sid(1)}", "status#000001", RetentionClass.METADATA, LATER, caller_hash=a),
        recording_item(call_sid(1), recording_sid(1), LATER),
        summary_item(call_sid(1), "vapi-a1", LATER),
        {  # a returning caller's remembered consent (live store), found through the CallerIndex
            "pk": {"S": f"CALLER#{a}"},
            "sk": {"S": "CONSENT"},
            "caller_hash": {"S": a},
            "retention_class": {"S": "audit"},
            "expires_at": {"N": str(LATER)},
        },
        event_item("vapi-b1", "t1", RetentionClass.CONTENT, LATER, caller_hash=b),
        recording_item(call_sid(2), recording_sid(2), LATER),
        event_item(f"twilio:{call_sid(2)}", "status#000001", RetentionClass.METADATA, LATER, caller_hash=b),
    ]
    put_all(client, TABLE, items)
    DynamoPepperFingerprints(client, TABLE).record(hasher.fingerprint())  # as the webhooks do
    AuditTrail(DynamoAuditStore(client, TABLE)).append(
        "vapi-a1", AuditKind.CONSENT_GIVEN, {"source": "disclosure"}, 1.7e9
    )
    return {(i["pk"]["S"], i["sk"]["S"]) for i in items}


@pytest.fixture
def providers() -> Iterator[tuple[FakeTwilio, FakeVapi]]:
    twilio, vapi = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN), FakeVapi(VAPI_KEY)
    twilio.existing |= {recording_sid(1), recording_sid(2)}
    vapi.existing |= {"vapi-a1", "vapi-a2", "vapi-b1"}
    with twilio.running(), vapi.running():
        yield twilio, vapi


def fake_providers(twilio: FakeTwilio, vapi: FakeVapi) -> ProviderRegistry:
    return standard_providers(
        TwilioRecordingDeleter(ACCOUNT_SID, _resolver(AUTH_TOKEN), base_url=twilio.base_url),
        VapiCallDeleter(_resolver(VAPI_KEY), base_url=vapi.base_url),
    )


def service(client: Any, twilio: FakeTwilio, vapi: FakeVapi) -> ErasureService:
    return ErasureService(
        DynamoCallerItems(client, TABLE),
        pepper=_resolver(PEPPER),
        fingerprints=DynamoPepperFingerprints(client, TABLE),
        providers=fake_providers(twilio, vapi),
        tasks=DynamoErasureTasks(client, TABLE),
        audit=AuditTrail(DynamoAuditStore(client, TABLE), sleep=lambda _: None),
    )


def followups(client: Any, twilio: FakeTwilio, vapi: FakeVapi, clock: float) -> FollowUpRunner:
    """What the scheduled purge function runs after each purge."""
    audit = AuditTrail(DynamoAuditStore(client, TABLE), sleep=lambda _: None)
    return FollowUpRunner(
        DynamoErasureTasks(client, TABLE), fake_providers(twilio, vapi), audit=audit, clock=lambda: clock
    )


def caller_b_keys(seeded: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {k for k in seeded if "vapi-b1" in k[0] or call_sid(2) in k[0]}


def test_erasure_removes_every_call_of_the_caller_and_keeps_a_receipt(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    seeded = seed(moto_table)

    result = service(moto_table, twilio, vapi).erase(PHONE_A).as_dict()

    assert result["complete"] and result["calls_found"] == 3 and result["calls_erased"] == 3
    assert result["items_deleted"] == {"content": 2, "metadata": 3, "recording": 1, "caller": 1}
    assert result["twilio_recordings_deleted"] == 1 and result["vapi_calls_deleted"] == 2
    assert twilio.existing == {recording_sid(2)} and vapi.existing == {"vapi-b1"}
    left = all_keys(moto_table, TABLE)
    assert seeded & left == caller_b_keys(seeded)  # caller B untouched, nothing of A's data left
    # The audit trail keeps its content-free records, one erasure record per call, and one receipt.
    reader = AuditReader(DynamoAuditStore(moto_table, TABLE))
    assert [r.kind for r in reader.call_records("vapi-a1")] == ["consent_given", "erasure"]
    assert reader.verify(["CALL#vapi-a1"], now=1.8e9).ok
    (receipt,) = reader.chain_records(system_pk("erasure"))
    assert receipt.details["request_id"] == result["request_id"] and receipt.details["items_deleted"] == 7
    dump = json.dumps([r.as_dict() for r in reader.chain_records(system_pk("erasure"))])
    assert PHONE_A not in dump and CallerHasher(PEPPER).hash(PHONE_A) not in dump

    again = service(moto_table, twilio, vapi).erase(PHONE_A).as_dict()
    assert again["complete"] and again["calls_found"] == 0 and again["items_deleted_total"] == 0


def test_a_vapi_outage_erases_our_copy_at_once_and_the_purge_finishes_at_vapi(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    seeded = seed(moto_table)
    vapi.fail["vapi-a1"] = [503, 503]

    first = service(moto_table, twilio, vapi).erase(PHONE_A).as_dict()

    # Our copy is gone at once: every call of the caller, the consent decision, whatever Vapi answers.
    assert first["erased_here"] and first["calls_erased"] == 3 and not first["complete"]
    left = all_keys(moto_table, TABLE)
    assert seeded & left == caller_b_keys(seeded)
    assert first["pending"] == [
        {
            "call_id": f"twilio:{call_sid(1)}",  # the first call that points at it (its Twilio leg)
            "provider": "vapi",
            "target": "vapi-a1",
            "status": "pending",
            "reason": "retry",
            "due_at": first["due_at"],
        }
    ]
    assert first["twilio_recordings_deleted"] == 1 and first["vapi_calls_deleted"] == 1  # vapi-a2 went
    assert first["pending_calls"] == 1 and "vapi-a1" in vapi.existing
    (task,) = DynamoErasureTasks(moto_table, TABLE).pending(10)
    assert (task.provider, task.target, task.attempts, task.last_outcome) == ("vapi", "vapi-a1", 1, "retry")

    # The scheduled purge retries: Vapi fails once more, then answers; the task is closed.
    runner = followups(moto_table, twilio, vapi, clock=time.time() + 3600)  # the next hourly run
    assert runner.run().as_dict() == {
        "seen": 1,
        "deleted": 0,
        "skipped": 0,
        "pending": 1,
        "overdue": 0,
        "stopped_early": False,
    }
    assert runner.run().deleted == 1 and "vapi-a1" not in vapi.existing
    assert DynamoErasureTasks(moto_table, TABLE).pending(10) == []
    assert runner.run().seen == 0
    kinds = [
        r.details.get("followups_deleted")
        for r in AuditReader(DynamoAuditStore(moto_table, TABLE)).chain_records(system_pk("erasure"))
    ]
    assert kinds == [None, 1]  # the request's receipt, then the run that finished the follow-up


def test_a_follow_up_past_its_deadline_is_counted_for_the_alarm(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    seed(moto_table)
    vapi.fail["vapi-a1"] = [503] * 5
    eraser = service(moto_table, twilio, vapi)
    eraser._clock = lambda: 1.9e9
    result = eraser.erase(PHONE_A, deadline_days=3).as_dict()
    assert result["due_at"] == "2030-03-20T17:46:40Z" and result["deadline_days"] == 3

    metrics = MemoryRecorder()
    audit = AuditTrail(DynamoAuditStore(moto_table, TABLE), sleep=lambda _: None)
    tasks = DynamoErasureTasks(moto_table, TABLE)
    on_time = FollowUpRunner(
        tasks, fake_providers(twilio, vapi), audit=audit, metrics=metrics, clock=lambda: 1.9e9 + 2 * 86_400
    )
    assert on_time.run().overdue == 0
    late = FollowUpRunner(
        tasks, fake_providers(twilio, vapi), audit=audit, metrics=metrics, clock=lambda: 1.9e9 + 3 * 86_400
    )
    assert late.run().overdue == 1
    assert metrics.total("ErasureFollowUpOverdue") == 1


def test_a_provider_no_longer_configured_closes_its_task_as_skipped(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    seed(moto_table)
    vapi.fail["vapi-a1"] = [503]
    service(moto_table, twilio, vapi).erase(PHONE_A)
    unconfigured = standard_providers(TwilioRecordingDeleter(None, None), VapiCallDeleter(None))
    tasks = DynamoErasureTasks(moto_table, TABLE)
    report = FollowUpRunner(tasks, unconfigured).run()
    assert (report.skipped, report.pending) == (1, 0) and tasks.pending(10) == []


def test_operator_route_erases_and_reports_counts(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi], monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio, vapi = providers
    seed(moto_table)
    env = function_env(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TEST_TWILIO_TOKEN=AUTH_TOKEN,
        VAPI_API_KEY_REF="env:TEST_VAPI_KEY",
        TEST_VAPI_KEY=VAPI_KEY,
        TWILIO_API_BASE_URL=twilio.base_url,
        VAPI_API_BASE_URL=vapi.base_url,
    )
    module = load_function("operator_api", env, monkeypatch)
    body = json.dumps({"phone": PHONE_A}).encode()
    response = module.lambda_handler(
        http_event("/operator/erase", body, {"content-type": "application/json"}), FakeContext()
    )
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["calls_erased"] == 3
    bad = module.lambda_handler(http_event("/operator/erase", b"{}", {}), FakeContext())
    assert bad["statusCode"] == 400 and PHONE_A not in bad["body"]


def test_cli_erase_against_the_table(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed(moto_table)
    monkeypatch.setenv("CLI_PEPPER", PEPPER)
    result = CliRunner().invoke(
        app, ["erase", "--phone", PHONE_B, "--table", TABLE, "--pepper-ref", "env:CLI_PEPPER", "--json"]
    )
    # No provider credentials given: our copy is erased, both providers are reported skipped.
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["complete"] and output["erased_here"] and output["pending"] == []
    assert {(p["provider"], p["target"], p["status"], p["reason"]) for p in output["skipped"]} == {
        ("vapi", "vapi-b1", "skipped", "not configured"),
        ("twilio", recording_sid(2), "skipped", "not configured"),
    }
    assert not caller_b_keys(seeded) & all_keys(moto_table, TABLE)
    assert DynamoErasureTasks(moto_table, TABLE).pending(10) == []  # nothing pending forever
    shown = CliRunner().invoke(
        app,
        ["erase", "--phone", PHONE_B, "--table", TABLE, "--pepper-ref", "env:CLI_PEPPER", "--deadline", "31"],
    )
    assert shown.exit_code == 2  # the deadline is bounded: 1 to 30 days


@pytest.mark.parametrize(
    "phone",
    ["abc", "+1415555", "020 7946 0018", "+15551234567", "", "sip:", "4155550123; DROP"],
    ids=["letters", "too-short", "foreign-national-form", "invalid-area-code", "empty", "bare-sip", "junk"],
)
def test_an_invalid_number_is_refused_and_nothing_is_certified(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi], phone: str
) -> None:
    twilio, vapi = providers
    seeded = seed(moto_table)
    with pytest.raises(InvalidCallerIdError) as raised:
        service(moto_table, twilio, vapi).erase(phone)
    # A fixed text, never the input (it may be someone's number).
    assert str(raised.value).startswith(("not a phone number:", "not a valid phone number"))
    assert AuditReader(DynamoAuditStore(moto_table, TABLE)).chain_records(system_pk("erasure")) == []
    assert seeded <= all_keys(moto_table, TABLE)


def test_a_wrong_pepper_is_detected_before_anything_is_certified(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    seeded = seed(moto_table)
    wrong = service(moto_table, twilio, vapi)
    wrong._pepper = _resolver("WRONG")  # an operator typo in --pepper-ref
    with pytest.raises(PepperMismatchError):
        wrong.erase(PHONE_A)
    assert AuditReader(DynamoAuditStore(moto_table, TABLE)).chain_records(system_pk("erasure")) == []
    assert seeded <= all_keys(moto_table, TABLE) and vapi.existing == {"vapi-a1", "vapi-a2", "vapi-b1"}


def test_dry_run_lists_what_would_go_and_changes_nothing(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi]
) -> None:
    twilio, vapi = providers
    seeded = seed(moto_table)
    result = service(moto_table, twilio, vapi).erase("(415) 555-0123", dry_run=True).as_dict()
    assert result["dry_run"] and not result["complete"] and result["calls_found"] == 3
    plan = {c["call_id"]: c for c in result["calls"]}
    assert plan[f"twilio:{call_sid(1)}"]["twilio_recordings"] == [recording_sid(1)]
    assert plan["vapi-a1"]["items"] == {"content": 1, "metadata": 1}
    assert seeded <= all_keys(moto_table, TABLE) and twilio.existing == {recording_sid(1), recording_sid(2)}
    assert AuditReader(DynamoAuditStore(moto_table, TABLE)).chain_records(system_pk("erasure")) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": "abc"}, 400, "invalid_phone"),
        ({"phone": "+1415555"}, 400, "invalid_phone"),
        ({"phone": "+14155550123", "dry_run": "yes"}, 400, "bad_request"),
        ({}, 400, "bad_request"),
        ({"phone": "+14155550123", "deadline_days": 0}, 400, "bad_request"),
        ({"phone": "+14155550123", "deadline_days": 31}, 400, "bad_request"),
        ({"phone": "+14155550123", "deadline_days": "25"}, 400, "bad_request"),
        ({"phone": "+14155550123", "deadline_days": True}, 400, "bad_request"),
    ],
)
def test_the_route_validates_like_the_cli(
    moto_table: Any, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any], status: int, code: str
) -> None:
    seed(moto_table)
    module = load_function("operator_api", function_env(), monkeypatch)
    response = module.lambda_handler(
        http_event("/operator/erase", json.dumps(body).encode(), {"content-type": "application/json"}),
        FakeContext(),
    )
    assert response["statusCode"] == status and json.loads(response["body"])["error"] == code
    assert "abc" not in response["body"]


def test_cli_refuses_a_wrong_pepper_in_one_line(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(moto_table)
    monkeypatch.setenv("CLI_PEPPER", "WRONG")
    result = CliRunner().invoke(
        app, ["erase", "--phone", PHONE_A, "--table", TABLE, "--pepper-ref", "env:CLI_PEPPER"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the pepper does not match") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_the_scheduled_purge_function_retries_the_follow_ups(
    moto_table: Any, providers: tuple[FakeTwilio, FakeVapi], monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio, vapi = providers
    seed(moto_table)
    vapi.fail["vapi-a1"] = [503]
    assert service(moto_table, twilio, vapi).erase(PHONE_A).as_dict()["pending_calls"] == 1
    env = function_env(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TEST_TWILIO_TOKEN=AUTH_TOKEN,
        VAPI_API_KEY_REF="env:TEST_VAPI_KEY",
        TEST_VAPI_KEY=VAPI_KEY,
        TWILIO_API_BASE_URL=twilio.base_url,
        VAPI_API_BASE_URL=vapi.base_url,
        PURGE_LOOKBACK_DAYS="2",
    )
    module = load_function("retention_purge", env, monkeypatch)
    answer = module.lambda_handler({}, FakeContext())
    assert answer["erasure_followups"]["deleted"] == 1 and "vapi-a1" not in vapi.existing
    assert DynamoErasureTasks(moto_table, TABLE).pending(10) == []
