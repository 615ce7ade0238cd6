"""Erasure on request (right to erasure): everything about one caller, found by the keyed hash of the number.

  0. Refuse what is not a phone number or SIP address (`caller_id`), and a pepper whose keyed fingerprint
     matches none of those stored by the webhooks (voicetrail.storage.pepper): with a wrong pepper the
     lookup would find nothing and "0 calls, complete" would be a false certificate.
  1. Hash the number with the pepper (`CallerHasher`); query the sparse CallerIndex for the caller's
     call partitions (the number itself is never stored or logged).
  2. Per call: delete its recordings at Twilio (pointer items) and the call at Vapi (`DELETE /call/{id}`
     for Vapi calls and for `a_vapi_call_id` pointers). Only when every external delete succeeded (or was
     already done) are the call's items deleted: content, metadata and recording pointers alike, in
     batches of <= 25. A call with a pending external delete keeps all its items, so a retry finds it
     again through the CallerIndex; the result says `complete: false` and lists, per call, the provider
     and the reason (`pending`). `complete: true` means every call found was erased and nothing is pending.
  3. Audit records (`AUDIT#...`) are kept: they hold counts and codes only. Each erased call's chain gets
     an `erasure` record, and the `SYS#erasure` chain gets one receipt per request (request id and counts:
     no number, no hash).

The request is idempotent: a repeat finds nothing left and reports zero counts. `dry_run` reports what
would be erased (per call: items by class, Twilio recordings, Vapi calls) and changes nothing.
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
from voicetrail.domain.erasure.deleters import (
    CallArtifactDeleter,
    ExternalDeletions,
    RecordingDeleter,
    RecordingRef,
    recording_ref,
    vapi_call_id_of_pk,
)
from voicetrail.domain.erasure.ports import CallerItems
from voicetrail.domain.items import BATCH_LIMIT, ItemKey
from voicetrail.errors import PepperMismatchError
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.infra.secrets import SecretResolver
from voicetrail.storage.table import AUDIT_SK_PREFIX, CALL_PREFIX, CALLER_PREFIX, call_key_of_pk

ERASURE_CHAIN = "erasure"


@dataclass(frozen=True)
class PendingWork:
    """Something that still holds the caller's data after this request, and why."""

    call_id: str
    provider: str  # twilio | vapi | dynamodb | pepper
    target: str  # recording SID, Vapi call id, or what is left in the table
    reason: str  # retry | unconfigured | failed | delete_failed | other_pepper

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
    twilio_recordings: list[str] = field(default_factory=list)
    vapi_calls: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "items": dict(sorted(self.items.items())),
            "twilio_recordings": self.twilio_recordings,
            "vapi_calls": self.vapi_calls,
        }


@dataclass
class ErasureResult:
    """What one erasure request found, deleted and left in place."""

    request_id: str
    dry_run: bool = False
    calls_found: int = 0
    calls_erased: int = 0
    items_deleted: Counter[str] = field(default_factory=Counter)
    items_failed: int = 0
    twilio_recordings_deleted: int = 0
    vapi_calls_deleted: int = 0
    caller_items: int = 0
    pending: list[PendingWork] = field(default_factory=list)
    plan: list[PlannedCall] = field(default_factory=list)

    @property
    def pending_calls(self) -> int:
        return len({p.call_id for p in self.pending if p.call_id not in ("caller", "*")})

    @property
    def complete(self) -> bool:
        """Every known copy is gone: each call found was erased, nothing is pending anywhere."""
        if self.dry_run:
            return False
        return self.calls_erased == self.calls_found and not self.pending and self.items_failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "calls_found": self.calls_found,
            "calls_erased": self.calls_erased,
            "pending_calls": self.pending_calls,
            "pending": [p.as_dict() for p in self.pending],
            "items_deleted": dict(self.items_deleted),
            "items_deleted_total": sum(self.items_deleted.values()),
            "items_failed": self.items_failed,
            "twilio_recordings_deleted": self.twilio_recordings_deleted,
            "vapi_calls_deleted": self.vapi_calls_deleted,
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
        recordings: RecordingDeleter,
        calls: CallArtifactDeleter,
        audit: AuditTrail,
        trusted_pepper: bool = False,
        metrics: MetricsRecorder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._items = items
        self._pepper = pepper
        self._recordings = recordings
        self._calls = calls
        self._audit = audit
        self._fingerprints = fingerprints
        self._trusted_pepper = trusted_pepper
        self._metrics = metrics
        self._clock = clock

    def erase(self, phone: str, *, dry_run: bool = False) -> ErasureResult:
        """Raises InvalidCallerIdError (400), PepperMismatchError (409), StoreUnavailableError (503)."""
        canonical = caller_id(phone)
        now = self._clock()
        result = ErasureResult(request_id=uuid.uuid4().hex, dry_run=dry_run)
        hasher = CallerHasher(self._pepper.values()[0])
        # A store failure raises StoreUnavailableError (the items port): the request is repeated as a whole.
        other_peppers = self._check_pepper(hasher)
        pks, caller_keys = self._caller_items(hasher.hash(canonical))
        result.calls_found = len(pks)
        external = ExternalDeletions(self._recordings, self._calls)
        for pk in pks:
            self._erase_call(pk, external, result, now)
        result.caller_items = len(caller_keys)
        if caller_keys and not dry_run:
            self._erase_caller_items(caller_keys, result)
        if other_peppers:
            # Hashes made with another pepper cannot be found with this one: nothing can certify them.
            result.pending.append(
                PendingWork("*", "pepper", f"{other_peppers} other peppers", "other_pepper")
            )
        result.twilio_recordings_deleted = external.twilio_deleted
        result.vapi_calls_deleted = external.vapi_deleted
        if dry_run:
            return result
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

    def _erase_caller_items(self, caller_keys: list[ItemKey], result: ErasureResult) -> None:
        if result.pending:
            # Per-caller records (a returning caller's consent decision) go last, so a retry of an
            # incomplete erasure still finds the caller.
            result.pending.append(
                PendingWork("caller", "dynamodb", f"{len(caller_keys)} items", "kept_until_calls_erased")
            )
            return
        for start in range(0, len(caller_keys), BATCH_LIMIT):
            outcome = self._items.delete(caller_keys[start : start + BATCH_LIMIT])
            result.items_deleted["caller"] += len(outcome.deleted)
            result.items_failed += len(outcome.failed)
            if outcome.failed:
                result.pending.append(
                    PendingWork("caller", "dynamodb", f"{len(outcome.failed)} items", "delete_failed")
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

    def _erase_call(self, pk: str, external: ExternalDeletions, result: ErasureResult, now: float) -> None:
        call_id = call_key_of_pk(pk)
        items = [i for i in self._items.call_items(pk) if not i["sk"]["S"].startswith(AUDIT_SK_PREFIX)]
        if not items:
            # The index lags a deletion: nothing of the call remains, so it counts as erased.
            result.calls_erased += not result.dry_run
            return
        refs = [RecordingRef(vapi_call_id=vapi_call_id_of_pk(pk))]
        for item in items:
            ref = recording_ref(item)  # SUMMARY items carry vapi_call_id, REC# items recording_sid
            if item.get("retention_class", {}).get("S") == "recording" and not ref.twilio_recording_sid:
                full = self._items.get(ItemKey.of(item))
                ref = recording_ref(full or item)
            refs.append(ref)
        classes = {ItemKey.of(i): i.get("retention_class", {}).get("S", "unknown") for i in items}
        plan = PlannedCall(call_id, Counter(classes.values()))
        for ref in refs:
            if ref.twilio_recording_sid and ref.twilio_recording_sid not in plan.twilio_recordings:
                plan.twilio_recordings.append(ref.twilio_recording_sid)
            if ref.vapi_call_id and ref.vapi_call_id not in plan.vapi_calls:
                plan.vapi_calls.append(ref.vapi_call_id)
        result.plan.append(plan)
        if result.dry_run:
            return
        pending = [
            PendingWork(call_id, provider, target, outcome.value)
            for ref in refs
            if not ref.empty
            for provider, target, outcome in external.delete_each(ref)
            if not outcome.ok
        ]
        if pending:
            # The call keeps all its items, so a retry finds it again through the CallerIndex.
            result.pending.extend(dict.fromkeys(pending))
            return
        keys = sorted(classes)
        deleted: Counter[str] = Counter()
        failed = 0
        for start in range(0, len(keys), BATCH_LIMIT):
            outcome = self._items.delete(keys[start : start + BATCH_LIMIT])
            deleted.update(classes[k] for k in outcome.deleted)
            failed += len(outcome.failed)
        result.items_deleted.update(deleted)
        result.items_failed += failed
        if failed:
            result.pending.append(PendingWork(call_id, "dynamodb", f"{failed} items", "delete_failed"))
            return
        result.calls_erased += 1
        details: dict[str, int | str] = {f"deleted_{k}": v for k, v in sorted(deleted.items())}
        self._audit.append(call_id, AuditKind.ERASURE, details, now)

    @staticmethod
    def _receipt(result: ErasureResult) -> dict[str, int | str]:
        return {
            "request_id": result.request_id,
            "complete": int(result.complete),
            "calls_found": result.calls_found,
            "calls_erased": result.calls_erased,
            "pending_calls": result.pending_calls,
            "items_deleted": sum(result.items_deleted.values()),
            "twilio_recordings_deleted": result.twilio_recordings_deleted,
            "vapi_calls_deleted": result.vapi_calls_deleted,
        }
