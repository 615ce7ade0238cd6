"""Real Vapi traffic through the real vapi_webhook Lambda handler against moto: the whole corpus, the
topology and do-not-call items, and `voicetrail dnc` (hashes only, audited)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import PEPPER, TABLE, VAPI_SECRET, FakeContext, function_env, http_event, load_function
from tests.vapi_corpus import corpus, plant, planted_pii_in, resend_of, response_errors, with_call_id
from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.providers.vapi.messages import parse_envelope
from voicetrail.storage.dnc import DynamoDoNotCallList
from voicetrail.storage.topology import DynamoTopologyStore
from voicetrail_cli.main import app

pytestmark = pytest.mark.integration
HASHER = CallerHasher(PEPPER)


@pytest.fixture
def handler(moto_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("vapi_webhook", function_env(LIVE_CALL_CONTROL="true"), monkeypatch)


def post(module: ModuleType, envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    headers = {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"}
    event = http_event("/vapi/webhook", json.dumps(envelope).encode(), headers)
    result = module.lambda_handler(event, FakeContext())
    return int(result["statusCode"]), json.loads(result["body"] or "{}")


def scan(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def event_count(client: Any, envelope: dict[str, Any]) -> int:
    """The stored events of the envelope's call (a query of its partition, not a scan)."""
    call_id = parse_envelope(json.dumps(envelope).encode()).message.call_id or "no-call"
    return int(
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :evt)",
            ExpressionAttributeValues={":pk": {"S": f"CALL#{call_id}"}, ":evt": {"S": "EVT#"}},
            Select="COUNT",
        )["Count"]
    )


def log_capture(service: str) -> io.StringIO:
    """The function's log lines, formatted exactly as it writes them (its own handler's formatter)."""
    logger = logging.getLogger(service)
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.handlers[0].formatter)
    logger.addHandler(capture)
    return stream


def test_the_corpus_through_the_lambda_handler(
    capfd: pytest.CaptureFixture[str], handler: ModuleType, moto_table: Any
) -> None:
    log_lines = log_capture("vapi_webhook")
    failures: list[str] = []
    for sample_id, original in corpus():
        for envelope in (original, plant(with_call_id(original, "-pii"))):
            kind = envelope["message"]["type"]
            for attempt, payload in (("first", envelope), ("resend", resend_of(envelope))):
                before = event_count(moto_table, payload)
                status, reply = post(handler, payload)
                failures += [f"{sample_id} {attempt}: {e}" for e in response_errors(kind, status, reply)]
                new = event_count(moto_table, payload) - before
                if new != (1 if attempt == "first" else 0):
                    failures.append(f"{sample_id} {attempt}: {new} new events")
    output = capfd.readouterr()  # metrics (EMF) go to stdout
    logs = log_lines.getvalue()
    assert failures == []
    assert "event processed" in logs
    assert planted_pii_in(json.dumps(scan(moto_table), default=str) + logs + output.out + output.err) == []


def test_owner_and_observer_calls_are_recorded(handler: ModuleType, moto_table: Any) -> None:
    owned = {
        "type": "assistant-request",
        "call": {"id": "call-owned", "phoneCallProviderId": "CA" + "1" * 32},
    }
    assert post(handler, {"message": owned})[0] == 200
    for call_id, sid in (("call-owned", "CA" + "1" * 32), ("call-watched", "CA" + "2" * 32)):
        ended = {
            "type": "status-update",
            "status": "ended",
            "call": {"id": call_id, "phoneCallProviderId": sid},
        }
        assert post(handler, {"message": ended})[0] == 200
    topology = DynamoTopologyStore(moto_table, TABLE, RetentionPolicy())
    assert (topology.is_owner("call-owned"), topology.is_owner("call-watched")) == (True, False)
    summaries = {
        i["pk"]["S"]: i.get("topology", {}).get("S") for i in scan(moto_table) if i["sk"]["S"] == "SUMMARY"
    }
    assert summaries == {f"CALL#twilio:CA{'1' * 32}": "owner", f"CALL#twilio:CA{'2' * 32}": "observer"}


def test_the_dnc_cli_writes_hashes_only_audits_and_the_gate_reads_them(
    handler: ModuleType, moto_table: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLI_PEPPER", PEPPER)
    numbers = tmp_path / "dnc.txt"
    numbers.write_text("# opt-outs\n+44 20 7946 0019\n(212) 555-0124\nnot a number\n")
    common = ["--table", TABLE, "--pepper-ref", "env:CLI_PEPPER", "--json"]
    added = CliRunner().invoke(
        app, ["dnc", "add", "--file", str(numbers), "--phone", "+12125550124", *common]
    )
    assert added.exit_code == 2  # one line was not a number: reported, the rest applied
    assert json.loads(added.output) == {"added": 2, "already_listed": 0, "invalid": 1}
    check = CliRunner().invoke(app, ["dnc", "check", "--phone", "+1 212 555 0124", *common])
    assert (check.exit_code, json.loads(check.output)) == (0, {"on_list": True})
    items = scan(moto_table)
    text = json.dumps(items)
    assert "7946" not in text and "5550124" not in text and "555-0124" not in text
    dnc = DynamoDoNotCallList(moto_table, TABLE, RetentionPolicy())
    assert dnc.contains(HASHER.hash("+442079460019"))
    contact = {
        "id": "c1",
        "campaignId": "k1",
        "orgId": "o",
        "number": "+442079460019",
        "createdAt": "2025-11-20T10:00:00Z",
    }
    assert post(
        handler, {"message": {"type": "campaign.predial", "campaignId": "k1", "contact": contact}}
    ) == (
        200,
        {"eligible": False},
    )
    removed = CliRunner().invoke(app, ["dnc", "remove", "--phone", "+442079460019", *common])
    assert json.loads(removed.output) == {"removed": 1, "not_listed": 0, "invalid": 0}
    assert CliRunner().invoke(app, ["dnc", "check", "--phone", "+442079460019", *common]).exit_code == 1
    text = CliRunner().invoke(app, ["dnc", "check", "--phone", "+442079460019", *common[:-1]])
    assert (text.exit_code, text.output.strip()) == (1, "on list: False")  # without --json: one line
    audit = [i for i in scan(moto_table) if i["sk"]["S"].startswith("AUDIT#")]
    kinds = sorted((i["pk"]["S"], i["kind"]["S"]) for i in audit)
    assert kinds == [
        ("SYS#dnc", "dnc_change"),
        ("SYS#dnc", "dnc_change"),
        ("SYS#predial.k1", "predial_decision"),
    ]
