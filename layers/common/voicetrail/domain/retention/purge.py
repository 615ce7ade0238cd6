"""Retention purge: delete every item past its `expires_at`, reading only what has expired.

How a run goes:
  1. Start at the cursor (`SYS#purge` / `STATE#cursor`: the oldest day bucket that may still hold
     expired items; `lookback_days` back on the first run) and take the days up to today.
  2. Ask the expiry day records (`ExpiryDays`, one query) which buckets of those days received items, and
     per such bucket query the sparse ExpiryIndex for `exp_sk < now` (the index projects
     `retention_class` and the recording pointers, so no item is read twice). Cost: one read per expired
     item, plus a few requests (the backfill state, one page of day records, one query per bucket with
     items due). While the records do not cover every item yet (a table written before they existed),
     the run first backfills them (one scan of the ExpiryIndex in a table's life; a dry run scans without
     writing) and, if it could not finish, queries every bucket of every day (17 per day) as before.
  3. Items of class `recording` first have their recording deleted at Twilio and their call's artifacts
     at Vapi. Only when both succeed (or were already gone) is the pointer item deleted. Otherwise the
     item gets `purge_attempts + 1` and its TTL is held off (`expires_at` pushed `hold_days` ahead; the
     due time stays in `exp_sk`), so DynamoDB TTL can never drop the only pointer to an undeleted
     recording. From `alarm_after_attempts` on, every run counts it in `PurgeRecordingStuck` (alarmed).
     A kept-audio pointer (`REC#<source>#audio`, storage.audio) points at nothing outside: it is deleted
     with its S3 object (the object first), and counted in the audit record (`audio_objects_deleted`).
  4. Everything else is deleted in BatchWriteItem calls of <= 25 (UnprocessedItems retried with backoff).
  5. Before each page, batch and external call the run checks the Lambda deadline and stops cleanly with
     `safety_ms` to spare. Deleted items leave the index, so the next run resumes where this one stopped;
     re-deleting is a no-op and a 404 at Twilio/Vapi counts as done, so every step is idempotent.
  6. The run drops the day records of clean days before yesterday (no writer adds to a past day), moves
     the cursor to the oldest bucket that still has work, writes ONE audit record
     (counts per class, failures, duration) and emits metrics. A dry run only reads and counts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voicetrail.domain.audit.trail import AuditKind, AuditTrail
from voicetrail.domain.calls.ports import is_kept_audio
from voicetrail.domain.erasure.deleters import (
    CallArtifactDeleter,
    ExternalDeletions,
    RecordingDeleter,
    Unconfigured,
    is_twilio_pk,
    recording_ref,
)
from voicetrail.domain.items import BATCH_LIMIT, ItemDeleter, ItemKey
from voicetrail.domain.retention.classes import DAY, RetentionClass, RetentionPolicy
from voicetrail.domain.retention.ports import ExpiredItems, ExpiryDays, PurgeCursor
from voicetrail.infra.observability import MetricsRecorder

PURGE_CHAIN = "purge"
CLASSES = ("content", "metadata", "recording", "audit", "unknown")


@dataclass(frozen=True)
class PurgeConfig:
    """Tuning of one purge run."""

    lookback_days: int = 400  # first run (no cursor) or an explicit `from_days`
    safety_ms: int = 20_000  # stop this long before the deadline (audit write + metrics flush)
    alarm_after_attempts: int = 3
    hold_days: int = 7
    page_limit: int = 500


@dataclass
class PurgeReport:
    """What one purge run read, deleted and left for the next run."""

    days: int = 0  # days in the run's range
    buckets: int = 0  # ExpiryIndex buckets queried
    index_reads: int = 0  # requests to the expiry day records (state, record pages, backfill scan pages)
    every_bucket: bool = False  # the day records were not complete: every bucket of every day was read
    items_read: int = 0
    expired: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    failures: int = 0  # items left in place this run (batch leftovers + recordings not yet deleted)
    recordings_pending: int = 0
    recordings_stuck: int = 0
    twilio_deleted: int = 0
    vapi_deleted: int = 0
    platforms_deleted: dict[str, int] = field(default_factory=dict)  # Retell and ElevenLabs calls
    audio_deleted: int = 0  # kept-audio pointers deleted, each with its object (storage.audio)
    stopped_early: bool = False
    dry_run: bool = False
    duration_ms: int = 0
    cursor: str = ""  # YYYY-MM-DD: the next run starts at this expiry bucket
    cursor_day: int = 0  # the same, in days since the epoch (audit details hold no dates)

    @property
    def deleted_total(self) -> int:
        return sum(self.deleted.values())

    def audit_details(self) -> dict[str, int | str]:
        details: dict[str, int | str] = {f"deleted_{c}": self.deleted.get(c, 0) for c in CLASSES}
        details.update(
            items_read=self.items_read,
            deleted_total=self.deleted_total,
            failures=self.failures,
            recordings_pending=self.recordings_pending,
            recordings_stuck=self.recordings_stuck,
            twilio_recordings_deleted=self.twilio_deleted,
            vapi_calls_deleted=self.vapi_deleted,
            days=self.days,
            buckets=self.buckets,
            index_reads=self.index_reads,
            stopped_early=int(self.stopped_early),
            duration_ms=self.duration_ms,
            cursor_day=self.cursor_day,
        )
        if self.audio_deleted:
            details["audio_objects_deleted"] = self.audio_deleted
        return details

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "days": self.days,
            "buckets": self.buckets,
            "index_reads": self.index_reads,
            "every_bucket": self.every_bucket,
            "items_read": self.items_read,
            "expired": dict(self.expired),
            "deleted": dict(self.deleted),
            "deleted_total": self.deleted_total,
            "failures": self.failures,
            "recordings_pending": self.recordings_pending,
            "recordings_stuck": self.recordings_stuck,
            "twilio_recordings_deleted": self.twilio_deleted,
            "vapi_calls_deleted": self.vapi_deleted,
            "audio_objects_deleted": self.audio_deleted,
            "stopped_early": self.stopped_early,
            "duration_ms": self.duration_ms,
            "cursor": self.cursor,
        }


class _DeadlineError(Exception):
    pass


class RetentionPurger:
    def __init__(
        self,
        items: ExpiredItems,
        cursor: PurgeCursor,
        deleter: ItemDeleter,
        *,
        days: ExpiryDays | None = None,
        recordings: RecordingDeleter | None = None,
        calls: CallArtifactDeleter | None = None,
        platforms: Mapping[str, CallArtifactDeleter] | None = None,
        metrics: MetricsRecorder | None = None,
        audit: AuditTrail | None = None,
        retention: RetentionPolicy | None = None,
        config: PurgeConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._items = items
        self._cursor = cursor
        self._days = days  # None: no day records (an in-memory store): every bucket of every day is read
        self._recordings: RecordingDeleter = recordings or Unconfigured()
        self._calls: CallArtifactDeleter = calls or Unconfigured()
        # Retell and ElevenLabs: their calls' pointer items expire like Vapi's, and go at the platform.
        self._platforms = dict(platforms or {})
        self._metrics = metrics
        self._audit = audit
        self._retention = retention or RetentionPolicy()
        self._config = config or PurgeConfig()
        self._deleter = deleter
        self._clock = clock

    # ---- the run ---------------------------------------------------------------------------------

    def run(
        self,
        *,
        dry_run: bool = False,
        remaining_ms: Callable[[], int] | None = None,
        from_days: int | None = None,
    ) -> PurgeReport:
        started = self._clock()
        now = int(started)
        report = PurgeReport(dry_run=dry_run)
        external = ExternalDeletions(self._recordings, self._calls, self._platforms)
        state = _RunState(
            report=report,
            external=external,
            now=now,
            dry_run=dry_run,
            remaining=remaining_ms,
            safety_ms=self._config.safety_ms,
        )
        today = _day_start(now)
        first = today - (from_days if from_days is not None else self._config.lookback_days) * DAY
        if from_days is None:
            cursor = self._cursor.read()
            if cursor is not None:
                first = max(first, min(cursor, today))
        dirty_from: int | None = None
        day = first
        try:
            marked = self._marked_buckets(first, today, state)
            report.every_bucket = marked is None
            while day <= today:
                report.days += 1
                clean = True
                # every shard of the day and the pre-sharding key, or only those the day's record names
                buckets = self._items.day_buckets(day) if marked is None else marked.get(day, ())
                for bucket in buckets:
                    report.buckets += 1
                    clean &= self._purge_bucket(bucket, state)
                if not clean and dirty_from is None:
                    dirty_from = day
                if clean and buckets and marked is not None and not dry_run and day < today - DAY:
                    state.check()
                    self._forget(day)
                day += DAY
        except _DeadlineError:
            report.stopped_early = True
            if dirty_from is None:
                dirty_from = day
        if self._days is not None:
            report.index_reads = self._days.reads
        report.twilio_deleted = external.twilio_deleted
        report.vapi_deleted = external.vapi_deleted
        report.platforms_deleted = {name: external.platform_deleted(name) for name in sorted(self._platforms)}
        new_cursor = dirty_from if dirty_from is not None else today
        report.cursor = time.strftime("%Y-%m-%d", time.gmtime(new_cursor))
        report.cursor_day = new_cursor // DAY
        report.duration_ms = int((self._clock() - started) * 1000)
        if not dry_run:
            expires_at = self._retention.expires_at(RetentionClass.METADATA, now)
            self._cursor.write(new_cursor, now=now, expires_at=expires_at)
            if self._audit is not None:
                self._audit.append_system(PURGE_CHAIN, AuditKind.PURGE, report.audit_details(), now)
        self._emit(report)
        return report

    def _marked_buckets(self, first: int, today: int, state: _RunState) -> dict[int, tuple[str, ...]] | None:
        """The buckets that received items, per day of the range; None: read every bucket."""
        if self._days is None:
            return None
        marked = self._days.buckets(first, today)
        if marked is not None:
            return marked
        return self._days.backfill(first, today, write=not state.dry_run, more=state.has_time, now=state.now)

    def _forget(self, day: int) -> None:
        if self._days is not None:
            self._days.forget(day)

    def _purge_bucket(self, bucket: str, state: _RunState) -> bool:
        """Purge one day bucket; True when nothing expired is left in it."""
        clean = True
        start: Any | None = None
        while True:
            state.check()
            items, start = self._items.expired_page(
                bucket, now=state.now, limit=self._config.page_limit, start=start
            )
            state.report.items_read += len(items)
            clean &= self._purge_items(items, state)
            if start is None:
                return clean

    def _purge_items(self, items: list[dict[str, Any]], state: _RunState) -> bool:
        report = state.report
        deletable: list[tuple[ItemKey, str]] = []
        clean = True
        for item in items:
            rclass = _class_of(item)
            report.expired[rclass] += 1
            if state.dry_run:
                continue
            if rclass == RetentionClass.RECORDING.value:
                state.check()
                if not self._release_recording(item, state):
                    clean = False
                    continue
            deletable.append((ItemKey.of(item), rclass))
        for start in range(0, len(deletable), BATCH_LIMIT):
            state.check()
            chunk = deletable[start : start + BATCH_LIMIT]
            classes = dict(chunk)
            outcome = self._deleter.delete([k for k, _ in chunk])
            for key in outcome.deleted:
                report.deleted[classes[key]] += 1
                report.audio_deleted += is_kept_audio(key.sk)
            if outcome.failed:
                clean = False
                report.failures += len(outcome.failed)
        return clean

    def _release_recording(self, item: dict[str, Any], state: _RunState) -> bool:
        """Delete the recording outside DynamoDB; True when the pointer item may now be deleted."""
        ref = recording_ref(item)
        pk = item["pk"]["S"]
        if ref.twilio_recording_sid is None and is_twilio_pk(pk):
            full = self._items.get(ItemKey.of(item))  # pointer not projected: read the item itself
            state.report.items_read += 1
            if full is None:
                return True  # already gone
            ref = recording_ref(full)
        if ref.vapi_call_id is None and is_twilio_pk(pk):
            # The call ledger's SUMMARY knows the Vapi call of a Twilio call (if Vapi handled it).
            summary = self._items.call_summary(pk, projection="vapi_call_id")
            state.report.items_read += 1
            ref = ref.with_vapi(recording_ref(summary or {}).vapi_call_id)
        outcome = state.external.delete(ref)
        if outcome.ok:
            return True
        attempts = self._items.count_purge_attempt(
            item, outcome=outcome.value, now=state.now, hold_until=state.now + self._config.hold_days * DAY
        )
        state.report.failures += 1
        state.report.recordings_pending += 1
        if attempts >= self._config.alarm_after_attempts:
            state.report.recordings_stuck += 1
        return False

    # ---- metrics ---------------------------------------------------------------------------------

    def _emit(self, report: PurgeReport) -> None:
        if self._metrics is None:
            return
        m = self._metrics
        mode = "dry_run" if report.dry_run else "purge"
        m.count("PurgeRuns", 1)
        m.count("PurgeItemsRead", report.items_read)
        m.count("PurgeExpired", sum(report.expired.values()))
        m.count("PurgeDeleted", report.deleted_total)
        m.count("PurgeFailures", report.failures)
        m.count("PurgeRecordingsPending", report.recordings_pending)
        m.count("PurgeRecordingStuck", report.recordings_stuck)
        m.count("PurgeStoppedEarly", int(report.stopped_early))
        m.value("PurgeDurationMs", report.duration_ms, "Milliseconds")
        m.count("PurgeExternalDeleted", report.twilio_deleted, provider="twilio", mode=mode)
        m.count("PurgeExternalDeleted", report.vapi_deleted, provider="vapi", mode=mode)
        for name, deleted in sorted(report.platforms_deleted.items()):
            m.count("PurgeExternalDeleted", deleted, provider=name, mode=mode)
        for rclass, count in sorted(report.deleted.items()):
            m.count("PurgeDeletedByClass", count, retention_class=rclass)


@dataclass
class _RunState:
    """The state one purge run carries between buckets."""

    report: PurgeReport
    external: ExternalDeletions
    now: int
    dry_run: bool
    remaining: Callable[[], int] | None
    safety_ms: int = 20_000

    def has_time(self) -> bool:
        return self.remaining is None or self.remaining() >= self.safety_ms

    def check(self) -> None:
        if not self.has_time():
            raise _DeadlineError


def _class_of(item: dict[str, Any]) -> str:
    value = item.get("retention_class", {}).get("S", "unknown")
    return value if value in CLASSES else "unknown"


def _day_start(epoch_s: int) -> int:
    return epoch_s - epoch_s % DAY
