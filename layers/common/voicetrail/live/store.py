"""Per-call live state in the events table (and an in-memory twin with the same semantics).

Items (all carry `expires_at` and the sparse expiry-index keys, so the retention purge removes them):
  CALL#<id>      LIVE#consent           consent state machine (optimistic version)        metadata
  CALL#<id>      LIVE#escalation        at most one escalation per call (conditional)     metadata
  CALL#<id>      LIVE#rule#<sha>        the escalation rule as configured when it fired    metadata
                                         (the audit record carries <sha>, which binds them)
  CALL#<id>      LIVE#tool#<toolCallId> a tool call's result, returned again on a retry   metadata
  CALLER#<hash>  CONSENT                a returning caller's last decision (CallerIndex)  audit

Audit events go through voicetrail.audit (the per-call hash chain).
Only our own fixed texts and enums are written: never transcript text or a control URL.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from voicetrail.audit import AuditKind, validate_details
from voicetrail.errors import StoreUnavailableError
from voicetrail.retention import RetentionClass, RetentionPolicy, expiry_bucket
from voicetrail.storage.ports import call_pk

CONSENT_SK = "LIVE#consent"
ESCALATION_SK = "LIVE#escalation"
TOOL_SK_PREFIX = "LIVE#tool#"
RULE_SK_PREFIX = "LIVE#rule#"
CALLER_CONSENT_SK = "CONSENT"


class ConsentState(StrEnum):
    ASKED = "asked"
    UNCLEAR = "unclear"
    GRANTED = "granted"
    DENIED = "denied"


@dataclass(frozen=True)
class ConsentRecord:
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
    tool_call_id: str
    name: str
    text: str
    is_error: bool = False


@dataclass(frozen=True)
class CallerConsent:
    decision: str  # granted | denied
    decided_at: int  # epoch seconds


class LiveStore(Protocol):
    def get_consent(self, call_id: str) -> ConsentRecord | None: ...

    def save_consent(
        self, call_id: str, record: ConsentRecord, *, expected_version: int | None, now: float
    ) -> bool:
        """Write if the stored version is `expected_version` (None: no record yet). False on conflict."""
        ...

    def claim_escalation(self, call_id: str, *, now_ms: int, debounce_ms: int, now: float) -> ClaimResult: ...

    def save_rule_snapshot(self, call_id: str, snapshot: RuleSnapshot, *, now: float) -> None:
        """Keep the rule as configured at this moment (idempotent: the key is the content's hash)."""
        ...

    def finish_escalation(self, call_id: str, *, ok: bool, now: float) -> None: ...

    def get_tool_results(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]: ...

    def put_tool_result(self, call_id: str, result: ToolResult, *, now: float) -> None: ...

    def get_caller_consent(self, caller_hash: str) -> CallerConsent | None: ...

    def put_caller_consent(self, caller_hash: str, consent: CallerConsent, *, now: float) -> None: ...


class AuditSink(Protocol):
    """What the live features need from voicetrail.audit.AuditTrail (hash-chained, per call)."""

    def append(self, call_id: str, kind: AuditKind, details: Mapping[str, int | str], now: float) -> Any: ...


def _n(value: int | float) -> dict[str, str]:
    return {"N": str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoLiveStore:
    def __init__(self, client: Any, table_name: str, retention: RetentionPolicy) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention

    # -- helpers ---------------------------------------------------------------------------------
    def _expiry(self, pk: str, sk: str, retention_class: RetentionClass, now: float) -> dict[str, Any]:
        expires = self._retention.expires_at(retention_class, now)
        return {
            "expires_at": _n(expires),
            "exp_bucket": _s(expiry_bucket(expires)),
            "exp_sk": _s(f"{expires:012d}#{pk}#{sk}"),
            "retention_class": _s(retention_class.value),
        }

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(TableName=self._table, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise _ConditionFailedError() from None
            raise StoreUnavailableError(f"{operation} failed") from None
        except BotoCoreError:
            raise StoreUnavailableError(f"{operation} failed") from None

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._call("get_item", Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True).get("Item")
        return dict(item) if item else None

    # -- consent ---------------------------------------------------------------------------------
    def get_consent(self, call_id: str) -> ConsentRecord | None:
        item = self._get(call_pk(call_id), CONSENT_SK)
        if not item:
            return None
        return ConsentRecord(
            state=ConsentState(item["state"]["S"]),
            asks=int(item["asks"]["N"]),
            version=int(item["version"]["N"]),
            source=item.get("source", {}).get("S", "-"),
            updated_ms=int(item.get("updated_ms", {}).get("N", "0")),
            action=item.get("action", {}).get("S", "none"),
        )

    def save_consent(
        self, call_id: str, record: ConsentRecord, *, expected_version: int | None, now: float
    ) -> bool:
        pk = call_pk(call_id)
        item = {
            "pk": _s(pk),
            "sk": _s(CONSENT_SK),
            "call_id": _s(call_id),
            "state": _s(record.state.value),
            "asks": _n(record.asks),
            "version": _n(record.version),
            "source": _s(record.source),
            "updated_ms": _n(record.updated_ms),
            "action": _s(record.action),
            **self._expiry(pk, CONSENT_SK, RetentionClass.METADATA, now),
        }
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": _n(expected_version)},
            }
        try:
            self._call("put_item", Item=item, **condition)
        except _ConditionFailedError:
            return False
        return True

    # -- escalation ------------------------------------------------------------------------------
    def claim_escalation(self, call_id: str, *, now_ms: int, debounce_ms: int, now: float) -> ClaimResult:
        pk = call_pk(call_id)
        expiry = self._expiry(pk, ESCALATION_SK, RetentionClass.METADATA, now)
        try:
            self._call(
                "update_item",
                Key={"pk": _s(pk), "sk": _s(ESCALATION_SK)},
                UpdateExpression=(
                    "SET #st = :claimed, last_ms = :now_ms, call_id = :cid, expires_at = :exp, "
                    "exp_bucket = :eb, exp_sk = :es, retention_class = :rc ADD attempts :one"
                ),
                ConditionExpression="attribute_not_exists(pk) OR (#st = :failed AND last_ms < :cutoff)",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":claimed": _s("claimed"),
                    ":failed": _s("failed"),
                    ":now_ms": _n(now_ms),
                    ":cutoff": _n(now_ms - debounce_ms),
                    ":cid": _s(call_id),
                    ":exp": expiry["expires_at"],
                    ":eb": expiry["exp_bucket"],
                    ":es": expiry["exp_sk"],
                    ":rc": expiry["retention_class"],
                    ":one": _n(1),
                },
            )
        except _ConditionFailedError:
            item = self._get(pk, ESCALATION_SK) or {}
            last = int(item.get("last_ms", {}).get("N", "0"))
            return ClaimResult.DEBOUNCED if now_ms - last < debounce_ms else ClaimResult.ALREADY
        return ClaimResult.CLAIMED

    def save_rule_snapshot(self, call_id: str, snapshot: RuleSnapshot, *, now: float) -> None:
        pk = call_pk(call_id)
        sk = RULE_SK_PREFIX + snapshot.code
        item = {
            "pk": _s(pk),
            "sk": _s(sk),
            "config_key": _s(snapshot.config_key),
            "config": _s(snapshot.config_json),
            "rule": _n(snapshot.rule),
            "keyword": _s(snapshot.keyword),
            "fired_at_ms": _n(snapshot.fired_at_ms),
            **self._expiry(pk, sk, RetentionClass.METADATA, now),
        }
        self._call("put_item", Item=item)

    def finish_escalation(self, call_id: str, *, ok: bool, now: float) -> None:
        self._call(
            "update_item",
            Key={"pk": _s(call_pk(call_id)), "sk": _s(ESCALATION_SK)},
            UpdateExpression="SET #st = :s",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":s": _s("done" if ok else "failed")},
        )

    # -- tool results ----------------------------------------------------------------------------
    def get_tool_results(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]:
        if not ids:
            return {}
        pk = call_pk(call_id)
        keys = [{"pk": _s(pk), "sk": _s(TOOL_SK_PREFIX + i)} for i in dict.fromkeys(ids)]
        found: dict[str, ToolResult] = {}
        from botocore.exceptions import BotoCoreError, ClientError

        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self._table: {"Keys": keys[start : start + 100], "ConsistentRead": True}
            }
            for _ in range(5):
                try:
                    page = self._client.batch_get_item(RequestItems=request)
                except (ClientError, BotoCoreError):
                    raise StoreUnavailableError("batch_get_item failed") from None
                for item in page.get("Responses", {}).get(self._table, []):
                    tool_id = item["sk"]["S"].removeprefix(TOOL_SK_PREFIX)
                    found[tool_id] = ToolResult(
                        tool_call_id=tool_id,
                        name=item.get("name", {}).get("S", ""),
                        text=item.get("result", {}).get("S", ""),
                        is_error=bool(item.get("is_error", {}).get("BOOL", False)),
                    )
                request = page.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def put_tool_result(self, call_id: str, result: ToolResult, *, now: float) -> None:
        pk = call_pk(call_id)
        sk = TOOL_SK_PREFIX + result.tool_call_id
        self._call(
            "put_item",
            Item={
                "pk": _s(pk),
                "sk": _s(sk),
                "call_id": _s(call_id),
                "name": _s(result.name),
                "result": _s(result.text),
                "is_error": {"BOOL": result.is_error},
                **self._expiry(pk, sk, RetentionClass.METADATA, now),
            },
        )

    # -- returning callers -----------------------------------------------------------------------
    def get_caller_consent(self, caller_hash: str) -> CallerConsent | None:
        item = self._get(f"CALLER#{caller_hash}", CALLER_CONSENT_SK)
        if not item:
            return None
        return CallerConsent(decision=item["decision"]["S"], decided_at=int(item["decided_at"]["N"]))

    def put_caller_consent(self, caller_hash: str, consent: CallerConsent, *, now: float) -> None:
        pk = f"CALLER#{caller_hash}"
        self._call(
            "put_item",
            Item={
                "pk": _s(pk),
                "sk": _s(CALLER_CONSENT_SK),
                "caller_hash": _s(caller_hash),
                "decision": _s(consent.decision),
                "decided_at": _n(consent.decided_at),
                **self._expiry(pk, CALLER_CONSENT_SK, RetentionClass.AUDIT, now),
            },
        )


class _ConditionFailedError(Exception):
    pass


# ---- in memory (unit tests, benchmarks) ----------------------------------------------------------


@dataclass(frozen=True)
class AuditEvent:
    call_id: str
    kind: str
    details: dict[str, int | str]
    at_ms: int


class MemoryLiveStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.consent: dict[str, ConsentRecord] = {}
        self.escalations: dict[str, dict[str, Any]] = {}
        self.rule_snapshots: dict[str, list[RuleSnapshot]] = {}
        self.tools: dict[tuple[str, str], ToolResult] = {}
        self.callers: dict[str, CallerConsent] = {}
        self.reads = 0
        self.caller_reads = 0

    def get_consent(self, call_id: str) -> ConsentRecord | None:
        with self._lock:
            self.reads += 1
            return self.consent.get(call_id)

    def save_consent(
        self, call_id: str, record: ConsentRecord, *, expected_version: int | None, now: float
    ) -> bool:
        with self._lock:
            current = self.consent.get(call_id)
            if (current is None) != (expected_version is None):
                return False
            if current is not None and current.version != expected_version:
                return False
            self.consent[call_id] = record
            return True

    def claim_escalation(self, call_id: str, *, now_ms: int, debounce_ms: int, now: float) -> ClaimResult:
        with self._lock:
            item = self.escalations.get(call_id)
            if item is None or (item["status"] == "failed" and item["last_ms"] < now_ms - debounce_ms):
                attempts = (item or {}).get("attempts", 0) + 1
                self.escalations[call_id] = {"status": "claimed", "last_ms": now_ms, "attempts": attempts}
                return ClaimResult.CLAIMED
            return ClaimResult.DEBOUNCED if now_ms - item["last_ms"] < debounce_ms else ClaimResult.ALREADY

    def save_rule_snapshot(self, call_id: str, snapshot: RuleSnapshot, *, now: float) -> None:
        with self._lock:
            kept = self.rule_snapshots.setdefault(call_id, [])
            if snapshot not in kept:
                kept.append(snapshot)

    def finish_escalation(self, call_id: str, *, ok: bool, now: float) -> None:
        with self._lock:
            self.escalations[call_id]["status"] = "done" if ok else "failed"

    def get_tool_results(self, call_id: str, ids: list[str]) -> dict[str, ToolResult]:
        with self._lock:
            return {i: self.tools[(call_id, i)] for i in ids if (call_id, i) in self.tools}

    def put_tool_result(self, call_id: str, result: ToolResult, *, now: float) -> None:
        with self._lock:
            self.tools[(call_id, result.tool_call_id)] = result

    def get_caller_consent(self, caller_hash: str) -> CallerConsent | None:
        with self._lock:
            self.caller_reads += 1
            return self.callers.get(caller_hash)

    def put_caller_consent(self, caller_hash: str, consent: CallerConsent, *, now: float) -> None:
        with self._lock:
            self.callers[caller_hash] = consent


class MemoryAuditSink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def append(self, call_id: str, kind: AuditKind, details: Mapping[str, int | str], now: float) -> None:
        clean = validate_details(details)  # the same rule as the real trail: codes and counts only
        with self._lock:
            self.events.append(AuditEvent(call_id, AuditKind(kind).value, clean, int(now * 1000)))

    def kinds(self, call_id: str | None = None) -> list[str]:
        return [e.kind for e in self.events if call_id is None or e.call_id == call_id]
