"""The live features on in-memory adapters: unit tests, benchmarks, and trying configs without AWS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from tests.support.memory import MemoryLiveStore, StaticConfigSource
from tests.support.metrics import MemoryRecorder
from voicetrail.domain.audit.trail import AuditKind, checked_chain, validate_details
from voicetrail.domain.live.config import ConfigResolver
from voicetrail.domain.live.consent_flow import ConsentService
from voicetrail.domain.live.control import CallController, RecordingController
from voicetrail.domain.live.escalation import EscalationService
from voicetrail.providers.vapi.live_runtime import LiveCallFeatures


@dataclass(frozen=True)
class AuditEvent:
    """An event the live features hand to the audit trail."""

    call_id: str
    kind: str
    details: dict[str, int | str]
    at_ms: int


class MemoryAuditSink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def append(self, call_id: str, kind: AuditKind, details: Mapping[str, int | str], now: float) -> None:
        self._record(checked_chain(call_id), kind, details, now)

    def append_system(self, name: str, kind: AuditKind, details: Mapping[str, int | str], now: float) -> None:
        """A system chain (the real trail's `SYS#<name>`), recorded under that pseudo call id."""
        self._record(f"SYS#{checked_chain(name)}", kind, details, now)

    def _record(self, chain: str, kind: AuditKind, details: Mapping[str, int | str], now: float) -> None:
        clean = validate_details(details)  # the same rules as the real trail: codes and counts only
        with self._lock:
            self.events.append(AuditEvent(chain, AuditKind(kind).value, clean, int(now * 1000)))

    def kinds(self, call_id: str | None = None) -> list[str]:
        return [e.kind for e in self.events if call_id is None or e.call_id == call_id]


@dataclass
class InMemoryLive:
    """The live features wired to in-memory adapters (tests and the demo)."""

    configs: dict[str, Any] = field(default_factory=dict)  # key -> dict (JSON-encoded) or raw str
    controller: CallController = field(default_factory=RecordingController)
    clock: Callable[[], float] = time.time
    store: MemoryLiveStore = field(default_factory=MemoryLiveStore)
    audit: MemoryAuditSink = field(default_factory=MemoryAuditSink)
    metrics: MemoryRecorder = field(default_factory=MemoryRecorder)
    logger: Logger = field(default_factory=lambda: Logger(service="voicetrail-live-test"))

    def __post_init__(self) -> None:
        items = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.configs.items()}
        self.source = StaticConfigSource(items)
        common: dict[str, Any] = {
            "store": self.store,
            "audit": self.audit,
            "controller": self.controller,
            "metrics": self.metrics,
            "logger": self.logger,
            "clock": self.clock,
        }
        self.features = LiveCallFeatures(
            configs=ConfigResolver(self.source, cache_seconds=30, metrics=self.metrics),
            store=self.store,
            audit=self.audit,
            consent=ConsentService(**common),
            escalation=EscalationService(**common),
            metrics=self.metrics,
            logger=self.logger,
            clock=self.clock,
        )

    def service_kwargs(self) -> dict[str, Any]:
        """The keyword arguments that plug these features into a VapiWebhookService."""
        return {
            "responders": self.features.responders(),
            "observers": (self.features.observe,),
            "content_policy": self.features.content_policy,
        }
