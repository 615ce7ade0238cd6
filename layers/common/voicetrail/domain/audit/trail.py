"""Append-only, hash-chained audit trail of compliance events.

One chain per call (pk `CALL#<call id>`) and one per system job (pk `SYS#purge`, `SYS#erasure`).
A record lives at sk `AUDIT#<seq:08d>` and holds the SHA-256 of its predecessor. It is written with
`attribute_not_exists(pk)`, so each link has exactly one successor: two concurrent writers race for the
same slot, one wins, the other re-reads the tail and retries. Records carry retention class `audit`
(their own period) and the usual expiry attributes, so the purge removes them when they expire; the
oldest surviving record of a chain keeps `prev_expires_at`, which lets `verify` tell a head truncated by
retention from a deleted record.

Details are counts and codes only (`dict[str, int | str]` with short code-like strings): never caller
content. `validate_details` enforces it.

The port is `AuditStore` (below); the item (`audit record`, with its AuditIndex keys)
is described in voicetrail.storage.table, the adapters are `storage.audit` (DynamoDB) and
`tests.support.memory.InMemoryAuditStore`.

Day markers (item `audit day marker`), one per UTC day with records, written once per process and day:
`chains_since` reads them first and queries the AuditIndex only for those days. Exports (`as_dict`)
carry every field the hash covers (pk, prev_expires_at, hash_version), so `record_from_export` rebuilds
a record and an auditor can re-verify offline.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from voicetrail.domain.identity import CALL_PREFIX, call_pk
from voicetrail.domain.identity import system_pk as system_pk
from voicetrail.domain.retention.classes import DAY, RetentionClass, RetentionPolicy
from voicetrail.errors import StoreUnavailableError

GENESIS = "0" * 64
HASH_VERSION = 1

_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_VALUE = re.compile(r"[A-Za-z0-9_.:\-]{0,64}")
_NUMBERISH = re.compile(r"[\d.:\-]+")
_CHAIN = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


class AuditKind(StrEnum):
    CONSENT_ASKED = "consent_asked"
    CONSENT_GIVEN = "consent_given"
    CONSENT_DENIED = "consent_denied"
    PII_REDACTED = "pii_redacted"
    ESCALATION = "escalation"
    TRANSFER = "transfer"
    PURGE = "purge"
    ERASURE = "erasure"
    PREDIAL_DECISION = "predial_decision"
    DNC_CHANGE = "dnc_change"


class AuditDetailsError(ValueError):
    """Details that could carry caller content. The message names the key, never the value."""


def validate_details(details: Mapping[str, int | str]) -> dict[str, int | str]:
    """Counts and short codes only: no spaces, '+', '@', free text, or number-like strings of 7+ digits."""
    clean: dict[str, int | str] = {}
    if len(details) > 64:
        raise AuditDetailsError("too many detail keys")
    for key, value in details.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise AuditDetailsError("detail keys must be snake_case identifiers")
        if isinstance(value, bool):
            clean[key] = int(value)
        elif isinstance(value, int):
            clean[key] = value
        elif isinstance(value, str):
            digits = sum(c.isdigit() for c in value)
            if not _VALUE.fullmatch(value) or (_NUMBERISH.fullmatch(value) and digits >= 7):
                raise AuditDetailsError(f"detail {key!s} is not a short code")
            clean[key] = value
        else:
            raise AuditDetailsError(f"detail {key!s} must be an int or a short code")
    return clean


@dataclass(frozen=True)
class AuditRecord:
    """One link of a hash chain: its content, the previous link's hash and its own."""

    pk: str
    seq: int
    kind: str
    at_ms: int
    details: dict[str, int | str]
    prev_hash: str
    prev_expires_at: int
    expires_at: int
    hash: str = ""

    @property
    def chain(self) -> str:
        return self.pk.removeprefix(CALL_PREFIX) if self.pk.startswith(CALL_PREFIX) else self.pk

    def computed_hash(self) -> str:
        canonical = json.dumps(
            [
                HASH_VERSION,
                self.pk,
                self.seq,
                self.kind,
                self.at_ms,
                sorted(self.details.items()),
                self.prev_hash,
                self.prev_expires_at,
                self.expires_at,
            ],
            separators=(",", ":"),
            ensure_ascii=True,
        )
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()

    def sealed(self) -> AuditRecord:
        return replace(self, hash=self.computed_hash())

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "pk": self.pk,
            "seq": self.seq,
            "kind": self.kind,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at_ms / 1000)),
            "at_ms": self.at_ms,
            "details": dict(sorted(self.details.items())),
            "prev_hash": self.prev_hash,
            "prev_expires_at": self.prev_expires_at,
            "expires_at": self.expires_at,
            "hash_version": HASH_VERSION,
            "hash": self.hash,
        }


# Every field `computed_hash` needs, so an export or a bundle can be re-verified offline.
EXPORT_COLUMNS = [
    "chain",
    "pk",
    "seq",
    "kind",
    "at",
    "at_ms",
    "details",
    "prev_hash",
    "prev_expires_at",
    "expires_at",
    "hash_version",
    "hash",
]


class ExportFormatError(ValueError):
    """An exported record lacks a field or has one of the wrong type (says which, never the value)."""


def record_from_export(row: Mapping[str, Any]) -> AuditRecord:
    """An AuditRecord from an exported row (JSON object or CSV row, where every value is a string)."""
    try:
        raw_details = row["details"]
        details_map = json.loads(raw_details) if isinstance(raw_details, str) else raw_details
        if not isinstance(details_map, dict):
            raise ExportFormatError("details is not an object")
        details: dict[str, int | str] = {
            str(k): v if isinstance(v, int) and not isinstance(v, bool) else str(v)
            for k, v in details_map.items()
        }
        version = int(row.get("hash_version", HASH_VERSION))
        if version != HASH_VERSION:
            raise ExportFormatError(f"hash_version {version} is not supported by this version")
        return AuditRecord(
            pk=str(row["pk"]),
            seq=int(row["seq"]),
            kind=str(row["kind"]),
            at_ms=int(row["at_ms"]),
            details=details,
            prev_hash=str(row["prev_hash"]),
            prev_expires_at=int(row["prev_expires_at"]),
            expires_at=int(row["expires_at"]),
            hash=str(row["hash"]),
        )
    except KeyError as exc:
        raise ExportFormatError(f"a record lacks the field {exc.args[0]!s}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ExportFormatError):
            raise
        raise ExportFormatError("a record has a field of the wrong type") from None


class AuditStore(Protocol):
    """The hash-chained audit trail: one chain per call or system job (voicetrail.domain.audit.trail)."""

    def tail(self, pk: str) -> AuditRecord | None:
        """The chain's last record (consistent read). Raises StoreUnavailableError."""
        ...

    def put_new(self, record: AuditRecord) -> bool:
        """Write the record if its slot is free; False when another writer took it."""
        ...

    def chain(self, pk: str) -> list[AuditRecord]:
        """Every record of a chain, in seq order."""
        ...

    def chains_on_day(self, day_epoch_s: int, *, since_ms: int) -> list[str]:
        """pks of chains with a record on that UTC day at or after `since_ms` (AuditIndex order)."""
        ...

    def mark_day(self, day_epoch_s: int, *, expires_at: int) -> None:
        """Remember that this UTC day has audit records (idempotent)."""
        ...

    def days_with_records(self, since_s: float, until_s: float) -> list[int]:
        """Start (epoch seconds) of every UTC day in [since, until] that has audit records: one read."""
        ...


class AuditTrail:
    """Appends records. `append(call_id, kind, details, now)` is the API the webhook paths call."""

    def __init__(
        self,
        store: AuditStore,
        *,
        retention: RetentionPolicy | None = None,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._retention = retention or RetentionPolicy()
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._rng = random.Random()  # noqa: S311 - jitter, not security
        self._marked_days: set[int] = set()

    def append(
        self, call_id: str, kind: AuditKind, details: Mapping[str, int | str], now: float
    ) -> AuditRecord:
        """Append to the call's chain. Raises AuditDetailsError (bad details) or StoreUnavailableError."""
        return self._append(call_pk(checked_chain(call_id)), kind, details, now)

    def append_system(
        self, name: str, kind: AuditKind, details: Mapping[str, int | str], now: float
    ) -> AuditRecord:
        return self._append(system_pk(checked_chain(name)), kind, details, now)

    def _append(self, pk: str, kind: AuditKind, details: Mapping[str, int | str], now: float) -> AuditRecord:
        clean = validate_details(details)
        kind = AuditKind(kind)
        expires_at = self._retention.expires_at(RetentionClass.AUDIT, now)
        for attempt in range(self._max_attempts):
            tail = self._store.tail(pk)
            record = AuditRecord(
                pk=pk,
                seq=tail.seq + 1 if tail else 1,
                kind=kind.value,
                at_ms=int(now * 1000),
                details=clean,
                prev_hash=tail.hash if tail else GENESIS,
                prev_expires_at=tail.expires_at if tail else 0,
                expires_at=expires_at,
            ).sealed()
            if self._store.put_new(record):
                self._mark_day(int(now))
                return record
            # Someone else took this link: re-read the tail and try the next slot.
            self._sleep(self._rng.uniform(0, 0.02 * (2**attempt)))
        raise StoreUnavailableError("audit append: too much contention on one chain")

    def _mark_day(self, now: int) -> None:
        """The day's marker, once per process and day (not once per record). It lives as long as the last
        record of that day can: the day's end plus the audit retention."""
        day_start = now - now % DAY
        if day_start in self._marked_days:
            return
        self._store.mark_day(
            day_start, expires_at=self._retention.expires_at(RetentionClass.AUDIT, day_start + DAY)
        )
        self._marked_days.add(day_start)


def checked_chain(name: str) -> str:
    """The name of an audit chain (a call id or a system name), or AuditDetailsError."""
    if not _CHAIN.fullmatch(name):
        raise AuditDetailsError("chain ids are call ids or system names")
    return name


# ---- reading, verification, export -----------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    """Where a verified chain fails, and how."""

    chain: str
    seq: int
    problem: str  # hash_mismatch | link_broken | missing_records | missing_head | bad_genesis

    def as_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "problem": self.problem}


@dataclass
class VerifyReport:
    """What verifying a set of chains found."""

    chains: int = 0
    records: int = 0
    truncated_by_retention: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chains": self.chains,
            "records": self.records,
            "truncated_by_retention": self.truncated_by_retention,
            "breaks": [b.as_dict() for b in self.breaks],
        }


def verify_chain(records: list[AuditRecord], *, now: float) -> tuple[list[ChainBreak], bool]:
    """Breaks in one chain (records in seq order) and whether its head was truncated by retention."""
    breaks: list[ChainBreak] = []
    truncated = False
    previous: AuditRecord | None = None
    for record in records:
        if record.computed_hash() != record.hash:
            breaks.append(ChainBreak(record.chain, record.seq, "hash_mismatch"))
        if previous is None:
            if record.seq == 1:
                if record.prev_hash != GENESIS:
                    breaks.append(ChainBreak(record.chain, record.seq, "bad_genesis"))
            elif record.prev_expires_at and record.prev_expires_at <= now:
                truncated = True  # the predecessor expired: the purge removed it, as it should
            else:
                breaks.append(ChainBreak(record.chain, record.seq, "missing_head"))
        else:
            if record.seq != previous.seq + 1:
                breaks.append(ChainBreak(record.chain, record.seq, "missing_records"))
            elif record.prev_hash != previous.hash:
                breaks.append(ChainBreak(record.chain, record.seq, "link_broken"))
        previous = record
    return breaks, truncated


class AuditReader:
    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def chain_records(self, pk: str) -> list[AuditRecord]:
        return self._store.chain(pk)

    def call_records(self, call_id: str) -> list[AuditRecord]:
        return self.chain_records(call_pk(call_id))

    def chains_since(self, since: float, *, now: float) -> list[str]:
        """pks of chains with a record written since `since`: one AuditIndex query per day that has
        records (found through the day markers), never one per calendar day, and no Scan."""
        seen: dict[str, None] = {}
        for day in self._store.days_with_records(since, now):
            for pk in self._store.chains_on_day(day, since_ms=int(since * 1000)):
                seen.setdefault(pk, None)
        return list(seen)

    def records_since(self, since: float, *, now: float) -> Iterator[AuditRecord]:
        since_ms = int(since * 1000)
        for pk in self.chains_since(since, now=now):
            for record in self.chain_records(pk):
                if record.at_ms >= since_ms:
                    yield record

    def verify(self, pks: list[str], *, now: float) -> VerifyReport:
        report = VerifyReport()
        for pk in pks:
            records = self.chain_records(pk)
            if not records:
                continue
            report.chains += 1
            report.records += len(records)
            breaks, truncated = verify_chain(records, now=now)
            report.breaks.extend(breaks)
            report.truncated_by_retention += truncated
        return report
