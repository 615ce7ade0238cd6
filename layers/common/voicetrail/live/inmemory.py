"""The live features on in-memory adapters: unit tests, benchmarks, and trying configs without AWS."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from voicetrail.live.config import ConfigResolver
from voicetrail.live.consent_flow import ConsentService
from voicetrail.live.control import CallController, RecordingController
from voicetrail.live.escalation import EscalationService
from voicetrail.live.runtime import LiveCallFeatures
from voicetrail.live.store import MemoryAuditSink
from voicetrail.observability import MemoryRecorder
from voicetrail.storage.memory import MemoryLiveStore, StaticConfigSource


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
