"""Scheduled retention purge (EventBridge): delete expired items without waiting for DynamoDB TTL, then
retry the erasure follow-ups (deletions at providers an erasure could not finish).

Event overrides (manual invokes): {"dry_run": true} counts only; {"from_days": N} re-walks N days of
expiry buckets regardless of the cursor (after a policy change that moved expiries into the past).
"""

from __future__ import annotations

from voicetrail.coldstart import init_done  # first: no cycle collection during init

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voicetrail.infra.observability import PowertoolsRecorder, build_logger, build_metrics, tracer_decorator
from voicetrail.settings import PurgeRunSettings
from voicetrail.wiring.deletion import build_followups, build_purger

SERVICE = "retention_purge"
settings = PurgeRunSettings.from_env()
logger = build_logger(SERVICE)
metrics = build_metrics(settings.metrics_namespace, SERVICE)
purger = build_purger(settings, metrics=PowertoolsRecorder(metrics, settings.environment))
followups = build_followups(settings, metrics=PowertoolsRecorder(metrics, settings.environment))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer_decorator(settings.tracing_enabled, SERVICE)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    options = event if isinstance(event, dict) else {}
    dry_run = bool(options.get("dry_run", settings.dry_run))
    from_days = options.get("from_days")
    report = purger.run(
        dry_run=dry_run,
        remaining_ms=context.get_remaining_time_in_millis,
        from_days=int(from_days) if isinstance(from_days, int) and from_days > 0 else None,
    )
    logger.info("purge finished", extra=report.as_dict())
    # Erasure follow-ups (deletions at providers) in the time the purge left: each run retries them all.
    erasure = followups.run(remaining_ms=context.get_remaining_time_in_millis, dry_run=dry_run)
    logger.info("erasure follow-ups", extra=erasure.as_dict())
    return {**report.as_dict(), "erasure_followups": erasure.as_dict()}


init_done()  # last: everything above is the function's init
