"""Signed evidence bundles: every kind of tampering fails `audit verify --file --public-key` and is named.

The call comes from a JSON fixture; its audit records are appended through the real AuditTrail, so their
hashes are genuine. Each tampering is done to the written bundle as a forger with the file (and without
the private key) would, and verified through the CLI, offline: the bundle and the public key only.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import load_fixture
from tests.support.memory import InMemoryAuditStore
from voicetrail.domain.audit.trail import AuditKind, AuditTrail, record_from_export
from voicetrail_cli.main import app
from voicetrail_cli.ops.call_view import CallView
from voicetrail_cli.ops.evidence import (
    LocalKeySigner,
    build_bundle,
    chain_head,
    leaf_digest,
    public_key_pem,
    verify_document,
)

NOW = 1_764_900_100.0
Bundle = dict[str, Any]


def call_view() -> CallView:
    data = load_fixture("evidence/call.json")
    snapshot = data["rule_snapshots"][0]
    snapshot["code"] = "c" + hashlib.sha256(snapshot["config_json"].encode()).hexdigest()[:16]
    store = InMemoryAuditStore()
    trail = AuditTrail(store, sleep=lambda _: None)
    trail.append(data["call_id"], AuditKind.CONSENT_GIVEN, {"source": "disclosure"}, NOW - 96)
    trail.append(data["call_id"], AuditKind.PII_REDACTED, {"phone": 1}, NOW - 95)
    trail.append(data["call_id"], AuditKind.ESCALATION, {"config": snapshot["code"], "rule": 0}, NOW - 89)
    trail.append(data["call_id"], AuditKind.TRANSFER, {"outcome": "started"}, NOW - 88)
    return CallView(
        call_id=data["call_id"],
        vapi_call_id=data["vapi_call_id"],
        events=data["events"],
        audit=[r.as_dict() for r in store.chain("CALL#" + data["call_id"])],
        rule_snapshots=data["rule_snapshots"],
        summary=data["summary"],
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("keys")
    signer, forger = LocalKeySigner(folder / "signer.pem"), LocalKeySigner(folder / "forger.pem")
    public = folder / "signer.pub.pem"
    public.write_text(public_key_pem(signer))
    return {"signer": signer, "forger": forger, "public": public}


@pytest.fixture(scope="module")
def bundle(keys: dict[str, Any]) -> Bundle:
    return build_bundle(call_view(), source="test-table", now=NOW, signer=keys["signer"])


def verify_cli(document: Bundle | bytes, public: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "bundle.json"
    path.write_bytes(document if isinstance(document, bytes) else json.dumps(document, indent=2).encode())
    result = CliRunner().invoke(
        app,
        ["audit", "verify", "--file", str(path), "--public-key", str(public), "--json", "--now", str(NOW)],
    )
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {}


# ---- what a forger does --------------------------------------------------------------------------------


def _resign_leaf(b: Bundle, kind: str, ref: str) -> None:
    """Recompute the edited record's digest and the chain head in the statement: the best a forger
    without the private key can do."""
    statement = b["signature"]["statement"]
    records = {(k, r): rec for k, r, rec in _records(b)}
    for i, leaf in enumerate(statement["leaves"]):
        if (leaf[0], leaf[1]) == (kind, ref):
            leaf[2] = leaf_digest(statement["call_id"], i, kind, ref, records[(kind, ref)])
    statement["head"] = chain_head(leaf[2] for leaf in statement["leaves"])


def _records(b: Bundle) -> list[tuple[str, str, Any]]:
    from voicetrail_cli.ops.evidence import records_of

    return records_of(b)


def _ref(event: dict[str, Any]) -> str:
    return f"{event['pk']}/{event['sk']}"


def edit_event_and_recompute(b: Bundle, keys: dict[str, Any]) -> str:
    b["events"][0]["attributes"]["customer_number"] = "+14155550100"
    _resign_leaf(b, "event", _ref(b["events"][0]))
    return "signature"


def edit_event_field(b: Bundle, keys: dict[str, Any]) -> str:
    b["events"][0]["attributes"]["customer_number"] = "+14155550100"
    return _ref(b["events"][0])


def edit_retention_class(b: Bundle, keys: dict[str, Any]) -> str:
    b["events"][1]["retention_class"] = "metadata"
    return _ref(b["events"][1])


def delete_event(b: Bundle, keys: dict[str, Any]) -> str:
    return _ref(b["events"].pop(2))


def insert_event(b: Bundle, keys: dict[str, Any]) -> str:
    extra = copy.deepcopy(b["events"][1])
    extra["sk"] = "EVT#vapi#transcript#user#9"
    extra["body"]["transcript"] = "No, you may not record."
    b["events"].insert(2, extra)
    return _ref(extra)


def reorder_events(b: Bundle, keys: dict[str, Any]) -> str:
    events = b["events"]
    events[1], events[3] = events[3], events[1]
    return _ref(events[3])


def edit_audit_and_rehash(b: Bundle, keys: dict[str, Any]) -> str:
    row = b["audit"][0]
    row["kind"] = "consent_denied"
    row["hash"] = record_from_export(row).computed_hash()
    return f"{row['pk']}/{row['seq']}"


def delete_audit(b: Bundle, keys: dict[str, Any]) -> str:
    row = b["audit"].pop(1)
    return f"{row['pk']}/{row['seq']}"


def swap_signature(b: Bundle, keys: dict[str, Any]) -> str:
    other = build_bundle(call_view(), source="other-table", now=NOW + 1, signer=keys["signer"])
    b["signature"]["value"] = other["signature"]["value"]
    return "signature"


def resign_with_another_key(b: Bundle, keys: dict[str, Any]) -> str:
    from voicetrail_cli.ops.evidence import sign_document

    b["events"][0]["attributes"]["customer_number"] = "+14155550100"
    b["signature"] = sign_document(b, keys["forger"])
    return "signature"


def truncate_records(b: Bundle, keys: dict[str, Any]) -> str:
    b["summary"] = None
    snapshot = b["config_snapshots"].pop()
    return str(snapshot["code"])


def edit_call_id(b: Bundle, keys: dict[str, Any]) -> str:
    b["call_id"] = "call-someone-else"
    return "call_id"


def edit_summary(b: Bundle, keys: dict[str, Any]) -> str:
    b["summary"]["cost_usd"] = 0.01
    return "summary"


def drop_signature(b: Bundle, keys: dict[str, Any]) -> str:
    del b["signature"]
    return "signature"


TAMPERING: list[tuple[str, Callable[[Bundle, dict[str, Any]], str], set[str]]] = [
    ("edit an event field and recompute its digest", edit_event_and_recompute, {"signature_invalid"}),
    ("edit an event field", edit_event_field, {"record_edited"}),
    ("change an event's retention class", edit_retention_class, {"record_edited"}),
    ("delete an event", delete_event, {"record_deleted"}),
    ("insert an event", insert_event, {"record_inserted"}),
    ("reorder events", reorder_events, {"record_moved"}),
    ("edit an audit record and recompute its hash", edit_audit_and_rehash, {"record_edited", "link_broken"}),
    ("delete an audit record", delete_audit, {"record_deleted", "missing_records"}),
    ("swap the signature", swap_signature, {"signature_invalid"}),
    ("re-sign with a different key", resign_with_another_key, {"key_mismatch", "signature_invalid"}),
    ("truncate the records", truncate_records, {"truncated"}),
    ("edit the call id", edit_call_id, {"header_edited"}),
    ("edit the summary", edit_summary, {"record_edited"}),
    ("remove the signature", drop_signature, {"unsigned"}),
]


def test_an_untouched_bundle_verifies_offline(bundle: Bundle, keys: dict[str, Any], tmp_path: Path) -> None:
    code, result = verify_cli(bundle, keys["public"], tmp_path)
    assert code == 0 and result["ok"] and result["key"]["signature_valid"], result
    assert result["signed_records"] == 5 + 4 + 1 + 1  # events, audit records, rule snapshot, summary
    assert bundle["signature"]["statement"]["key"]["key_id"].startswith("local:")


@pytest.mark.parametrize(("name", "tamper", "expected"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_every_kind_of_tampering_fails_and_is_named(
    name: str,
    tamper: Callable[[Bundle, dict[str, Any]], str],
    expected: set[str],
    bundle: Bundle,
    keys: dict[str, Any],
    tmp_path: Path,
) -> None:
    forged = copy.deepcopy(bundle)
    named = tamper(forged, keys)
    code, result = verify_cli(forged, keys["public"], tmp_path)
    assert code == 1 and result["ok"] is False, (name, result)
    problems = {b["problem"] for b in result["breaks"]}
    assert expected <= problems, (name, result["breaks"])
    assert named in {str(b.get("record")) for b in result["breaks"]} | {"signature"}, (name, result["breaks"])


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9, 0.999])
def test_a_truncated_file_is_refused_in_one_line(
    keep: float, bundle: Bundle, keys: dict[str, Any], tmp_path: Path
) -> None:
    text = json.dumps(bundle, indent=2).encode()
    path = tmp_path / "cut.json"
    path.write_bytes(text[: int(len(text) * keep)])
    result = CliRunner().invoke(
        app, ["audit", "verify", "--file", str(path), "--public-key", str(keys["public"])]
    )
    assert result.exit_code == 1 and "truncated or changed" in result.stderr, result.output
    assert "Traceback" not in result.output


def test_verification_needs_the_public_key_and_refuses_a_wrong_one(
    bundle: Bundle, keys: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    no_key = CliRunner().invoke(app, ["audit", "verify", "--file", str(path)])
    assert no_key.exit_code == 1 and "--public-key" in no_key.stderr
    wrong = tmp_path / "forger.pub.pem"
    wrong.write_text(public_key_pem(keys["forger"]))
    code, result = verify_cli(bundle, wrong, tmp_path)
    assert code == 1 and {b["problem"] for b in result["breaks"]} >= {"key_mismatch", "signature_invalid"}
    not_a_key = tmp_path / "junk.pem"
    not_a_key.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    junk = CliRunner().invoke(app, ["audit", "verify", "--file", str(path), "--public-key", str(not_a_key)])
    assert junk.exit_code == 1 and "not a PEM public key" in junk.stderr


def test_a_digest_is_bound_to_its_call_and_its_place() -> None:
    record = {"pk": "CALL#a", "sk": "EVT#1", "body": {"x": 1}}
    base = leaf_digest("a", 0, "event", "CALL#a/EVT#1", record)
    assert base != hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    assert base != leaf_digest("a", 1, "event", "CALL#a/EVT#1", record)
    assert base != leaf_digest("b", 0, "event", "CALL#a/EVT#1", record)
    assert base != leaf_digest("a", 0, "audit", "CALL#a/EVT#1", record)


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))


@settings(max_examples=60, deadline=None)
@given(
    section=st.sampled_from(["events", "audit", "config_snapshots"]),
    index=st.integers(min_value=0, max_value=3),
    field=st.text(min_size=1, max_size=8),
    value=_json_scalars,
)
def test_any_changed_or_added_field_of_any_record_fails(
    section: str, index: int, field: str, value: Any, bundle: Bundle, keys: dict[str, Any]
) -> None:
    from voicetrail_cli.ops.evidence import load_public_key

    forged = copy.deepcopy(bundle)
    records = forged[section]
    record = records[index % len(records)]
    if record.get(field, object()) == value:
        return  # not a change
    record[field] = value
    public = load_public_key(keys["public"])
    try:
        result = verify_document(forged, now=NOW, public_key=public)
    except Exception as exc:  # a malformed record may be refused outright: that is a failure too
        assert type(exc).__name__ == "CliError"
        return
    assert not result["ok"]
