"""The optional Amazon Comprehend second pass, built where adapters meet: the redaction package only
knows a client with `detect_pii_entities`; the client comes from the shared AWS session here."""

from __future__ import annotations

from voicetrail.redaction import ComprehendPiiPass


def comprehend_second_pass(region_name: str | None = None) -> ComprehendPiiPass:
    """A Comprehend pass on a client of the shared AWS session. Imported lazily: boto3's Comprehend client
    is needed only when the pass is switched on, and stays off every other cold start."""
    from voicetrail.infra import aws

    return ComprehendPiiPass(aws.client("comprehend", region=region_name))
