"""Per-call live state: its values (consent, escalation claims, tool results, a returning caller's consent).

The port is `voicetrail.domain.live.ports.LiveStore`; the items (consent state, escalation claim, escalation
rule snapshot, tool result, caller consent) are described in voicetrail.storage.table, the adapters are
`storage.live` (DynamoDB) and `tests.support.memory.MemoryLiveStore`.

Audit events go through voicetrail.domain.audit.trail (the per-call hash chain).
Only our own fixed texts and enums are written: never transcript text or a control URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from voicetrail.domain.audit.trail import AuditKind


class ConsentState(StrEnum):
    ASKED = "asked"
    UNCLEAR = "unclear"
    GRANTED = "granted"
    DENIED = "denied"


@dataclass(frozen=True)
class ConsentRecord:
    """A call's consent state as stored, with its optimistic-lock version."""

    state: ConsentState
    asks: int = 1  # times the question was put to the caller (the disclosure counts as one)
    version: int = 0
    source: str = "disclosure"
    updated_ms: int = 0
    action: str = "none"  # what the policy did: none | say | end-call | transfer | failed

    def evolve(self, **changes: Any) -> ConsentRecord:
        return replace(self, **changes)


@dataclass(frozen=True)
class RuleSnapshot:
    """The escalation rule that fired, as configured at that moment: the whole live config (keywords,
    thresholds, destination), which config item it came from, and which keyword matched. `sha` is the
    SHA-256 of the canonical config JSON; the audit record carries its first 16 hex digits, so the chain
    proves which configuration was in force even after the item changes."""

    config_key: str
    config_json: str
    rule: int
    keyword: str
    fired_at_ms: int

    @property
    def sha(self) -> str:
        import hashlib

        return hashlib.sha256(self.config_json.encode("utf-8")).hexdigest()

    @property
    def code(self) -> str:
        return "c" + self.sha[:16]  # a short code for audit details (never all digits)

    def as_dict(self) -> dict[str, Any]:
        import json

        return {
            "config_key": self.config_key,
            "config": json.loads(self.config_json),
            "config_sha256": self.sha,
            "rule": self.rule,
            "keyword": self.keyword,
            "fired_at_ms": self.fired_at_ms,
        }


class ClaimResult(StrEnum):
    CLAIMED = "claimed"
    DEBOUNCED = "debounced"
    ALREADY = "already_escalated"


@dataclass(frozen=True)
class ToolResult:
    """A tool call's answer, kept so that a resent tool-calls message gets the same one."""

    tool_call_id: str
    name: str
    text: str
    is_error: bool = False


@dataclass(frozen=True)
class CallerConsent:
    """A caller's last consent decision, keyed by caller hash across calls."""

    decision: str  # granted | denied
    decided_at: int  # epoch seconds


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


class AuditSink(Protocol):
    """What the live features need from voicetrail.domain.audit.trail.AuditTrail (hash-chained, per call)."""

    def append(self, call_id: str, kind: AuditKind, details: Mapping[str, int | str], now: float) -> Any: ...
