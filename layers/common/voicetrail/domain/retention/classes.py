"""Retention classes and expiry.

Every stored item carries `retention_class` and `expires_at` (epoch seconds; also the DynamoDB TTL
attribute) plus a sparse expiry-bucket index key, so the purge reads only what has expired.
A policy change applies to items written after it; existing items keep the expiry they were written with.
A Vapi event's class follows its content, not its type: providers.vapi.service stores an event that kept
caller content as `content`, any other as `metadata`.
"""

from __future__ import annotations

import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

DAY = 86_400


class RetentionClass(StrEnum):
    CONTENT = "content"  # transcripts, messages, reports: anything a caller said
    METADATA = "metadata"  # statuses, timings, costs: no caller content
    RECORDING = "recording"  # pointers to audio held at Twilio or Vapi
    AUDIT = "audit"  # the compliance trail itself


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    content_days: int = Field(default=30, ge=1)
    metadata_days: int = Field(default=90, ge=1)
    recording_days: int = Field(default=30, ge=1)
    audit_days: int = Field(default=2190, ge=1)

    def days(self, retention_class: RetentionClass) -> int:
        return int(getattr(self, f"{retention_class.value}_days"))

    def expires_at(self, retention_class: RetentionClass, now: float | None = None) -> int:
        return int(now if now is not None else time.time()) + self.days(retention_class) * DAY
