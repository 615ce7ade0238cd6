"""Scheduled retention purge (EventBridge): delete expired items without waiting for DynamoDB TTL."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from voicetrail.config import PurgeSettings
from voicetrail.observability import build_logger, build_metrics, tracer_decorator
from voicetrail.retention_purge.purge import RetentionPurger
from voicetrail.storage.dynamo import dynamodb_client

SERVICE = "retention_purge"
settings = PurgeSettings.from_env()
logger = build_logger(SERVICE)
metrics = build_metrics(settings.metrics_namespace, SERVICE)
metrics.set_default_dimensions(environment=settings.environment)
purger = RetentionPurger(dynamodb_client(endpoint_url=settings.dynamodb_endpoint), settings.table_name)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer_decorator(settings.tracing_enabled, SERVICE)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dry_run = bool(event.get("dry_run", settings.dry_run)) if isinstance(event, dict) else settings.dry_run
    report = purger.run(dry_run=dry_run, remaining_ms=context.get_remaining_time_in_millis)
    metrics.add_metric(name="PurgeDeleted", unit="Count", value=sum(report.deleted.values()))
    metrics.add_metric(name="PurgeFailures", unit="Count", value=report.failures)
    metrics.add_metric(name="PurgeRuns", unit="Count", value=1)
    logger.info("purge finished", extra=report.as_dict())
    return report.as_dict()
