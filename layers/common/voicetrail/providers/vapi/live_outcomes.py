"""Call outcomes decided during the call (consent, escalation) -> the joined call record and ROI metrics.

The report reads consent and escalation from the call summary (domain.calls.state), and the dashboard from
the ROI metrics; both are written once per call because the live flows report only state changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from voicetrail.domain.calls.state import CallLedger, VapiCallView
from voicetrail.domain.roi import RoiMetrics
from voicetrail.infra.observability import MetricsRecorder
from voicetrail.providers.vapi.messages import VapiMessage


class CallOutcomeReporter:
    def __init__(
        self, ledger: CallLedger, metrics: MetricsRecorder, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._ledger = ledger
        self._roi = RoiMetrics(metrics)
        self._clock = clock

    def __call__(self, message: VapiMessage, *, consent: str | None = None, escalated: bool = False) -> None:
        if not message.call_id:
            return
        if escalated:
            self._roi.escalation()
        if consent in ("granted", "denied"):
            self._roi.consent(consent == "granted")
        now = self._clock()
        view = VapiCallView(
            vapi_call_id=message.call_id,
            event_ts_ms=int(message.timestamp) if message.timestamp is not None else int(now * 1000),
            provider_call_id=message.call.phoneCallProviderId if message.call else None,
            consent=consent,
            escalated=escalated,
        )
        self._ledger.merge_vapi(view, now=now)
