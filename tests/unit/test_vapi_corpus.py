"""Real and spec-generated Vapi payloads through the webhook: status, reply schema, exactly-once, no PII.

The corpus (tests/vapi_corpus.py): every documented or captured payload in tests/fixtures/vapi/real/
(provenance in PROVENANCE.md) and one generated instance of every ServerMessage* schema of Vapi's spec,
each sent as is and as a copy with an SSN and a card number planted wherever caller content goes, each
delivered once and resent once. `python -m tests.vapi_corpus` prints the same figures as a table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.test_live_support import schema_errors
from tests.vapi_corpus import (
    REAL_DIR,
    Harness,
    generate,
    message_types,
    plant,
    planted_pii_in,
    run_corpus,
    server_message_schemas,
)
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.providers.vapi.messages import KNOWN_TYPES, SPEC_TYPES, metric_type

pytestmark = pytest.mark.unit


def test_the_metric_types_are_exactly_the_spec_types_plus_the_legacy_ones() -> None:
    spec_types = {t for name in server_message_schemas() for t in message_types(name)}
    assert spec_types == SPEC_TYPES
    assert all(metric_type(t) == t for t in KNOWN_TYPES)
    assert metric_type("brand-new-type") == "other"


@pytest.mark.parametrize(
    ("schema", "kind"), [(name, kind) for name in server_message_schemas() for kind in message_types(name)]
)
def test_the_generator_builds_a_valid_instance_of_every_server_message_schema(schema: str, kind: str) -> None:
    assert schema_errors(schema, generate(schema, message_type=kind)) == []


def test_every_real_fixture_has_its_provenance() -> None:
    provenance = (REAL_DIR / "PROVENANCE.md").read_text()
    files = sorted(p.name for p in REAL_DIR.glob("*.json"))
    assert len(files) >= 30
    assert [f for f in files if f"| {f} |" not in provenance] == []


@pytest.mark.parametrize("mode", ["observer", "owner"])
def test_the_whole_corpus_is_answered_stored_once_and_leaks_nothing(
    mode: str, capfd: pytest.CaptureFixture[str]
) -> None:
    report, harness = run_corpus(mode)
    logs = capfd.readouterr()
    assert "event processed" in logs.out  # the log check below is not vacuous
    assert set(report.samples) >= SPEC_TYPES
    assert set(report.statuses) == {200, 422}  # 422: voice-request only (documented)
    assert report.schema_failures == []
    assert report.collapsed == []
    assert report.resend_stored == []
    assert report.other_metric_types == []
    assert planted_pii_in(harness.stored_text() + logs.out + logs.err) == []
    assert [e.event_key for e in harness.store.all_events() if "None" in e.event_key] == []


def _planted_transcript() -> dict[str, Any]:
    return plant(json.loads((REAL_DIR / "docs-transcript.json").read_text()))


def test_an_observed_call_keeps_caller_content_redacted_in_the_content_class() -> None:
    harness = Harness("observer")
    assert harness.post(_planted_transcript())[0] == 200
    [event] = harness.store.all_events()
    assert event.retention_class is RetentionClass.CONTENT
    assert event.attributes["topology"] == "observer"
    assert "[SSN]" in event.body["transcript"] and "[SSN]" in json.dumps(event.body["artifact"])


def test_an_owned_call_without_consent_withholds_content_in_every_place_and_keeps_the_rest() -> None:
    harness = Harness("owner")
    status = plant(json.loads((REAL_DIR / "capture-status-update.json").read_text()))
    assert harness.post(status)[0] == 200
    [event] = harness.store.all_events()
    assert event.retention_class is RetentionClass.METADATA  # nothing of the caller was kept
    assert event.attributes["content"] == "withheld"
    assert {m["message"] for m in event.body["artifact"]["messages"]} == {"[withheld: no consent]"}
    assert event.body["status"] == "in-progress" and event.body["call"]["type"] == "webCall"
    # The operator's configuration is not caller content: the assistant's prompt and name are kept.
    assert event.body["assistant"]["name"] == "Finzie"
    assert event.body["assistant"]["model"]["messages"][0]["content"].startswith("You are a helpful")


def test_vapi_consent_evidence_and_tool_definitions_are_kept_without_consent() -> None:
    harness = Harness("owner")
    report = json.loads((REAL_DIR / "docs-consent-granted-end-of-call-report.json").read_text())
    tools = json.loads((REAL_DIR / "docs-custom-tools-tool-calls.json").read_text())
    harness.post(report)
    harness.post(plant(tools))
    stored = {e.event_type: e for e in harness.store.all_events() if e.record == "EVT"}
    compliance = stored["end-of-call-report"].body["compliance"]
    assert compliance == {"recordingConsent": {"type": "verbal", "grantedAt": "2024-01-15T10:30:00Z"}}
    tool = stored["tool-calls"].body["toolWithToolCallList"][0]
    assert tool["name"] == "get_weather"
    assert tool["description"] == "Retrieves the current weather for a specified location"
    assert tool["parameters"] == {"type": "object", "properties": {"location": {"type": "string"}}}
    # ...while the caller's arguments are withheld.
    assert stored["tool-calls"].body["toolCallList"][0]["arguments"] == {"note": "[withheld: no consent]"}
