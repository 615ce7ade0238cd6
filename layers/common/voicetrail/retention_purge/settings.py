"""Settings of the retention purge and the operator API (erasure), read once at cold start.

Provider credentials are optional: a deployment without them purges and erases what it stores, and
every recording whose deletion needs a provider stays pending (counted, alarmed), never silently dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from voicetrail.config import CommonSettings, PurgeSettings, _parse_ref
from voicetrail.secrets import SecretRef


class ExternalDeletionSettings(CommonSettings):
    twilio_account_sid: str = Field(default="", alias="TWILIO_ACCOUNT_SID", pattern=r"^(AC[0-9a-fA-F]{32})?$")
    twilio_token_ref: SecretRef | None = Field(default=None, alias="TWILIO_AUTH_TOKEN_REF")
    # Only for local fakes (tests, `voicetrail serve`): the template never sets these two.
    twilio_api_base_url: str | None = Field(
        default=None, alias="TWILIO_API_BASE_URL", pattern=r"^https?://[^\s#?]+$"
    )
    vapi_api_base_url: str = Field(
        default="https://api.vapi.ai", alias="VAPI_API_BASE_URL", pattern=r"^https?://[^\s#?]+$"
    )
    vapi_api_key_ref: SecretRef | None = Field(default=None, alias="VAPI_API_KEY_REF")
    external_timeout_seconds: float = Field(default=5.0, alias="EXTERNAL_TIMEOUT_SECONDS", gt=0, le=30)

    @field_validator("twilio_token_ref", "vapi_api_key_ref", mode="before")
    @classmethod
    def _optional_ref(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or value == "":
            return None
        return _parse_ref(value, info)

    @field_validator("twilio_api_base_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class PurgeRunSettings(ExternalDeletionSettings, PurgeSettings):
    lookback_days: int = Field(default=400, alias="PURGE_LOOKBACK_DAYS", ge=1, le=3650)
    alarm_after_attempts: int = Field(default=3, alias="PURGE_ALARM_AFTER_ATTEMPTS", ge=1, le=100)
    safety_ms: int = Field(default=20_000, alias="PURGE_SAFETY_MS", ge=1_000, le=300_000)
    hold_days: int = Field(default=7, alias="PURGE_HOLD_DAYS", ge=1, le=90)


class OperatorSettings(ExternalDeletionSettings):
    max_body_bytes: int = Field(default=4096, alias="MAX_BODY_BYTES", ge=256, le=65_536)
