"""Operator commands on a call stored by the real Vapi handler (moto): calls list/show, evidence, offline
verification with a one-byte tamper, audit verify costs in proportion to records, unknown calls."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import PEPPER, TABLE, VAPI_SECRET, FakeContext, function_env, http_event, load_function
from voicetrail.domain.audit.trail import AuditKind, AuditReader, AuditTrail
from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request
from voicetrail.storage.audit import DynamoAuditStore
from voicetrail.storage.call_view import RequestCounter
from voicetrail.storage.table import INDEX_SHARDS, audit_days
from voicetrail_cli.dev.scenario import CallScript, encode
from voicetrail_cli.main import app

pytestmark = pytest.mark.integration
ESCALATING_TURN = 7
TURNS = tuple(
    "I need a human right now." if n == ESCALATING_TURN else f"Turn {n}: my social is 123-45-678{n % 10}."
    for n in range(30)
)


@pytest.fixture
def stored_call(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> CallScript:
    """A 30-turn call through the real webhook handler, live call control on (an escalation fires)."""
    module = load_function("vapi_webhook", function_env(LIVE_CALL_CONTROL="true"), monkeypatch)
    # Started ten minutes ago: its events are in the past when the commands run (they are, in real life).
    script = CallScript(user_lines=("Yes, that's fine.", *TURNS), start_ms=int((time.time() - 600) * 1000))
    # voicetrail serves the call's assistant (it owns the call): its live features act on it.
    owned = [("assistant-request", script._envelope({"type": "assistant-request"}, 0)), *script.messages()]
    for _label, payload in owned:
        body = encode(payload)
        headers = {"content-type": "application/json", **sign_request(VapiAuthConfig(), body, VAPI_SECRET)}
        response = module.lambda_handler(http_event("/vapi/webhook", body, headers), FakeContext())
        assert response["statusCode"] == 200, response
    return script


def run(*args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--table", TABLE])


def test_calls_show_tells_the_whole_story_in_two_requests(stored_call: CallScript) -> None:
    result = run("calls", "show", stored_call.call_id, "--json")
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert view["dynamodb_requests"] == 2  # the Vapi call's partition and the Twilio call's
    users = [line for line in view["transcript"] if line["role"] == "user"]
    assert len(users) == 31 and "123-45-678" not in json.dumps(view)  # stored redacted
    (escalation,) = view["escalations"]
    rule = escalation["rule_as_configured"]
    assert rule["keyword"] == "i need a human" and rule["config_key"] == "builtin"
    assert rule["config"]["escalation_min_confidence"] == 0.7 and escalation["outcome"] == "no_destination"
    kinds = [t["kind"] for t in view["timeline"]]
    assert kinds.count("end-of-call-report") == 1 and "escalation" in kinds
    assert [t["at_ms"] for t in view["timeline"]] == sorted(t["at_ms"] for t in view["timeline"])
    by_sid = json.loads(run("calls", "show", stored_call.provider_call_id, "--json").stdout)
    assert by_sid["vapi_call_id"] == stored_call.call_id and len(by_sid["timeline"]) == len(view["timeline"])
    assert by_sid["dynamodb_requests"] == 2 and by_sid["summary"]["consent"] == "granted"
    text = run("calls", "show", stored_call.call_id)
    assert text.exit_code == 0 and "rule as configured" in text.stdout and "i need a human" in text.stdout


def test_an_unknown_call_is_an_error(moto_table: Any) -> None:
    for args in (("calls", "show", "no-such-call"), ("audit", "verify", "--call", "no-such-call")):
        result = run(*args)
        assert result.exit_code == 1 and result.stderr.startswith("error: no "), result.output
        assert "Traceback" not in result.output


def test_evidence_verifies_offline_and_one_changed_byte_is_detected(
    stored_call: CallScript, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICETRAIL_SIGNING_KEY", str(tmp_path / "key.pem"))  # the local stack's signer
    bundle_path, key_path = tmp_path / "bundle.json", tmp_path / "public.pem"
    result = run("evidence", stored_call.call_id, "--out", str(bundle_path), "--json")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)
    assert exported["verification"]["ok"] is True and exported["fingerprint"].startswith("SHA256:")
    published = CliRunner().invoke(app, ["audit", "public-key", "--out", str(key_path), "--json"])
    assert json.loads(published.stdout)["fingerprint"] == exported["fingerprint"], published.output
    verify = ["audit", "verify", "--file", str(bundle_path), "--public-key", str(key_path), "--json"]
    clean = CliRunner().invoke(app, verify)
    assert clean.exit_code == 0 and json.loads(clean.stdout)["records"] >= 2, clean.output
    assert json.loads(clean.stdout)["signed_records"] == exported["signed_records"] > exported["events"]
    unkeyed = CliRunner().invoke(app, ["audit", "verify", "--file", str(bundle_path)])
    assert unkeyed.exit_code == 1 and "--public-key" in unkeyed.stderr

    original = bundle_path.read_bytes()
    bundle = json.loads(original)
    assert {s["code"] for s in bundle["config_snapshots"]} == {
        r["details"]["config"] for r in bundle["audit"] if r["kind"] == "escalation"
    }
    targets = {
        "audit record": original.index(b'"at_ms": ', original.index(b'"audit"')) + len(b'"at_ms": ') + 3,
        "event body": original.index(b"Turn 1") + len(b"Turn "),
        "rule snapshot": original.index(b"i need a human", original.index(b'"config_snapshots"')) + 2,
    }
    for where, offset in targets.items():
        tampered = bytearray(original)
        tampered[offset] = ord("9") if tampered[offset] != ord("9") else ord("8")
        bundle_path.write_bytes(bytes(tampered))
        result = CliRunner().invoke(app, verify)
        assert result.exit_code == 1, (where, result.output)
        assert json.loads(result.stdout)["ok"] is False, where
        assert "record_edited" in {b["problem"] for b in json.loads(result.stdout)["breaks"]}, where


def test_an_export_verifies_offline_json_and_csv(stored_call: CallScript, tmp_path: Path) -> None:
    for fmt in ("json", "csv"):
        out = tmp_path / f"export.{fmt}"
        result = run("audit", "export", "--call", stored_call.call_id, "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        verified = CliRunner().invoke(app, ["audit", "verify", "--file", str(out), "--json"])
        assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"], verified.output
        text = out.read_text()
        out.write_text(
            text.replace('"kind": "escalation"', '"kind": "transfer"').replace(",escalation,", ",transfer,")
        )
        assert CliRunner().invoke(app, ["audit", "verify", "--file", str(out)]).exit_code == 1


def test_calls_list_filters_by_caller_and_outcome(
    stored_call: CallScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLI_PEPPER", PEPPER)
    listed = json.loads(run("calls", "list", "--json").stdout)
    assert [c["call"] for c in listed["calls"]] == [stored_call.call_id]
    mine = run("calls", "list", "--caller", "(415) 555-0123", "--pepper-ref", "env:CLI_PEPPER", "--json")
    assert json.loads(mine.stdout)["total"] == 1, mine.output
    other = run("calls", "list", "--caller", "+14155550100", "--pepper-ref", "env:CLI_PEPPER", "--json")
    assert json.loads(other.stdout)["total"] == 0
    assert json.loads(run("calls", "list", "--outcome", "failed", "--json").stdout)["total"] == 0
    monkeypatch.setenv("CLI_PEPPER", "WRONG")
    wrong = run("calls", "list", "--caller", "+14155550123", "--pepper-ref", "env:CLI_PEPPER")
    assert wrong.exit_code == 1 and "pepper does not match" in wrong.stderr


def test_audit_verify_reads_in_proportion_to_records_not_days(moto_table: Any) -> None:
    now = 1_790_000_000.0
    trail = AuditTrail(DynamoAuditStore(moto_table, TABLE), sleep=lambda _: None)
    for n in range(12):
        trail.append(f"call-{n}", AuditKind.CONSENT_GIVEN, {"source": "disclosure"}, now - (n % 3) * 86_400)
    counting = RequestCounter(moto_table)
    reader = AuditReader(DynamoAuditStore(counting, TABLE))
    pks = reader.chains_since(now - 2190 * 86_400, now=now)
    report = reader.verify(pks, now=now)
    assert report.ok and report.chains == 12
    # 1 query for the days that have records; per such day (3), one per AuditIndex bucket of the day (its
    # shards, and the unsharded key of records written before sharding); 1 per chain (12): not 2,190 days.
    buckets_per_day = len(audit_days(int(now)))
    assert buckets_per_day == INDEX_SHARDS + 1
    assert counting.counts == {"query": 1 + 3 * buckets_per_day + 12}


@pytest.mark.slow  # moto's CloudFormation loads slowly; a stubbed client covers --stack in make test
def test_stack_outputs_point_every_command_at_the_deployment(
    stored_call: CallScript, moto_table: Any
) -> None:
    """`--stack NAME`: table and pepper secret from the stack outputs (moto CloudFormation)."""
    import boto3

    pepper_arn = boto3.client("secretsmanager").create_secret(Name="pepper", SecretString=PEPPER)["ARN"]
    template = {
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"EventsTableName": {"Value": TABLE}, "HashPepperSecretArn": {"Value": pepper_arn}},
    }
    boto3.client("cloudformation").create_stack(
        StackName="voicetrail-test", TemplateBody=json.dumps(template)
    )
    runner = CliRunner()
    mine = runner.invoke(
        app, ["calls", "list", "--stack", "voicetrail-test", "--caller", "+14155550123", "--json"]
    )
    assert mine.exit_code == 0 and json.loads(mine.stdout)["total"] == 1, mine.output
    verified = runner.invoke(
        app, ["audit", "verify", "--stack", "voicetrail-test", "--call", stored_call.call_id]
    )
    assert verified.exit_code == 0 and "intact" in verified.stdout, verified.output
    report = runner.invoke(app, ["report", "--stack", "voicetrail-test", "--json"])
    assert json.loads(report.stdout)["rows"][-1]["calls"] == 1


def test_the_purge_summary_reads_as_counts(moto_table: Any) -> None:
    from tests.fakes.seed import event_item, put_all
    from voicetrail.domain.retention.classes import RetentionClass

    now = int(time.time())
    put_all(
        moto_table, TABLE, [event_item("call-1", f"e{n}", RetentionClass.CONTENT, now - 60) for n in range(3)]
    )
    for args, rows in (
        (("purge", "--dry-run"), ("expired", "3 (content 3)")),
        (("purge",), ("deleted", "3 (content 3)")),
    ):
        result = run(*args)
        assert result.exit_code == 0, result.output
        text = result.stdout
        assert all(word in text for word in rows) and "{" not in text  # no raw dicts
        header = next(line for line in text.splitlines() if "measure" in line)
        assert "value" in header  # every column is named
    again = json.loads(run("purge", "--json").stdout)
    assert again["expired"] == {} and again["buckets"] <= 2 and again["index_reads"] == 2


def test_evidence_into_a_missing_directory_names_the_directory(
    stored_call: CallScript, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "x.json"
    result = run("evidence", stored_call.call_id, "--out", str(out))
    assert result.exit_code == 1 and f"no such directory: {out.parent}" in result.stderr, result.output


def test_calls_show_is_a_clean_view(stored_call: CallScript) -> None:
    text = run("calls", "show", stored_call.call_id).stdout
    assert "('" not in text and "',)" not in text  # no Python tuples
    cost_rows = [line for line in text.splitlines() if line.startswith("│ cost ")]
    assert len(cost_rows) == 1 and "cost_usd" not in text  # the cost once
    assert "at_ms" not in text and "received (UTC)" in text and "started (UTC)" in text
    transcript = text.split("transcript (as stored: redacted)")[1].split("Turns")[0]
    rows = [line for line in transcript.splitlines() if line.startswith("│")]
    assert rows and all(line.split("│")[2].strip() for line in rows)  # every row has its words
    assert "Yes, that's fine." in transcript
    assert "│ -  │ -" not in text and "│ - │ - │" not in text  # no phantom recording row
    assert "vapi     │ the call's audio at Vapi" in text


@pytest.mark.parametrize("width", [80, 120])
def test_calls_list_fits_80_and_120_columns(
    stored_call: CallScript, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    text = run("calls", "list").stdout
    assert all(len(line) <= width for line in text.splitlines()) and "…" not in text
    assert stored_call.call_id in text and "left out to fit" in text
    wide = run("calls", "list", "--wide").stdout
    assert stored_call.provider_call_id in wide and "left out" not in wide
