"""The per-call consent state machine.

    (none) --disclosure--> asked --granted--> granted                      (terminal)
                           asked --denied---> denied  -> policy            (terminal)
                           asked --unclear--> unclear (re-ask, up to N) --unclear--> denied -> policy

Policy on denial (per config): `continue` (keep the call, store metadata only), `end-call` (say the
closing line, then end the call through Live Call Control) or `transfer` (to the configured human).
Without consent, transcript content is not stored (the webhook's content policy asks `keeps_content`).

Decisions come from the `record_consent` tool or from final user transcripts (voicetrail.domain.live.consent).
Each transition is an audit event with its timestamp, written after the state write that made it,
so a retried delivery never audits twice. Writes are optimistic (a version attribute): two webhooks
racing on one call cannot both move the state.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditKind
from voicetrail.domain.live.cache import TtlCache
from voicetrail.domain.live.config import LiveConfig
from voicetrail.domain.live.control import CallController, ControlError, end_call, say, transfer
from voicetrail.domain.live.destinations import destination
from voicetrail.domain.live.store import AuditSink, CallerConsent, ConsentRecord, ConsentState, LiveStore
from voicetrail.infra.observability import MetricsRecorder

Decision = Literal["granted", "denied", "unclear"]
TERMINAL = frozenset({ConsentState.GRANTED, ConsentState.DENIED})
CALLER_CACHE_SECONDS = 60.0


class Action(StrEnum):
    NONE = "none"
    REASK = "reask"
    POLICY = "policy"


# ---- classifying an utterance ---------------------------------------------------------------------

_YES = re.compile(
    r"\b(yes|yeah|yep|sure|ok|okay|fine|go ahead|i agree|i consent|that'?s fine|no problem)\b", re.I
)
_NO = re.compile(
    r"\b(no|nope|don'?t|do not|not okay|not ok|i object|i refuse|rather not|stop recording)\b", re.I
)


def _fallback_detect(utterance: str) -> Decision:
    if _NO.search(utterance):
        return "denied"
    if _YES.search(utterance):
        return "granted"
    return "unclear"


def _normalise(result: Any) -> Decision:
    for candidate in (result, getattr(result, "decision", None), getattr(result, "outcome", None)):
        value = getattr(candidate, "value", candidate)
        if isinstance(value, str) and value.lower() in ("granted", "denied", "unclear"):
            return value.lower()  # type: ignore[return-value]
    return "unclear"


def classify_utterance(utterance: str) -> Decision:
    """domain.live.consent.detect_consent when present (the project's detector), else a small fallback."""
    try:
        module = importlib.import_module("voicetrail.domain.live.consent")
    except ImportError:
        return _fallback_detect(utterance)
    return _normalise(module.detect_consent(utterance))


# ---- the pure transition --------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One step of the consent machine: the new record and what to do about it."""

    record: ConsentRecord
    changed: bool
    action: Action
    audit_kind: AuditKind | None
    reason: str


def transition(
    current: ConsentRecord | None, decision: Decision, *, max_reasks: int, source: str, now_ms: int
) -> Transition:
    base = current or ConsentRecord(state=ConsentState.ASKED, asks=1, version=0, updated_ms=now_ms)
    if base.state in TERMINAL:
        return Transition(base, False, Action.NONE, None, "terminal")
    version = base.version + 1
    if decision == "granted":
        record = base.evolve(state=ConsentState.GRANTED, version=version, source=source, updated_ms=now_ms)
        return Transition(record, True, Action.NONE, AuditKind.CONSENT_GIVEN, "granted")
    if decision == "denied":
        record = base.evolve(state=ConsentState.DENIED, version=version, source=source, updated_ms=now_ms)
        return Transition(record, True, Action.POLICY, AuditKind.CONSENT_DENIED, "denied")
    if base.asks - 1 < max_reasks:
        record = base.evolve(
            state=ConsentState.UNCLEAR, asks=base.asks + 1, version=version, source=source, updated_ms=now_ms
        )
        return Transition(record, True, Action.REASK, AuditKind.CONSENT_ASKED, "reask")
    record = base.evolve(state=ConsentState.DENIED, version=version, source=source, updated_ms=now_ms)
    return Transition(record, True, Action.POLICY, AuditKind.CONSENT_DENIED, "unclear_exhausted")


# ---- the service ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentOutcome:
    """What handling one consent signal did."""

    state: ConsentState
    changed: bool
    action: str  # none | say | end-call | transfer | continue | failed


class ConsentService:
    def __init__(
        self,
        *,
        store: LiveStore,
        audit: AuditSink,
        controller: CallController,
        metrics: MetricsRecorder,
        logger: Logger,
        clock: Callable[[], float] = time.time,
        caller_cache_seconds: float = CALLER_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._audit = audit
        self._control = controller
        self._metrics = metrics
        self._log = logger
        self._clock = clock
        self._callers: TtlCache[CallerConsent] = TtlCache(min(caller_cache_seconds, 60.0), clock=monotonic)
        # Terminal states never change, so they can be remembered for the life of the container.
        self._terminal: TtlCache[ConsentRecord] = TtlCache(300, max_entries=2048, clock=monotonic)

    # -- reads ---------------------------------------------------------------------------------------
    def current(self, call_id: str) -> ConsentRecord | None:
        hit, cached = self._terminal.get(call_id)
        if hit and cached is not None:
            return cached
        record = self._store.get_consent(call_id)
        if record is not None and record.state in TERMINAL:
            self._terminal.put(call_id, record)
        return record

    def keeps_content(self, call_id: str, config: LiveConfig) -> bool:
        if not config.consent_required:
            return True
        record = self.current(call_id)
        if record is not None and record.state is ConsentState.GRANTED:
            return True
        if record is not None and record.state is ConsentState.DENIED:
            return False
        return config.content_before_consent == "keep"

    def prior_consent(self, caller_hash: str, config: LiveConfig) -> bool:
        """Whether a returning caller granted consent recently (cached 60 s per hash, hits measured)."""
        hit, cached = self._callers.get(caller_hash)
        if hit:
            self._metrics.count("ConsentLookupCacheHit", source="vapi")
        else:
            self._metrics.count("ConsentLookupCacheMiss", source="vapi")
            cached = self._store.get_caller_consent(caller_hash)
            if cached is not None:
                self._callers.put(caller_hash, cached)
        if cached is None or cached.decision != ConsentState.GRANTED.value:
            return False
        return self._clock() - cached.decided_at <= config.prior_consent_days * 86_400

    def forget(self, call_id: str) -> None:
        self._terminal.discard(call_id)

    # -- writes --------------------------------------------------------------------------------------
    def start(self, call_id: str, config: LiveConfig, *, returning: bool) -> None:
        """The disclosure was asked (assistant-request). A returning caller's consent counts as given."""
        now = self._clock()
        now_ms = int(now * 1000)
        details: dict[str, int | str]
        if returning:
            record = ConsentRecord(
                ConsentState.GRANTED, asks=0, version=1, source="returning", updated_ms=now_ms
            )
            kind, details = AuditKind.CONSENT_GIVEN, {"source": "returning_caller", "state": "granted"}
        else:
            record = ConsentRecord(
                ConsentState.ASKED, asks=1, version=1, source="disclosure", updated_ms=now_ms
            )
            kind, details = AuditKind.CONSENT_ASKED, {"source": "disclosure", "state": "asked", "asks": 1}
        if self._store.save_consent(call_id, record, expected_version=None, now=now):
            self._audit.append(call_id, kind, details, now)
            self._metrics.count("ConsentTransition", source="vapi", state=record.state.value)

    def decide(
        self,
        call_id: str,
        decision: Decision,
        config: LiveConfig,
        *,
        source: str,
        control_url: str | None,
        caller_hash: str | None,
    ) -> ConsentOutcome:
        now = self._clock()
        for _ in range(4):
            current = self._store.get_consent(call_id)
            step = transition(
                current, decision, max_reasks=config.consent_max_reasks, source=source, now_ms=int(now * 1000)
            )
            if not step.changed:
                return ConsentOutcome(step.record.state, False, "none")
            expected = current.version if current is not None else None
            if self._store.save_consent(call_id, step.record, expected_version=expected, now=now):
                break
            self._metrics.count("ConsentWriteConflict", source="vapi")
        else:
            return ConsentOutcome(ConsentState.ASKED, False, "none")
        record = step.record
        if record.state in TERMINAL:
            self._terminal.put(call_id, record)
        self._metrics.count("ConsentTransition", source="vapi", state=record.state.value)
        details: dict[str, int | str] = {
            "source": source,
            "state": record.state.value,
            "reason": step.reason,
            "asks": record.asks,
        }
        action = "none"
        if step.action is Action.REASK:
            action = self._send(control_url, say(config.reask_message, interrupt=False), "say")
        elif step.action is Action.POLICY:
            action = self._apply_policy(call_id, config, control_url, now)
        if step.audit_kind is not None:
            details["action"] = action.replace("-", "_")
            self._audit.append(call_id, step.audit_kind, details, now)
        if caller_hash and record.state in TERMINAL:
            consent = CallerConsent(decision=record.state.value, decided_at=int(now))
            self._store.put_caller_consent(caller_hash, consent, now=now)
            self._callers.put(caller_hash, consent)
        self._log.info("consent transition", extra={"state": record.state.value, "action": action})
        return ConsentOutcome(record.state, True, action)

    def _apply_policy(self, call_id: str, config: LiveConfig, control_url: str | None, now: float) -> str:
        policy = config.consent_policy
        if policy == "continue":
            return "continue"
        if policy == "transfer" and config.transfer is not None:
            target = destination(config.transfer)
            action = self._send(control_url, transfer(target, config.consent_transfer_message), "transfer")
            if action == "transfer":
                self._audit.append(
                    call_id,
                    AuditKind.TRANSFER,
                    {"trigger": "consent_denied", "destination_type": config.transfer.type},
                    now,
                )
                return action
        # end-call (or a transfer with nowhere to go, or that failed): the closing line, then hang up.
        action = self._send(control_url, say(config.closing_message, end_call_after=True), "end-call")
        if action == "failed":
            action = self._send(control_url, end_call(), "end-call")
        return action

    def _send(self, control_url: str | None, payload: dict[str, Any], label: str) -> str:
        if not control_url:
            self._metrics.count("LiveControlUnavailable", source="vapi", action=str(payload["type"]))
            return "failed"
        try:
            self._control.send(control_url, payload)
        except ControlError:
            return "failed"
        return label
