"""Barge-in escalation: urgent intent in a user transcript -> one transfer through Live Call Control.

* keywords are per config ("urgent", "emergency", "i need a human", "supervisor" by default), matched on
  word boundaries in the normalised transcript, partials included (that is what makes it a barge-in:
  the caller is heard while the assistant is still talking);
* a transcript that carries a confidence below the threshold (0.7) is ignored;
* a debounce window (800 ms, on Vapi's message timestamps) coalesces a burst ("wait wait wait") into
  one action, and a conditional write makes it at most one escalation per call, even when duplicate
  deliveries race in different Lambda instances. A failed transfer may be claimed again, but only
  after the debounce window;
* the audit event says which rule fired and on what kind of transcript, never the caller's words; the
  rule as configured at that moment is kept next to the call (`RuleSnapshot`) and the audit record
  carries its hash (`config`), so "why did this call escalate?" has an answer after the config changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from aws_lambda_powertools import Logger

from voicetrail.domain.audit.trail import AuditKind
from voicetrail.domain.live.config import LiveConfig
from voicetrail.domain.live.control import CallController, ControlError, transfer
from voicetrail.domain.live.destinations import destination
from voicetrail.domain.live.store import AuditSink, ClaimResult, LiveStore, RuleSnapshot
from voicetrail.infra.observability import MetricsRecorder

_NON_WORD = re.compile(r"[^\w\s']+")


def normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).replace("\u2019", "'").split())


@lru_cache(maxsize=64)
def _patterns(keywords: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r"(?<![\w'])" + re.escape(normalise(k)) + r"(?![\w'])") for k in keywords)


@dataclass(frozen=True)
class Trigger:
    """Why a transcript calls for escalation."""

    kind: str  # keyword (an escalation rule matched)
    rule: int  # index of the configured keyword that matched
    transcript_type: str  # partial | final


def detect(
    text: str | None, *, confidence: float | None, transcript_type: str, config: LiveConfig
) -> Trigger | None:
    if not text or not config.escalation_enabled or not config.escalation_keywords:
        return None
    if confidence is not None and confidence < config.escalation_min_confidence:
        return None
    normalised = normalise(text)
    for index, pattern in enumerate(_patterns(config.escalation_keywords)):
        if pattern.search(normalised):
            return Trigger(kind="keyword", rule=index, transcript_type=transcript_type)
    return None


@dataclass(frozen=True)
class EscalationOutcome:
    """What handling one transcript did about escalation."""

    # ignored | no_destination | no_control_url | debounced | already_escalated | transferred | failed
    result: str


class EscalationService:
    def __init__(
        self,
        *,
        store: LiveStore,
        audit: AuditSink,
        controller: CallController,
        metrics: MetricsRecorder,
        logger: Logger,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._audit = audit
        self._control = controller
        self._metrics = metrics
        self._log = logger
        self._clock = clock

    def on_user_transcript(
        self,
        call_id: str,
        text: str | None,
        *,
        confidence: float | None,
        transcript_type: str,
        timestamp_ms: float | None,
        control_url: str | None,
        config: LiveConfig,
        config_key: str = "unknown",
    ) -> EscalationOutcome:
        trigger = detect(text, confidence=confidence, transcript_type=transcript_type, config=config)
        if trigger is None:
            return EscalationOutcome("ignored")
        now = self._clock()
        at_ms = int(timestamp_ms) if timestamp_ms is not None else int(now * 1000)
        snapshot = RuleSnapshot(
            config_key=config_key,
            config_json=config.model_dump_json(),
            rule=trigger.rule,
            keyword=config.escalation_keywords[trigger.rule],
            fired_at_ms=at_ms,
        )
        details: dict[str, int | str] = {
            "trigger": trigger.kind,
            "rule": trigger.rule,
            "transcript_type": trigger.transcript_type,
            "config": snapshot.code,
        }
        if config.transfer is None:
            return self._done(call_id, "no_destination", details, now, snapshot=snapshot)
        if not control_url:
            return self._done(call_id, "no_control_url", details, now, snapshot=snapshot)
        claim = self._store.claim_escalation(
            call_id, now_ms=at_ms, debounce_ms=config.escalation_debounce_ms, now=now
        )
        if claim is not ClaimResult.CLAIMED:
            return self._done(call_id, claim.value, details, now, snapshot=None)
        payload = transfer(destination(config.transfer), config.escalation_message)
        try:
            self._control.send(control_url, payload)
            ok = True
        except ControlError:
            ok = False
        self._store.finish_escalation(call_id, ok=ok, now=now)
        details["destination_type"] = config.transfer.type
        return self._done(call_id, "transferred" if ok else "failed", details, now, snapshot=snapshot)

    def _done(
        self,
        call_id: str,
        result: str,
        details: dict[str, int | str],
        now: float,
        *,
        snapshot: RuleSnapshot | None,
    ) -> EscalationOutcome:
        """`snapshot`: audit this outcome, keeping the rule as configured (None: a repeat, not audited)."""
        self._metrics.count("Escalation", source="vapi", outcome=result)
        if snapshot is not None:
            self._store.save_rule_snapshot(call_id, snapshot, now=now)
            self._audit.append(call_id, AuditKind.ESCALATION, {**details, "outcome": result}, now)
        self._log.info("escalation", extra={"outcome": result, "trigger": details.get("trigger")})
        return EscalationOutcome(result)
