"""ROI metrics: the names operators chart and alarm on, emitted through a MetricsRecorder (EMF).

Namespace: POWERTOOLS_METRICS_NAMESPACE (template parameter MetricsNamespace). Every metric has the
`environment` dimension; per-call counts also carry Powertools' `service` dimension (the function
that emitted them). Rates are not emitted: answer rate = CallsAnswered / CallsStarted and completion
rate = CallsCompleted / CallsStarted are metric-math expressions in the dashboard and ratios in
`voicetrail report`, so they aggregate correctly over any period.

Each call-level metric is emitted once per call, from a state transition of the call ledger, never
per delivery: duplicates and out-of-order callbacks do not inflate them.

Vapi-side helpers (`escalation`, `consent`, `call_cost`) are for the live-call-control and webhook
code: call them when the fact is first recorded (e.g. the conditional write that grants the one
escalation of a call succeeded), so they too count once per call.
"""

from __future__ import annotations

from voicetrail.errors import AuthFailure
from voicetrail.infra.observability import MetricsRecorder

CALLS_STARTED = "CallsStarted"
CALLS_ANSWERED = "CallsAnswered"
CALL_DURATION = "CallDuration"
AUTH_REJECTED = "AuthRejected"
DUPLICATES = "EventDuplicate"
SECRET_REFRESHED = "SecretRefreshed"  # noqa: S105 - a metric name
ESCALATIONS = "Escalations"
CONSENT_GRANTED = "ConsentGranted"
CONSENT_DENIED = "ConsentDenied"
CALL_COST = "CallCost"
RECORDINGS_INDEXED = "RecordingsIndexed"

# Final Twilio status -> metric. `canceled` (caller hung up before answer) is its own outcome.
FINAL_STATUS_METRICS = {
    "completed": "CallsCompleted",
    "failed": "CallsFailed",
    "busy": "CallsBusy",
    "no-answer": "CallsNoAnswer",
    "canceled": "CallsCanceled",
}
ROI_COUNTS = (CALLS_STARTED, CALLS_ANSWERED, *FINAL_STATUS_METRICS.values())
SOURCES = frozenset({"twilio", "vapi"})


class RoiMetrics:
    """Typed façade over a MetricsRecorder: closed-set names and dimensions, no caller data."""

    def __init__(self, recorder: MetricsRecorder) -> None:
        self._recorder = recorder

    # -- call outcomes (Twilio side) -----------------------------------------------------------------

    def call_started(self) -> None:
        self._recorder.count(CALLS_STARTED)

    def call_answered(self) -> None:
        self._recorder.count(CALLS_ANSWERED)

    def call_ended(self, final_status: str, duration_s: int | None) -> None:
        name = FINAL_STATUS_METRICS.get(final_status)
        if name is None:
            return
        self._recorder.count(name)
        if duration_s is not None and duration_s >= 0:
            self._recorder.value(CALL_DURATION, float(duration_s), "Seconds")

    def recording_indexed(self) -> None:
        self._recorder.count(RECORDINGS_INDEXED)

    # -- webhook hygiene -----------------------------------------------------------------------------

    def auth_rejected(self, source: str, reason: AuthFailure) -> None:
        self._recorder.count(AUTH_REJECTED, source=_source(source), reason=reason.value)

    def secret_refreshed(self, source: str) -> None:
        """A request failed with the cached secret and passed with the store's current one (a rotation)."""
        self._recorder.count(SECRET_REFRESHED, source=_source(source))

    def duplicate(self, source: str, message_type: str) -> None:
        self._recorder.count(DUPLICATES, source=_source(source), message_type=message_type)

    # -- Vapi side (called by the live-call and webhook code) ----------------------------------------

    def escalation(self) -> None:
        """A call was handed to a human (transfer / forwarded). Call once per call."""
        self._recorder.count(ESCALATIONS)

    def consent(self, granted: bool) -> None:
        """The caller's recording consent was decided. Call once per call, on the final decision."""
        self._recorder.count(CONSENT_GRANTED if granted else CONSENT_DENIED)

    def call_cost(self, cost_usd: float) -> None:
        """AI cost of one call (end-of-call-report `cost`, USD). Call once per call (when stored)."""
        if cost_usd >= 0:
            self._recorder.value(CALL_COST, float(cost_usd), "None")


def _source(source: str) -> str:
    return source if source in SOURCES else "other"
