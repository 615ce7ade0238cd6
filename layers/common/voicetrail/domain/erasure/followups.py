"""Follow-up deletions at providers: what an erasure could not finish at Twilio, Vapi or any provider.

Our own copy of a caller's data is erased at once (voicetrail.domain.erasure.eraser). What providers hold
is deleted by a follow-up task per (provider, target): written *before* the call's items (which point at
the target) are deleted, so a crash in between leaves a task, never an orphan; tried once inline by the
erasure; then retried by every scheduled purge run (`FollowUpRunner`, from the retention purge function)
until the provider answers deleted or gone.

A task is due `deadline_days` after the request (default 25: inside GDPR's one month, with days to act).
A run that finds a task past its due time counts it in `ErasureFollowUpOverdue` (alarmed). A task whose
provider is no longer configured is closed as skipped (the receipt said what was configured then). Tasks
hold provider ids (a recording SID, a Vapi call id), the call id and the request id: no number, no hash.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from voicetrail.domain.audit.trail import AuditKind, AuditTrail
from voicetrail.domain.erasure.ports import ErasureTasks
from voicetrail.domain.erasure.providers import ProviderRegistry
from voicetrail.infra.observability import MetricsRecorder

DAY = 86_400
DEFAULT_DEADLINE_DAYS = 25
FOLLOWUP_CHAIN = "erasure"


def _iso(epoch_s: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


@dataclass(frozen=True)
class ErasureTask:
    """One deletion still to do at a provider, and what the attempts so far answered."""

    provider: str
    target: str
    call_id: str
    request_id: str
    created_at: int
    due_at: int
    attempts: int = 0
    last_outcome: str = "queued"  # queued | retry | failed (deleted/gone close the task)
    last_attempt_at: int = 0

    def overdue(self, now: float) -> bool:
        return now >= self.due_at

    def attempted(self, outcome: str, now: float) -> ErasureTask:
        return replace(self, attempts=self.attempts + 1, last_outcome=outcome, last_attempt_at=int(now))

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "target": self.target,
            "call_id": self.call_id,
            "request_id": self.request_id,
            "created_at": _iso(self.created_at),
            "due_at": _iso(self.due_at),
            "attempts": self.attempts,
            "last_outcome": self.last_outcome,
        }


@dataclass
class FollowUpReport:
    """One run over the open tasks."""

    seen: int = 0
    deleted: int = 0
    skipped: int = 0
    pending: int = 0
    overdue: int = 0
    stopped_early: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "deleted": self.deleted,
            "skipped": self.skipped,
            "pending": self.pending,
            "overdue": self.overdue,
            "stopped_early": self.stopped_early,
        }


class FollowUpRunner:
    """Retries the open follow-up tasks: from the scheduled purge function, after the purge."""

    def __init__(
        self,
        tasks: ErasureTasks,
        providers: ProviderRegistry,
        *,
        audit: AuditTrail | None = None,
        metrics: MetricsRecorder | None = None,
        clock: Callable[[], float] = time.time,
        limit: int = 1_000,
        safety_ms: int = 20_000,
    ) -> None:
        self._tasks = tasks
        self._providers = providers
        self._audit = audit
        self._metrics = metrics
        self._clock = clock
        self._limit = limit
        self._safety_ms = safety_ms

    def run(self, *, remaining_ms: Callable[[], int] | None = None, dry_run: bool = False) -> FollowUpReport:
        report = FollowUpReport()
        now = self._clock()
        for task in self._tasks.pending(self._limit):
            if remaining_ms is not None and remaining_ms() < self._safety_ms:
                report.stopped_early = True  # the next run picks them up: nothing is lost
                break
            report.seen += 1
            provider = self._providers.get(task.provider)
            if provider is None or provider.delete is None:
                report.skipped += 1
                if not dry_run:
                    self._tasks.done(task)  # configuration changed: nothing here can delete it any more
                continue
            if dry_run:
                report.pending += 1
                report.overdue += task.overdue(now)
                continue
            outcome = provider.delete(task.target)
            if outcome.ok:
                report.deleted += 1
                self._tasks.done(task)
                continue
            self._tasks.update(task.attempted(outcome.value, now))
            report.pending += 1
            report.overdue += task.overdue(now)
        if not dry_run:
            self._record(report, now)
        return report

    def _record(self, report: FollowUpReport, now: float) -> None:
        if self._metrics is not None:
            self._metrics.count("ErasureFollowUpsDeleted", report.deleted)
            self._metrics.count("ErasureFollowUpsPending", report.pending)
            self._metrics.count("ErasureFollowUpOverdue", report.overdue)
        if self._audit is not None and (report.deleted or report.skipped or report.overdue):
            details: dict[str, int | str] = {
                "followups_deleted": report.deleted,
                "followups_skipped": report.skipped,
                "followups_pending": report.pending,
                "followups_overdue": report.overdue,
            }
            self._audit.append_system(FOLLOWUP_CHAIN, AuditKind.ERASURE, details, now)
