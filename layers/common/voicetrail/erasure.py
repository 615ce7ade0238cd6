"""Erasure on request (right to erasure): everything about one caller, found by the keyed hash of the number.

  1. Hash the number with the pepper (`CallerHasher`); query the sparse CallerIndex for the caller's
     call partitions (the number itself is never stored or logged).
  2. Per call: delete its recordings at Twilio (pointer items) and the call at Vapi (`DELETE /call/{id}`
     for Vapi calls and for `a_vapi_call_id` pointers). Only when every external delete succeeded (or was
     already done) are the call's items deleted: content, metadata and recording pointers alike, in
     batches of <= 25. A call with a pending external delete keeps all its items, so a retry finds it
     again through the CallerIndex; the result says `complete: false`.
  3. Audit records (`AUDIT#...`) are kept: they hold counts and codes only. Each erased call's chain gets
     an `erasure` record, and the `SYS#erasure` chain gets one receipt per request (request id and counts:
     no number, no hash).

The request is idempotent: a repeat finds nothing left and reports zero counts.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicetrail.audit import AuditKind, AuditTrail
from voicetrail.errors import BadRequestError
from voicetrail.hashing import CallerHasher
from voicetrail.observability import MetricsRecorder
from voicetrail.retention_purge.external import (
    CallArtifactDeleter,
    ExternalDeletions,
    RecordingDeleter,
    RecordingRef,
    recording_ref,
    vapi_call_id_of_pk,
)
from voicetrail.secrets import SecretResolver
from voicetrail.storage.model import AUDIT_SK_PREFIX, CALL_PREFIX, CALLER_PREFIX, call_key_of_pk
from voicetrail.storage.ports import BATCH_LIMIT, CallerItems, ItemKey

ERASURE_CHAIN = "erasure"


@dataclass
class ErasureResult:
    request_id: str
    calls_found: int = 0
    calls_erased: int = 0
    pending_calls: int = 0
    items_deleted: Counter[str] = field(default_factory=Counter)
    items_failed: int = 0
    twilio_recordings_deleted: int = 0
    vapi_calls_deleted: int = 0

    @property
    def complete(self) -> bool:
        return self.pending_calls == 0 and self.items_failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "complete": self.complete,
            "calls_found": self.calls_found,
            "calls_erased": self.calls_erased,
            "pending_calls": self.pending_calls,
            "items_deleted": dict(self.items_deleted),
            "items_deleted_total": sum(self.items_deleted.values()),
            "items_failed": self.items_failed,
            "twilio_recordings_deleted": self.twilio_recordings_deleted,
            "vapi_calls_deleted": self.vapi_calls_deleted,
        }


class ErasureService:
    def __init__(
        self,
        items: CallerItems,
        *,
        pepper: SecretResolver,
        recordings: RecordingDeleter,
        calls: CallArtifactDeleter,
        audit: AuditTrail,
        metrics: MetricsRecorder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._items = items
        self._pepper = pepper
        self._recordings = recordings
        self._calls = calls
        self._audit = audit
        self._metrics = metrics
        self._clock = clock

    def erase(self, phone: str) -> ErasureResult:
        if not isinstance(phone, str) or not 3 <= len(phone.strip()) <= 64:
            raise BadRequestError("phone must be a phone number or SIP address")
        now = self._clock()
        result = ErasureResult(request_id=uuid.uuid4().hex)
        caller_hash = CallerHasher(self._pepper.values()[0]).hash(phone)
        external = ExternalDeletions(self._recordings, self._calls)
        # A store failure raises StoreUnavailableError (the items port): the request is repeated as a whole.
        pks, caller_keys = self._caller_items(caller_hash)
        result.calls_found = len(pks)
        for pk in pks:
            self._erase_call(pk, external, result, now)
        if caller_keys and result.pending_calls == 0:
            # Per-caller records (e.g. a returning caller's consent decision) go last, so a retry of an
            # incomplete erasure still finds the caller.
            outcome = self._items.delete(caller_keys[:BATCH_LIMIT])
            result.items_deleted["caller"] += len(outcome.deleted)
            result.items_failed += len(outcome.failed)
        result.twilio_recordings_deleted = external.twilio_deleted
        result.vapi_calls_deleted = external.vapi_deleted
        self._audit.append_system(ERASURE_CHAIN, AuditKind.ERASURE, self._receipt(result), now)
        if self._metrics is not None:
            self._metrics.count("ErasureRequests", 1)
            self._metrics.count("ErasureItemsDeleted", sum(result.items_deleted.values()))
            self._metrics.count("ErasurePendingCalls", result.pending_calls)
        return result

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
        items = [i for i in self._items.call_items(pk) if not i["sk"]["S"].startswith(AUDIT_SK_PREFIX)]
        if not items:
            return
        refs = [RecordingRef(vapi_call_id=vapi_call_id_of_pk(pk))]
        for item in items:
            ref = recording_ref(item)  # SUMMARY items carry vapi_call_id, REC# items recording_sid
            if item.get("retention_class", {}).get("S") == "recording" and not ref.twilio_recording_sid:
                full = self._items.get(ItemKey.of(item))
                ref = recording_ref(full or item)
            refs.append(ref)
        if not all(external.delete(ref).ok for ref in refs if not ref.empty):
            result.pending_calls += 1
            return
        classes = {ItemKey.of(i): i.get("retention_class", {}).get("S", "unknown") for i in items}
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
            result.pending_calls += 1
            return
        result.calls_erased += 1
        details: dict[str, int | str] = {f"deleted_{k}": v for k, v in sorted(deleted.items())}
        self._audit.append(call_key_of_pk(pk), AuditKind.ERASURE, details, now)

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
