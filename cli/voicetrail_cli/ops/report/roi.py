"""ROI maths for `voicetrail report`: loading and arithmetic, for a range and per day, from the call
ledger (one summary per call).

Reads the day index (`CALLS#<day>`) for the range and batch-gets the call summaries: no Scan.
Definitions (also in docs/operations/dashboards.md):
  calls             calls whose first event falls in the range (Twilio and Vapi views joined)
  answer rate       answered / calls (Twilio in-progress or completed; web calls: the assistant talked)
  completion rate   completed / calls (Twilio final status `completed`; web calls: answered and ended)
  escalation rate   escalated / answered (transfer to a human, or Vapi `assistant-forwarded-call`)
  consent rate      granted / calls with a consent decision (granted + denied + unclear)
  AHT               mean handle time of answered calls (Twilio CallDuration, else Vapi durationSeconds)
  AI cost           sum of Vapi end-of-call-report `cost`; per call = total / calls with a cost
  saving            human cost per minute x minutes of answered, non-escalated calls - AI cost
  turn p95          95th percentile of every turn latency of the period's calls (Vapi performanceMetrics)
  slow calls        calls whose own turn-latency p95 is above --slow-turn-ms (default 1500 ms)
  interrupts/call   caller barge-ins + assistant talk-overs, averaged over calls that report them
  Twilio statuses   of the Twilio-carried calls Vapi reported ended, those with a Twilio status callback:
                    below 100% the number's status callback is missing (or was reset), and the rates fall
                    back to Vapi's view for those calls
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from voicetrail.domain.calls.state import CallSummary, utc_day
from voicetrail.domain.latency import SLOW_TURN_MS, LatencyAggregate
from voicetrail.domain.retention.classes import DAY, RetentionPolicy
from voicetrail.storage.ledger import DynamoCallLedger


def days_between(since: float, until: float) -> list[str]:
    days: list[str] = []
    t = int(since) - int(since) % DAY
    while t <= until:
        days.append(utc_day(t * 1000))
        t += DAY
    return days


@dataclass
class RoiRow:
    label: str
    calls: int = 0
    answered: int = 0
    completed: int = 0
    escalated: int = 0
    consent_decided: int = 0
    consent_granted: int = 0
    handle_s: float = 0.0
    handled_calls: int = 0
    ai_cost: float = 0.0
    costed_calls: int = 0
    ai_only_minutes: float = 0.0
    human_cost_per_minute: float = 0.0
    latency: LatencyAggregate = field(default_factory=LatencyAggregate)
    twilio_ended: int = 0  # calls carried by Twilio (Vapi's phoneCallProviderId) that Vapi reported ended
    twilio_status_seen: int = 0  # of those, the ones a Twilio status callback reached

    def add(self, call: CallSummary) -> None:
        self.calls += 1
        if call.twilio_call_sid and call.vapi_ended:
            self.twilio_ended += 1
            self.twilio_status_seen += call.status is not None
        self.latency.add(call.latency)
        answered = call.was_answered
        if answered:
            self.answered += 1
            if call.escalated:
                self.escalated += 1
            if call.handle_time_s is not None:
                self.handle_s += call.handle_time_s
                self.handled_calls += 1
                if not call.escalated:
                    self.ai_only_minutes += call.handle_time_s / 60
        # Without Twilio status callbacks, Vapi's end of an answered call is its completion.
        if call.final_status == "completed" or (call.status is None and answered and call.vapi_ended):
            self.completed += 1
        if call.consent:
            self.consent_decided += 1
            self.consent_granted += call.consent == "granted"
        if call.cost_usd is not None:
            self.ai_cost += call.cost_usd
            self.costed_calls += 1

    @staticmethod
    def _ratio(num: float, den: float) -> float | None:
        return num / den if den else None

    @property
    def answer_rate(self) -> float | None:
        return self._ratio(self.answered, self.calls)

    @property
    def completion_rate(self) -> float | None:
        return self._ratio(self.completed, self.calls)

    @property
    def escalation_rate(self) -> float | None:
        return self._ratio(self.escalated, self.answered)

    @property
    def consent_rate(self) -> float | None:
        return self._ratio(self.consent_granted, self.consent_decided)

    @property
    def average_handle_time_s(self) -> float | None:
        return self._ratio(self.handle_s, self.handled_calls)

    @property
    def twilio_status_coverage(self) -> float | None:
        return self._ratio(self.twilio_status_seen, self.twilio_ended)

    @property
    def cost_per_call(self) -> float | None:
        return self._ratio(self.ai_cost, self.costed_calls)

    @property
    def human_cost(self) -> float:
        return self.ai_only_minutes * self.human_cost_per_minute

    @property
    def saving(self) -> float:
        return self.human_cost - self.ai_cost


@dataclass(frozen=True)
class SlowCall:
    """A call whose own turn-latency p95 is above the report's slow-turn line."""

    call_key: str
    first_ts_ms: int
    turn_p95_ms: float
    turn_max_ms: float
    slowest_turn: int  # 1-based
    turns: int


@dataclass
class RoiReport:
    since: float
    until: float
    human_cost_per_minute: float
    total: RoiRow
    days: list[RoiRow] = field(default_factory=list)
    slow_turn_ms: float = SLOW_TURN_MS
    slow_calls: list[SlowCall] = field(default_factory=list)
    # One row per voice platform that carried calls in the range (vapi, retell, elevenlabs; twilio for
    # calls seen only through Twilio's callbacks).
    platforms: list[RoiRow] = field(default_factory=list)


def dedupe(summaries: Iterable[CallSummary]) -> list[CallSummary]:
    """A Vapi-keyed summary whose call also has a Twilio-keyed summary is the same call: keep one."""
    items = list(summaries)
    joined = {s.vapi_call_id for s in items if s.twilio_call_sid and s.vapi_call_id}
    return [s for s in items if s.twilio_call_sid or s.vapi_call_id not in joined]


def compute(
    summaries: Iterable[CallSummary],
    *,
    since: float,
    until: float,
    human_cost_per_minute: float,
    slow_turn_ms: float = SLOW_TURN_MS,
) -> RoiReport:
    def row(label: str) -> RoiRow:
        return RoiRow(
            label,
            human_cost_per_minute=human_cost_per_minute,
            latency=LatencyAggregate(slow_turn_ms=slow_turn_ms),
        )

    total = row("total")
    per_day: dict[str, RoiRow] = {d: row(d) for d in days_between(since, until)}
    per_platform: dict[str, RoiRow] = {}
    slow: list[SlowCall] = []
    for call in dedupe(summaries):
        if not since * 1000 <= call.first_ts_ms < until * 1000:
            continue
        total.add(call)
        day = utc_day(call.first_ts_ms)
        per_day.setdefault(day, row(day)).add(call)
        platform = call.voice_platform or "twilio"
        per_platform.setdefault(platform, row(platform)).add(call)
        if call.latency is not None and call.latency.is_slow(slow_turn_ms):
            latencies = call.latency.turn_latencies_ms
            slowest = max(range(len(latencies)), key=latencies.__getitem__)
            slow.append(
                SlowCall(
                    call_key=call.call_key,
                    first_ts_ms=call.first_ts_ms,
                    turn_p95_ms=call.latency.turn_p95_ms or 0.0,
                    turn_max_ms=latencies[slowest],
                    slowest_turn=slowest + 1,
                    turns=len(latencies),
                )
            )
    return RoiReport(
        since=since,
        until=until,
        human_cost_per_minute=human_cost_per_minute,
        total=total,
        days=[per_day[d] for d in sorted(per_day)],
        slow_turn_ms=slow_turn_ms,
        slow_calls=sorted(slow, key=lambda c: -c.turn_p95_ms),
        platforms=[per_platform[p] for p in sorted(per_platform)],
    )


def load_report(
    client: Any,
    table: str,
    *,
    since: float,
    until: float,
    human_cost_per_minute: float,
    now: float,
    slow_turn_ms: float = SLOW_TURN_MS,
) -> RoiReport:
    ledger = DynamoCallLedger(client, table, RetentionPolicy())
    summaries = ledger.summaries_for_days(days_between(since, until), now=now)
    return compute(
        summaries,
        since=since,
        until=until,
        human_cost_per_minute=human_cost_per_minute,
        slow_turn_ms=slow_turn_ms,
    )
