"""The quarantine as both webhooks build it: DynamoDB records, redaction over the kept text, the metadata
retention class (voicetrail.domain.quarantine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voicetrail.domain.quarantine import Metrics, Quarantine
from voicetrail.domain.retention.classes import RetentionClass, RetentionPolicy
from voicetrail.storage.quarantine import DynamoQuarantineStore

if TYPE_CHECKING:
    from voicetrail.redaction import RedactionPolicy


def build_quarantine(
    client: Any,
    table_name: str,
    retention: RetentionPolicy,
    metrics: Metrics,
    policy: RedactionPolicy | None = None,
) -> Quarantine:
    def redact_text(text: str) -> str:
        # Imported on the first quarantined message only: the Twilio function's cold start does without it.
        from voicetrail.redaction import redact

        return redact(text, policy=policy).text if policy else redact(text).text

    return Quarantine(
        DynamoQuarantineStore(client, table_name),
        redact_text=redact_text,
        expires_at=lambda now: retention.expires_at(RetentionClass.METADATA, now),
        metrics=metrics,
    )
