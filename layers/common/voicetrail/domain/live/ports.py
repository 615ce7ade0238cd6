"""What the live call flow needs from storage: per-call live state, configs, and the do-not-call list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from voicetrail.domain.live.store import (
        CallerConsent,
        ClaimResult,
        ConsentRecord,
        RuleSnapshot,
        ToolResult,
    )


class LiveStore(Protocol):
    """Per-call live state: consent, escalation, tool results, and a returning caller's consent."""

    def get_consent(self, call_id: str) -> ConsentRecord | None: ...

    def save_consent(
        self, call_id: str, record: ConsentRecord, *, expected_version: int | None, now: float
    ) -> bool:
        """Write if the stored version is `expected_version` (None: no record yet). False on conflict."""
        ...

    def claim_escalation(self, call_id: str, *, now_ms: int, debounce_ms: int, now: float) -> ClaimResult: ...

    def finish_escalation(self, call_id: str, *, ok: bool, now: float) -> None: ...

    def save_rule_snapshot(self, call_id: str, snapshot: RuleSnapshot, *, now: float) -> None:
        """Keep the escalation rule as configured when it fired (idempotent: keyed by the content's hash)."""
        ...

    def get_tool_results(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]: ...

    def put_tool_result(self, call_id: str, result: ToolResult, *, now: float) -> None: ...

    def get_caller_consent(self, caller_hash: str) -> CallerConsent | None: ...

    def put_caller_consent(self, caller_hash: str, consent: CallerConsent, *, now: float) -> None: ...


class ConfigSource(Protocol):
    """Where live-call configs are kept (the table, SSM, or memory)."""

    def fetch(self, key: str) -> str | None:
        """The raw JSON text stored under `key`, None when absent. Raises on I/O failure."""
        ...

    def fetch_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        """`fetch` of several keys in one round trip where the store allows it. Raises on I/O failure."""
        ...


class DoNotCallList(Protocol):
    """The pre-dial gate's do-not-call list, as keyed hashes of numbers (providers.vapi.predial)."""

    def contains(self, number_hash: str) -> bool: ...

    def add(self, number_hash: str, *, now: float) -> bool:
        """True when the hash was not on the list before."""
        ...

    def remove(self, number_hash: str) -> bool:
        """True when the hash was on the list."""
        ...
