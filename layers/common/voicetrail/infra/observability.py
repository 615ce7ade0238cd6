"""Logger, metrics and (opt-in) tracer, shared by the functions.

Logs carry ids and counts only. As a second line of defence every log record passes through
`redact_log_value`, so a stray caller detail is redacted even if someone logs it by mistake.
Tracing uses the X-Ray SDK, which costs ~140 ms of cold start and is in maintenance mode: it is
off unless VOICETRAIL_TRACING=true.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from aws_lambda_powertools.metrics import MetricUnit

from voicetrail.redaction import redact_log_value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools JSON formatter that redacts the message and every extra field."""

    def serialize(self, log: LogRecord) -> str:
        return super().serialize(redact_log_value(log))  # type: ignore[arg-type]


def build_logger(service: str) -> Logger:
    return Logger(service=service, logger_formatter=RedactingFormatter())


class MetricsRecorder(Protocol):
    """The domain's view of metrics: counts and values with closed-set dimensions."""

    def count(self, name: str, value: float = 1, **dimensions: str) -> None: ...

    def value(self, name: str, value: float, unit: str = "None", **dimensions: str) -> None: ...


class PowertoolsRecorder:
    """Adds dimensionless metrics to the invocation's EMF blob; dimensioned ones go out as single metrics."""

    def __init__(self, metrics: Metrics, environment: str) -> None:
        self._metrics = metrics
        self._environment = environment
        metrics.set_default_dimensions(environment=environment)

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        self._emit(name, value, MetricUnit.Count, dimensions)

    def value(self, name: str, value: float, unit: str = "None", **dimensions: str) -> None:
        self._emit(
            name,
            value,
            MetricUnit(unit) if unit in MetricUnit._value2member_map_ else MetricUnit.NoUnit,
            dimensions,
        )

    def _emit(self, name: str, value: float, unit: MetricUnit, dimensions: dict[str, str]) -> None:
        if not dimensions:
            self._metrics.add_metric(name=name, unit=unit, value=value)
            return
        from aws_lambda_powertools.metrics import single_metric

        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=self._metrics.namespace,
            default_dimensions={"environment": self._environment, **dimensions},
        ):
            pass


def build_metrics(namespace: str, service: str) -> Metrics:
    return Metrics(namespace=namespace, service=service)


def tracer_decorator(enabled: bool, service: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`tracer.capture_lambda_handler` when tracing is on, else identity (keeps X-Ray off the import path)."""
    if not enabled:
        return lambda fn: fn
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=service)
    return tracer.capture_lambda_handler(capture_response=False)
