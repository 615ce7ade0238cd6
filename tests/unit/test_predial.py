"""The campaign.predial compliance gate: a table of cases, the webhook path, audit, the policy setting."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from tests.conftest import PEPPER, ROOT
from tests.support.live import MemoryAuditSink
from tests.support.memory import InMemoryDoNotCallList, MemoryLiveStore
from tests.test_live_support import assert_valid
from tests.vapi_corpus import NOW, Harness
from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.live.store import CallerConsent
from voicetrail.providers.vapi.predial import PredialGate, PredialPolicy, RecordedConsent, local_zones
from voicetrail.settings import VapiWebhookSettings

pytestmark = pytest.mark.unit
HASHER = CallerHasher(PEPPER)
CASES: list[dict[str, Any]] = json.loads((ROOT / "tests" / "data" / "predial_cases.json").read_text())[
    "cases"
]


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def gate_for(case: dict[str, Any]) -> PredialGate:
    at = epoch(case["at"])
    dnc = InMemoryDoNotCallList()
    if case.get("dnc") or case.get("dnc_number"):
        dnc.add(HASHER.hash(case.get("dnc_number") or case["number"]), now=at)
    consents = MemoryLiveStore()
    days = case.get("consent_days_ago")
    if days is not None and case["number"]:
        decision = "granted" if days >= 0 else "denied"
        decided_at = int(at - abs(days) * 86_400)
        consents.put_caller_consent(HASHER.hash(case["number"]), CallerConsent(decision, decided_at), now=at)
    return PredialGate(
        policy=PredialPolicy.model_validate(case.get("policy", {})),
        dnc=dnc,
        consent=RecordedConsent(consents),
        audit=MemoryAuditSink(),
        clock=lambda: at,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_predial_decisions(case: dict[str, Any]) -> None:
    decision = gate_for(case).decide(case["number"], HASHER)
    assert decision.reason == case["expect"]
    assert decision.eligible is (case["expect"] == "eligible")
    assert_valid("ServerMessageResponseCampaignPredial", decision.reply())


def test_a_number_whose_time_zone_is_unknown_is_not_called_unless_the_policy_allows_it() -> None:
    number = "+870 301 234 567"  # Inmarsat (phonenumbers example number): valid, no time zone
    assert local_zones(number, "US") == ()
    gate = gate_for({"number": number, "at": "2025-11-27T14:00:00Z"})
    assert gate.decide(number, HASHER).reason == "unknown_timezone"
    lenient = PredialGate(
        policy=PredialPolicy(block_unknown_timezone=False),
        dnc=InMemoryDoNotCallList(),
        consent=RecordedConsent(MemoryLiveStore()),
        audit=None,
        clock=lambda: NOW,
    )
    assert lenient.decide(number, HASHER).reason == "eligible"


def predial(number: str, contact_id: str = "contact-1") -> dict[str, Any]:
    contact = {
        "id": contact_id,
        "campaignId": "campaign-1",
        "orgId": "org-1",
        "number": number,
        "createdAt": "2025-11-20T10:00:00.000Z",
        "name": "Jordan Example",
    }
    return {
        "message": {
            "type": "campaign.predial",
            "campaignId": "campaign-1",
            "contact": contact,
            "timestamp": NOW * 1000,
        }
    }


def test_the_webhook_answers_the_gate_audits_each_decision_once_and_stores_no_number() -> None:
    harness = Harness("observer")  # NOW is 10:00 UTC: 05:00 in New York, 10:00 in London
    harness.dnc.add(HASHER.hash("+44 20 7946 0019"), now=NOW)
    answers = [
        harness.post(predial("+44 20 7946 0018", "c-london")),
        harness.post(predial("+44 20 7946 0019", "c-dnc")),
        harness.post(predial("+1 212 555 0123", "c-new-york")),
        harness.post(predial("+44 20 7946 0018", "c-london")),  # a resend
    ]
    yes, no = (200, {"eligible": True}), (200, {"eligible": False})
    assert answers == [yes, no, no, yes]
    decisions = [(e.call_id, e.kind, e.details) for e in harness.live.audit.events]
    assert decisions == [
        (
            "SYS#predial.campaign-1",
            "predial_decision",
            {"eligible": "true", "reason": "eligible", "contact_id": "c-london"},
        ),
        (
            "SYS#predial.campaign-1",
            "predial_decision",
            {"eligible": "false", "reason": "do_not_call", "contact_id": "c-dnc"},
        ),
        (
            "SYS#predial.campaign-1",
            "predial_decision",
            {"eligible": "false", "reason": "outside_hours", "contact_id": "c-new-york"},
        ),
    ]
    stored = harness.stored_text()
    assert "7946" not in stored and "555 0123" not in stored and "Jordan" not in stored
    assert {e.call_id for e in harness.store.all_events()} == {"campaign.campaign-1"}
    assert harness.metrics.total("PredialDecision", reason="do_not_call") == 1


def test_the_policy_is_read_from_the_environment_and_a_bad_one_fails_the_cold_start() -> None:
    env = {
        "TABLE_NAME": "t-1",
        "HASH_PEPPER_REF": "env:P",
        "VAPI_SECRET_REF": "env:S",
        "VOICETRAIL_ALLOW_ENV_SECRETS": "true",
        "PREDIAL_POLICY": '{"window_start": "09:00", "window_end": "20:00", "require_prior_consent": true}',
    }
    policy = VapiWebhookSettings.from_env(env).predial_policy
    assert (policy.window_start.hour, policy.window_end.hour, policy.require_prior_consent) == (9, 20, True)
    assert VapiWebhookSettings.from_env({**env, "PREDIAL_POLICY": ""}).predial_policy == PredialPolicy()
    with pytest.raises(ValidationError):
        PredialPolicy.model_validate({"window_start": "21:00", "window_end": "08:00"})
    with pytest.raises(ValidationError):
        PredialPolicy.model_validate({"window_start": "08:00", "unknown": True})
