"""Erasure on request (right to erasure): everything about one caller, found by the keyed hash of the number.

Our copy goes at once and always; what providers hold is deleted by follow-up tasks. In order:

  0. Refuse what is not a phone number or SIP address (`caller_id`), and a pepper whose keyed fingerprint
     matches none of those stored by the webhooks (voicetrail.storage.pepper): with a wrong pepper the
     lookup would find nothing and "0 calls, complete" would be a false certificate.
  1. Hash the number with the pepper (`CallerHasher`); query the sparse CallerIndex for the caller's call
     partitions and per-caller items (the number itself is never stored or logged).
  2. Per call: read its items (events, summary, recording pointers, name memory, consent and live state,
     its day-index entries), and ask each provider of the registry (voicetrail.domain.erasure.providers)
     what it holds for them. For each configured provider target a follow-up task is written first
     (voicetrail.domain.erasure.followups: a crash after this point leaves a task, never an orphan at a
     provider); an unconfigured provider's targets are reported `skipped: not configured`. Then every item
     of the call is deleted, in batches of <= 25, whatever the providers will answer.
  3. The caller's own items (a returning caller's consent decision) are deleted.
  4. Each task is tried once inline, within `inline_budget_s`: deleted or gone closes it; otherwise it stays
     pending, with its reason and due date, and the scheduled purge retries it until done (alarm when
     overdue).
  5. Audit records (`AUDIT#...`) are kept: counts and codes only. Each erased call's chain gets an
     `erasure` record, and the `SYS#erasure` chain one receipt per request (request id and counts).

The receipt (`ErasureResult`) says what was erased here (per class), what is pending at which provider
(until when) and what was skipped, and `complete` is true only when nothing is pending anywhere. A repeat
finds nothing left and reports zero counts; `dry_run` reports what would be erased and changes nothing.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicetrail.domain.audit.trail import AuditKind, AuditTrail
from voicetrail.domain.callers import CallerHasher, PepperFingerprints, caller_id
from voicetrail.domain.calls.ports import is_kept_audio
from voicetrail.domain.erasure.deleters import recording_ref
from voicetrail.domain.erasure.followups import DAY, DEFAULT_DEADLINE_DAYS, ErasureTask, ErasureTasks
from voicetrail.domain.erasure.ports import CallerItems
from voicetrail.domain.erasure.providers import Provider, ProviderRegistry
from voicetrail.domain.identity import CALL_PREFIX, CALLER_PREFIX, call_key_of_pk
from voicetrail.domain.items import BATCH_LIMIT, ItemKey, RawItem
from voicetrail.errors import PepperMismatchError
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver

ERASURE_CHAIN = "erasure"
MAX_DEADLINE_DAYS = 30  # GDPR's month: a follow-up due later would be overdue by law


def _iso(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


@dataclass(frozen=True)
class ProviderWork:
    """What became of one target at a provider: deleted, gone, pending (until `due_at`) or skipped."""

    call_id: str
    provider: str
    target: str
    status: str  # deleted | gone | pending | skipped
    reason: str = ""  # pending: queued | retry | failed; skipped: not configured
    due_at: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "call_id": self.call_id,
            "provider": self.provider,
            "target": self.target,
            "status": self.status,
            "reason": self.reason,
        }
        if self.status == "pending":
            out["due_at"] = _iso(self.due_at)
        return out


@dataclass(frozen=True)
class PendingWork:
    """Something of ours that this request could not remove (a failed delete, hashes of another pepper)."""

    call_id: str
    provider: str  # dynamodb | pepper
    target: str
    reason: str  # delete_failed | other_pepper

    def as_dict(self) -> dict[str, str]:
        return {
            "call_id": self.call_id,
            "provider": self.provider,
            "target": self.target,
            "reason": self.reason,
        }


@dataclass
class PlannedCall:
    """What erasing one call touches (the --dry-run answer, and the plan the erasure follows)."""

    call_id: str
    items: Counter[str] = field(default_factory=Counter)
    providers: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "items": dict(sorted(self.items.items())),
            "providers": self.providers,
            "twilio_recordings": self.providers.get("twilio", []),
            "vapi_calls": self.providers.get("vapi", []),
        }


@dataclass
class ErasureResult:
    """The receipt: what one request erased here, what is pending at which provider, what was skipped."""

    request_id: str
    dry_run: bool = False
    deadline_days: int = DEFAULT_DEADLINE_DAYS
    due_at: int = 0
    calls_found: int = 0
    calls_erased: int = 0
    items_deleted: Counter[str] = field(default_factory=Counter)
    items_failed: int = 0
    audio_deleted: int = 0  # kept-audio pointers erased, each with its S3 object
    caller_items: int = 0
    here: list[PendingWork] = field(default_factory=list)
    providers: list[ProviderWork] = field(default_factory=list)
    plan: list[PlannedCall] = field(default_factory=list)

    def _with(self, *statuses: str) -> list[ProviderWork]:
        return [p for p in self.providers if p.status in statuses]

    @property
    def erased_here(self) -> bool:
        """Every item of ours that holds the caller's data is gone (audit records hold none)."""
        return not self.dry_run and self.calls_erased == self.calls_found and not self.here

    @property
    def pending_calls(self) -> int:
        return len({p.call_id for p in self._with("pending")} | {p.call_id for p in self.here})

    @property
    def complete(self) -> bool:
        """Erased here and nothing pending at any provider (skipped providers are listed, not pending)."""
        return self.erased_here and not self._with("pending")

    def deleted_at(self, provider: str) -> int:
        return sum(1 for p in self._with("deleted", "gone") if p.provider == provider)

    def as_dict(self) -> dict[str, Any]:
        pending = self._with("pending")
        return {
            "request_id": self.request_id,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "erased_here": self.erased_here,
            "calls_found": self.calls_found,
            "calls_erased": self.calls_erased,
            "pending_calls": self.pending_calls,
            "items_deleted": dict(self.items_deleted),
            "items_deleted_total": sum(self.items_deleted.values()),
            "items_failed": self.items_failed,
            "audio_objects_deleted": self.audio_deleted,
            "deadline_days": self.deadline_days,
            "due_at": _iso(self.due_at) if pending else None,
            "providers": [p.as_dict() for p in self.providers],
            "pending": [p.as_dict() for p in self.here] + [p.as_dict() for p in pending],
            "skipped": [p.as_dict() for p in self._with("skipped")],
            "deleted_at_providers": {
                name: self.deleted_at(name) for name in dict.fromkeys(p.provider for p in self.providers)
            },
            "twilio_recordings_deleted": self.deleted_at("twilio"),
            "vapi_calls_deleted": self.deleted_at("vapi"),
            "calls": [c.as_dict() for c in self.plan],
        }


class ErasureService:
    """`trusted_pepper`: the pepper is the deployment's own (the operator route), so when the table has no
    fingerprint yet it records one. A pepper handed in by an operator (the CLI) must match a stored one."""

    def __init__(
        self,
        items: CallerItems,
        *,
        pepper: SecretResolver,
        fingerprints: PepperFingerprints,
        providers: ProviderRegistry,
        tasks: ErasureTasks,
        audit: AuditTrail,
        trusted_pepper: bool = False,
        metrics: MetricsRecorder | None = None,
        clock: Callable[[], float] = time.time,
        deadline_days: int = DEFAULT_DEADLINE_DAYS,
        inline_budget_s: float = 10.0,
    ) -> None:
        self._items = items
        self._pepper = pepper
        self._providers = providers
        self._tasks = tasks
        self._audit = audit
        self._fingerprints = fingerprints
        self._trusted_pepper = trusted_pepper
        self._metrics = metrics
        self._clock = clock
        self._deadline_days = deadline_days
        self._inline_budget_s = inline_budget_s

    def erase(self, phone: str, *, dry_run: bool = False, deadline_days: int | None = None) -> ErasureResult:
        """Raises InvalidCallerIdError (400), PepperMismatchError (409), StoreUnavailableError (503),
        ValueError for a deadline outside 1..30 days."""
        canonical = caller_id(phone)
        days = self._deadline_days if deadline_days is None else deadline_days
        if not 1 <= days <= MAX_DEADLINE_DAYS:
            raise ValueError(f"the deadline must be 1 to {MAX_DEADLINE_DAYS} days")
        now = self._clock()
        result = ErasureResult(
            request_id=uuid.uuid4().hex, dry_run=dry_run, deadline_days=days, due_at=int(now) + days * DAY
        )
        hasher = CallerHasher(self._pepper.values()[0])
        # A store failure raises StoreUnavailableError (the items port): the request is repeated as a whole.
        other_peppers = self._check_pepper(hasher)
        pks, caller_keys = self._caller_items(hasher.hash(canonical))
        result.calls_found = len(pks)
        tasks: dict[tuple[str, str], tuple[Provider, ErasureTask]] = {}
        for pk in pks:
            self._erase_call(pk, result, tasks, now)
        result.caller_items = len(caller_keys)
        if caller_keys and not dry_run:
            self._delete(caller_keys, dict.fromkeys(caller_keys, "caller"), result, "caller")
        if other_peppers:
            # Hashes made with another pepper cannot be found with this one: nothing can certify them.
            result.here.append(PendingWork("*", "pepper", f"{other_peppers} other peppers", "other_pepper"))
        if dry_run:
            return result
        self._first_attempts(list(tasks.values()), result)
        self._audit.append_system(ERASURE_CHAIN, AuditKind.ERASURE, self._receipt(result), now)
        if self._metrics is not None:
            self._metrics.count("ErasureRequests", 1)
            self._metrics.count("ErasureItemsDeleted", sum(result.items_deleted.values()))
            self._metrics.count("ErasurePendingCalls", result.pending_calls)
        return result

    def _check_pepper(self, hasher: CallerHasher) -> int:
        """Raises PepperMismatchError unless hashes were made with this pepper; the number of others."""
        mine = hasher.fingerprint()
        known = self._fingerprints.known()
        if mine in known:
            return len(known) - 1
        if self._trusted_pepper and not known:
            self._fingerprints.record(mine)
            return 0
        if not known:
            raise PepperMismatchError(
                "the table has no pepper fingerprint yet (written when a call is stored): "
                "erase through the operator route (--api-url / --stack), which uses the deployment's pepper"
            )
        raise PepperMismatchError(
            "the pepper does not match the one this deployment hashes callers with: "
            "check --pepper-ref (stack output HashPepperSecretArn); nothing was erased or certified"
        )

    def _caller_items(self, caller_hash: str) -> tuple[list[str], list[ItemKey]]:
        pks: dict[str, None] = {}
        caller_keys: list[ItemKey] = []
        for item in self._items.caller_items(caller_hash):
            pk = item["pk"]["S"]
            if pk.startswith(CALL_PREFIX):
                pks.setdefault(pk, None)
            elif pk.startswith(CALLER_PREFIX):
                caller_keys.append(ItemKey.of(item))
        return list(pks), caller_keys

    def _with_pointers(self, items: list[RawItem]) -> list[RawItem]:
        """A recording item whose projection lacks its SID names it in its body: read it whole."""
        out = []
        for item in items:
            ref = recording_ref(item)
            if item.get("retention_class", {}).get("S") == "recording" and not ref.twilio_recording_sid:
                item = self._items.get(ItemKey.of(item)) or item
            out.append(item)
        return out

    def _erase_call(
        self,
        pk: str,
        result: ErasureResult,
        tasks: dict[tuple[str, str], tuple[Provider, ErasureTask]],
        now: float,
    ) -> None:
        call_id = call_key_of_pk(pk)
        items = self._items.call_items(pk)  # audit records are not among them: they stay
        if not items:
            # The index lags a deletion: nothing of the call remains, so it counts as erased.
            result.calls_erased += not result.dry_run
            return
        items = self._with_pointers(items)
        targets = self._providers.targets(pk, items)
        classes = {ItemKey.of(i): i.get("retention_class", {}).get("S", "unknown") for i in items}
        plan = PlannedCall(call_id, Counter(classes.values()))
        for provider, target in targets:
            plan.providers.setdefault(provider.name, []).append(target)
        result.plan.append(plan)
        if result.dry_run:
            return
        for provider, target in targets:
            if not provider.configured:
                result.providers.append(
                    ProviderWork(call_id, provider.name, target, "skipped", "not configured")
                )
            elif (provider.name, target) not in tasks:
                task = ErasureTask(provider.name, target, call_id, result.request_id, int(now), result.due_at)
                self._tasks.add(task)  # before the items that point at the target are deleted
                tasks[(provider.name, target)] = (provider, task)
        deleted = self._delete(sorted(classes), classes, result, call_id)
        if deleted is None:
            return
        result.calls_erased += 1
        details: dict[str, int | str] = {f"deleted_{k}": v for k, v in sorted(deleted.items())}
        details["providers_skipped"] = sum(1 for p, _ in targets if not p.configured)
        details["providers_queued"] = sum(1 for p, _ in targets if p.configured)
        audio = sum(1 for key in classes if is_kept_audio(key.sk))
        if audio:
            details["audio_objects_deleted"] = audio
            result.audio_deleted += audio
        self._audit.append(call_id, AuditKind.ERASURE, details, now)

    def _delete(
        self, keys: list[ItemKey], classes: dict[ItemKey, str], result: ErasureResult, call_id: str
    ) -> Counter[str] | None:
        """Delete the keys; the counts by class, or None when some could not be deleted (listed)."""
        deleted: Counter[str] = Counter()
        failed = 0
        for start in range(0, len(keys), BATCH_LIMIT):
            outcome = self._items.delete(keys[start : start + BATCH_LIMIT])
            deleted.update(classes[k] for k in outcome.deleted)
            failed += len(outcome.failed)
        result.items_deleted.update(deleted)
        result.items_failed += failed
        if failed:
            # Still findable through the CallerIndex (or the call partition): a repeat deletes the rest.
            result.here.append(PendingWork(call_id, "dynamodb", f"{failed} items", "delete_failed"))
            return None
        return deleted

    def _first_attempts(self, tasks: list[tuple[Provider, ErasureTask]], result: ErasureResult) -> None:
        """One try per task now, within the inline budget; the rest wait for the scheduled retries."""
        started = self._clock()
        for provider, task in tasks:
            if provider.delete is None or self._clock() - started > self._inline_budget_s:
                work = ProviderWork(
                    task.call_id, task.provider, task.target, "pending", "queued", task.due_at
                )
                result.providers.append(work)
                continue
            outcome = provider.delete(task.target)
            if outcome.ok:
                self._tasks.done(task)
                result.providers.append(ProviderWork(task.call_id, task.provider, task.target, outcome.value))
            else:
                self._tasks.update(task.attempted(outcome.value, self._clock()))
                result.providers.append(
                    ProviderWork(
                        task.call_id, task.provider, task.target, "pending", outcome.value, task.due_at
                    )
                )

    @staticmethod
    def _receipt(result: ErasureResult) -> dict[str, int | str]:
        return {
            "request_id": result.request_id,
            "complete": int(result.complete),
            "erased_here": int(result.erased_here),
            "calls_found": result.calls_found,
            "calls_erased": result.calls_erased,
            "pending_calls": result.pending_calls,
            "items_deleted": sum(result.items_deleted.values()),
            "providers_deleted": len(result._with("deleted", "gone")),
            "providers_pending": len(result._with("pending")),
            "providers_skipped": len(result._with("skipped")),
            "deadline_days": result.deadline_days,
            **({"audio_objects_deleted": result.audio_deleted} if result.audio_deleted else {}),
        }
