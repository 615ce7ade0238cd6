"""What the audit trail needs from storage: one hash chain per call or system job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from voicetrail.domain.audit.trail import AuditRecord


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
