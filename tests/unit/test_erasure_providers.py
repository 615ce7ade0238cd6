"""Erasure with the provider registry, over the in-memory table: our copy always goes at once; each
provider answer becomes the receipt's truth (deleted, gone, pending with its reason, skipped); a task is
written before the items that point at it are deleted; a provider added later needs one `Provider`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tests.fakes.seed import call_sid, event_item, recording_item, recording_sid, summary_item
from tests.support.memory import (
    InMemoryAuditStore,
    InMemoryErasureTasks,
    InMemoryTable,
    MemoryPepperFingerprints,
)
from voicetrail.domain.audit.trail import AuditTrail
from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.erasure.deleters import ExternalOutcome
from voicetrail.domain.erasure.eraser import ErasureService
from voicetrail.domain.erasure.followups import FollowUpRunner
from voicetrail.domain.erasure.providers import (
    Provider,
    ProviderRegistry,
    twilio_recordings_of,
    vapi_calls_of,
)
from voicetrail.domain.items import RawItem
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.errors import StoreUnavailableError
from voicetrail.infra.secrets import SecretRef, SecretResolver

pytestmark = pytest.mark.unit

PEPPER = "unit-pepper"
PHONE = "+14155550123"
NOW = 1_790_000_000
LATER = NOW + 86_400


class Scripted:
    """A provider's delete: answers from a script, DELETED once the script is used up."""

    def __init__(self, *answers: ExternalOutcome) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, target: str) -> ExternalOutcome:
        self.asked.append(target)
        return self.answers.pop(0) if self.answers else ExternalOutcome.DELETED


def seeded_table() -> InMemoryTable:
    mine = CallerHasher(PEPPER).hash(PHONE)
    return InMemoryTable(
        [
            event_item("vapi-1", "t1", RetentionClass.CONTENT, LATER, caller_hash=mine),
            {"pk": {"S": "CALL#vapi-1"}, "sk": {"S": "NAMES"}, "retention_class": {"S": "content"}},
            {"pk": {"S": "CALL#vapi-1"}, "sk": {"S": "LIVE#consent"}, "retention_class": {"S": "metadata"}},
            event_item(f"twilio:{call_sid(1)}", "status#1", RetentionClass.METADATA, LATER, caller_hash=mine),
            recording_item(call_sid(1), recording_sid(1), LATER),
            summary_item(call_sid(1), "vapi-1", LATER),
            {"pk": {"S": f"CALLER#{mine}"}, "sk": {"S": "CONSENT"}, "caller_hash": {"S": mine}},
        ]
    )


def eraser(
    table: InMemoryTable, registry: ProviderRegistry, tasks: InMemoryErasureTasks, **options: Any
) -> ErasureService:
    fingerprints = MemoryPepperFingerprints()
    fingerprints.record(CallerHasher(PEPPER).fingerprint())
    return ErasureService(
        table,
        pepper=SecretResolver(SecretRef("env", "P"), fetch=lambda ref, age, /, *, force=False: PEPPER),
        fingerprints=fingerprints,
        providers=registry,
        tasks=tasks,
        audit=AuditTrail(InMemoryAuditStore(), sleep=lambda _: None),
        clock=lambda: NOW,
        **options,
    )


def registry(twilio: Scripted | None, vapi: Scripted | None) -> ProviderRegistry:
    return ProviderRegistry(
        [
            Provider("twilio", "recording", twilio_recordings_of, twilio),
            Provider("vapi", "call", vapi_calls_of, vapi),
        ]
    )


def ours_left(table: InMemoryTable) -> set[tuple[str, str]]:
    return {(pk, sk) for pk, sk in table.items if pk.startswith(("CALL#", "CALLER#")) and "AUDIT" not in sk}


OUTCOMES = [
    # (Vapi's answer, the receipt's status and reason, a task left, exit-worthy `complete`)
    (ExternalOutcome.DELETED, "deleted", "", False, True),
    (ExternalOutcome.GONE, "gone", "", False, True),
    (ExternalOutcome.RETRY, "pending", "retry", True, False),
    (ExternalOutcome.FAILED, "pending", "failed", True, False),
]


@pytest.mark.parametrize(("answer", "status", "reason", "task_left", "complete"), OUTCOMES)
def test_our_copy_goes_at_once_whatever_the_provider_answers(
    answer: ExternalOutcome, status: str, reason: str, task_left: bool, complete: bool
) -> None:
    table, tasks = seeded_table(), InMemoryErasureTasks()
    result = eraser(table, registry(Scripted(), Scripted(answer)), tasks).erase(PHONE).as_dict()
    assert ours_left(table) == set() and result["erased_here"]
    assert result["items_deleted"] == {"content": 2, "metadata": 3, "recording": 1, "caller": 1}
    (vapi,) = [p for p in result["providers"] if p["provider"] == "vapi"]
    assert (vapi["target"], vapi["status"], vapi["reason"]) == ("vapi-1", status, reason)
    assert bool(tasks.tasks) is task_left and result["complete"] is complete
    if task_left:
        assert vapi["due_at"] == result["due_at"] and result["pending"] == [vapi]


def test_an_unconfigured_provider_is_skipped_never_pending() -> None:
    table, tasks = seeded_table(), InMemoryErasureTasks()
    result = eraser(table, registry(None, None), tasks).erase(PHONE).as_dict()
    assert result["complete"] and result["pending"] == [] and tasks.tasks == {}
    assert {(p["provider"], p["target"], p["reason"]) for p in result["skipped"]} == {
        ("twilio", recording_sid(1), "not configured"),
        ("vapi", "vapi-1", "not configured"),
    }
    assert ours_left(table) == set()


def test_the_task_is_written_before_the_items_that_point_at_it_are_deleted() -> None:
    table, tasks = seeded_table(), InMemoryErasureTasks()

    def crash(keys: Any) -> Any:
        raise StoreUnavailableError("store failed")

    table.delete = crash  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailableError):
        eraser(table, registry(Scripted(), Scripted()), tasks).erase(PHONE)
    assert {(t.provider, t.target) for t in tasks.tasks.values()} >= {("twilio", recording_sid(1))}


def test_past_the_inline_budget_tasks_wait_for_the_purge_and_it_finishes_them() -> None:
    table, tasks = seeded_table(), InMemoryErasureTasks()
    twilio, vapi = Scripted(), Scripted()
    result = eraser(table, registry(twilio, vapi), tasks, inline_budget_s=-1).erase(PHONE).as_dict()
    assert {(p["status"], p["reason"]) for p in result["providers"]} == {("pending", "queued")}
    assert twilio.asked == [] and len(tasks.tasks) == 2 and ours_left(table) == set()
    report = FollowUpRunner(tasks, registry(twilio, vapi), clock=lambda: NOW + 3600).run()
    assert (report.deleted, report.pending) == (2, 0) and tasks.tasks == {}


def test_a_provider_added_later_is_one_registry_entry() -> None:
    def retell_calls(pk: str, item: RawItem) -> Iterable[str]:
        value = item.get("retell_call_id", {}).get("S")
        return (value,) if value else ()

    table, tasks = seeded_table(), InMemoryErasureTasks()
    retell = Scripted(ExternalOutcome.RETRY)
    extended = ProviderRegistry(
        [*registry(Scripted(), Scripted()), Provider("retell", "call", retell_calls, retell)]
    )
    items = [{"pk": {"S": "CALL#vapi-1"}, "sk": {"S": "EVT#x"}, "retell_call_id": {"S": "rt-9"}}]
    assert [(p.name, t) for p, t in extended.targets("CALL#vapi-1", items)] == [
        ("vapi", "vapi-1"),
        ("retell", "rt-9"),
    ]
    with pytest.raises(ValueError, match="unique"):
        ProviderRegistry([*extended, Provider("retell", "call", retell_calls, None)])
    assert tasks.tasks == {} and table.keys()


@pytest.mark.parametrize("days", [0, 31, -5])
def test_a_deadline_outside_a_month_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="1 to 30"):
        eraser(seeded_table(), registry(None, None), InMemoryErasureTasks()).erase(PHONE, deadline_days=days)
