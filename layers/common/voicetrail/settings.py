"""One validated settings model per function, read from the environment at cold start.

A bad setting fails the cold start (and so the deploy's smoke test), never a single request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from voicetrail.domain.retention.classes import RetentionPolicy
from voicetrail.errors import ConfigurationError
from voicetrail.infra.secrets import ALLOW_ENV_SECRETS_VAR, SecretRef
from voicetrail.providers.vapi.auth import VapiAuthConfig
from voicetrail.providers.vapi.predial import PredialPolicy
from voicetrail.redaction import RedactionPolicy

if TYPE_CHECKING:
    from voicetrail.storage.audio import S3AudioStore
    from voicetrail.storage.large_bodies import S3BodyStore


class _EnvModel(BaseModel):
    # defer_build: each function builds only its own settings model at cold start.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = dict(os.environ if environ is None else environ)
        try:
            allow_env = env.get(ALLOW_ENV_SECRETS_VAR, "").lower() == "true"
            return cls.model_validate(cls._collect(env), context={"allow_env_secrets": allow_env})
        except ValidationError as exc:
            # Name the settings that failed, never their values (they may be secrets).
            names = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
            raise ConfigurationError(f"invalid settings: {', '.join(names)}") from None

    @classmethod
    def _collect(cls, env: dict[str, str]) -> dict[str, Any]:
        return env


def _parse_ref(value: Any, info: ValidationInfo) -> Any:
    allow_env = bool((info.context or {}).get("allow_env_secrets", False))
    return SecretRef.parse(value, allow_env=allow_env) if isinstance(value, str) else value


def _retention_from_env(env: Mapping[str, str]) -> dict[str, str]:
    keys = {
        "content_days": "RETENTION_DAYS_CONTENT",
        "metadata_days": "RETENTION_DAYS_METADATA",
        "recording_days": "RETENTION_DAYS_RECORDING",
        "audit_days": "RETENTION_DAYS_AUDIT",
    }
    return {field: env[var] for field, var in keys.items() if env.get(var)}


_VAPI_AUTH_ENV = {
    "scheme": "VAPI_AUTH_SCHEME",
    "secret_header": "VAPI_SECRET_HEADER",
    "bearer_header": "VAPI_BEARER_HEADER",
    "bearer_prefix": "VAPI_BEARER_PREFIX",
    "algorithm": "VAPI_HMAC_ALGORITHM",
    "signature_header": "VAPI_SIGNATURE_HEADER",
    "timestamp_header": "VAPI_TIMESTAMP_HEADER",
    "payload_format": "VAPI_PAYLOAD_FORMAT",
    "signature_encoding": "VAPI_SIGNATURE_ENCODING",
    "signature_prefix": "VAPI_SIGNATURE_PREFIX",
    "secret_is_base64": "VAPI_SECRET_IS_BASE64",
    "replay_window_seconds": "VAPI_REPLAY_WINDOW_SECONDS",
}


def vapi_auth_from_env(env: Mapping[str, str]) -> dict[str, str]:
    # An empty variable means "use the default" (SAM passes empty strings for blank parameters).
    return {field: env[var] for field, var in _VAPI_AUTH_ENV.items() if env.get(var, "") != ""}


class CommonSettings(_EnvModel):
    environment: str = Field(default="dev", alias="VOICETRAIL_ENV", pattern=r"^[a-z0-9-]{1,32}$")
    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    dynamodb_endpoint: str | None = Field(default=None, alias="AWS_ENDPOINT_URL_DYNAMODB")
    pepper_ref: SecretRef = Field(alias="HASH_PEPPER_REF")
    # Where event bodies too large for a DynamoDB item go (storage.large_bodies); unset: they are refused
    # (422) and quarantined. The KMS key: the deployment's (KmsKeyArn), else S3's AWS-managed key.
    large_events_bucket: str | None = Field(default=None, alias="LARGE_EVENTS_BUCKET")
    large_events_kms_key: str | None = Field(default=None, alias="LARGE_EVENTS_KMS_KEY")

    def large_bodies(self) -> S3BodyStore | None:
        if not self.large_events_bucket:
            return None
        from voicetrail.storage.large_bodies import S3BodyStore, s3_client

        return S3BodyStore(
            s3_client(), self.large_events_bucket, kms_key_id=self.large_events_kms_key or None
        )

    secret_cache_seconds: int = Field(default=300, alias="SECRET_CACHE_SECONDS", ge=0, le=3600)
    tracing_enabled: bool = Field(default=False, alias="VOICETRAIL_TRACING")
    metrics_namespace: str = Field(default="Voicetrail", alias="POWERTOOLS_METRICS_NAMESPACE")
    retention: RetentionPolicy = RetentionPolicy()

    @field_validator("pepper_ref", mode="before")
    @classmethod
    def _secret_ref(cls, value: Any, info: ValidationInfo) -> Any:
        return _parse_ref(value, info)

    @classmethod
    def _collect(cls, env: dict[str, str]) -> dict[str, Any]:
        return {**env, "retention": _retention_from_env(env)}


class VapiWebhookSettings(CommonSettings):
    vapi_secret_ref: SecretRef = Field(alias="VAPI_SECRET_REF")
    auth: VapiAuthConfig = VapiAuthConfig()
    max_body_bytes: int = Field(default=1_048_576, alias="MAX_BODY_BYTES", ge=1024, le=10_485_760)
    redact_kinds: str | None = Field(default=None, alias="VOICETRAIL_REDACT_KINDS")
    # JSON object kind -> placeholder, e.g. {"ssn": "***-**-****"}; unknown kinds fail the cold start.
    redact_placeholders: dict[str, str] = Field(default_factory=dict, alias="VOICETRAIL_REDACT_PLACEHOLDERS")

    @field_validator("redact_placeholders", mode="before")
    @classmethod
    def _placeholders(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    def redaction_policy(self) -> RedactionPolicy | None:
        """The deployment's redaction policy; None means the default (every kind but `location`, default
        placeholders)."""
        if not self.redact_kinds and not self.redact_placeholders:
            return None
        placeholders = self.redact_placeholders or None
        if self.redact_kinds:
            return RedactionPolicy.from_env_value(self.redact_kinds, placeholders)
        return RedactionPolicy(placeholders=placeholders)

    # Amazon Comprehend second pass for names/addresses on end-of-call reports (remote call: off by default).
    comprehend_second_pass: bool = Field(default=False, alias="VOICETRAIL_COMPREHEND_PASS")
    # Live call control (voicetrail.domain.live): consent, escalation, assistant-request, tools, transfers.
    live_enabled: bool = Field(default=False, alias="LIVE_CALL_CONTROL")  # template.yaml turns it on
    live_config_source: str = Field(
        default="table", alias="LIVE_CONFIG_SOURCE", pattern=r"^(table|ssm:/\S+)$"
    )
    live_config_cache_seconds: int = Field(default=30, alias="LIVE_CONFIG_CACHE_SECONDS", ge=0, le=60)
    live_control_hosts: str = Field(default="vapi.ai", alias="LIVE_CONTROL_HOSTS", min_length=1)
    live_control_timeout_seconds: float = Field(default=2.0, alias="LIVE_CONTROL_TIMEOUT_SECONDS", gt=0, le=5)
    live_control_retries: int = Field(default=2, alias="LIVE_CONTROL_RETRIES", ge=0, le=3)
    # The campaign.predial gate (voicetrail.providers.vapi.predial): a JSON object, e.g.
    # {"window_start": "09:00", "window_end": "20:00", "require_prior_consent": true}. Empty: the defaults.
    predial_policy: PredialPolicy = Field(default_factory=PredialPolicy, alias="PREDIAL_POLICY")

    @field_validator("predial_policy", mode="before")
    @classmethod
    def _predial(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("vapi_secret_ref", mode="before")
    @classmethod
    def _vapi_ref(cls, value: Any, info: ValidationInfo) -> Any:
        return _parse_ref(value, info)

    @classmethod
    def _collect(cls, env: dict[str, str]) -> dict[str, Any]:
        return {**super()._collect(env), "auth": vapi_auth_from_env(env)}


class TwilioStatusSettings(CommonSettings):
    twilio_token_ref: SecretRef = Field(alias="TWILIO_AUTH_TOKEN_REF")
    # Empty = the URL each request reached (API Gateway's domain and stage). Set it for a custom domain
    # with a base-path mapping, or a proxy in front: Twilio signs the URL configured in its console.
    public_base_url: str | None = Field(
        default=None, alias="TWILIO_WEBHOOK_BASE_URL", pattern=r"^https?://[^#\s]+$"
    )
    max_body_bytes: int = Field(default=65_536, alias="MAX_BODY_BYTES", ge=1024, le=10_485_760)

    @field_validator("public_base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        """Blank is None; a `#...` override fragment is dropped (Twilio never signs it). Operators paste the
        URL from the Twilio console, fragment included: that must not fail the deploy."""
        if not isinstance(value, str):
            return value
        from voicetrail.providers.twilio.signature import normalize_base_url

        return normalize_base_url(value) if value.strip() else None

    @field_validator("twilio_token_ref", mode="before")
    @classmethod
    def _twilio_ref(cls, value: Any, info: ValidationInfo) -> Any:
        return _parse_ref(value, info)


class PurgeSettings(CommonSettings):
    dry_run: bool = Field(default=False, alias="PURGE_DRY_RUN")
    mode: Literal["scheduled"] = "scheduled"


# The retention purge and the operator API (erasure). Provider credentials are optional: a deployment
# without them purges and erases what it stores, and reports each provider it cannot reach.


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
    # Retell and ElevenLabs (EnableRetell / EnableElevenLabs): empty when the platform is off.
    # The webhook function reads the same secret as RETELL_API_KEY_REF; a name of its own keeps the local
    # stack (env-held keys) from deleting at the real Retell API.
    retell_api_key_ref: SecretRef | None = Field(default=None, alias="RETELL_DELETION_KEY_REF")
    retell_api_base_url: str = Field(
        default="https://api.retellai.com", alias="RETELL_API_BASE_URL", pattern=r"^https?://[^\s#?]+$"
    )
    elevenlabs_api_key_ref: SecretRef | None = Field(default=None, alias="ELEVENLABS_API_KEY_REF")
    elevenlabs_api_base_url: str = Field(
        default="https://api.elevenlabs.io", alias="ELEVENLABS_API_BASE_URL", pattern=r"^https?://[^\s#?]+$"
    )
    external_timeout_seconds: float = Field(default=5.0, alias="EXTERNAL_TIMEOUT_SECONDS", gt=0, le=30)
    # An erasure's follow-up deletions at providers are due this many days after the request (alarm after).
    erasure_deadline_days: int = Field(default=25, alias="ERASURE_DEADLINE_DAYS", ge=1, le=30)

    @field_validator(
        "twilio_token_ref", "vapi_api_key_ref", "retell_api_key_ref", "elevenlabs_api_key_ref", mode="before"
    )
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


class ObservedWebhookSettings(CommonSettings):
    """A webhook of a platform voicetrail observes (Retell, ElevenLabs): redaction, body bound, consent."""

    max_body_bytes: int = Field(default=1_048_576, alias="MAX_BODY_BYTES", ge=1024, le=10_485_760)
    redact_kinds: str | None = Field(default=None, alias="VOICETRAIL_REDACT_KINDS")
    redact_placeholders: dict[str, str] = Field(default_factory=dict, alias="VOICETRAIL_REDACT_PLACEHOLDERS")
    comprehend_second_pass: bool = Field(default=False, alias="VOICETRAIL_COMPREHEND_PASS")
    # Where the per-number / per-agent configs live (their `observer_policy` decides consent).
    live_config_source: str = Field(
        default="table", alias="LIVE_CONFIG_SOURCE", pattern=r"^(table|ssm:/\S+|off)$"
    )
    live_config_cache_seconds: int = Field(default=30, alias="LIVE_CONFIG_CACHE_SECONDS", ge=0, le=60)

    @field_validator("redact_placeholders", mode="before")
    @classmethod
    def _placeholders(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    def redaction_policy(self) -> RedactionPolicy | None:
        """The deployment's redaction policy; None means the default (as VapiWebhookSettings)."""
        if not self.redact_kinds and not self.redact_placeholders:
            return None
        placeholders = self.redact_placeholders or None
        if self.redact_kinds:
            return RedactionPolicy.from_env_value(self.redact_kinds, placeholders)
        return RedactionPolicy(placeholders=placeholders)


class RetellWebhookSettings(ObservedWebhookSettings):
    # The Retell API key(s) with the webhook badge: every value verifies (rotation).
    retell_key_ref: SecretRef = Field(alias="RETELL_API_KEY_REF")

    @field_validator("retell_key_ref", mode="before")
    @classmethod
    def _retell_ref(cls, value: Any, info: ValidationInfo) -> Any:
        return _parse_ref(value, info)


class ElevenLabsWebhookSettings(ObservedWebhookSettings):
    # The webhook's HMAC secret(s): every value verifies (rotation).
    elevenlabs_secret_ref: SecretRef = Field(alias="ELEVENLABS_WEBHOOK_SECRET_REF")
    # post_call_audio carries the whole call as base64: it must be answered (200, dropped), not refused
    # with a 413 that counts towards ElevenLabs disabling the webhook. Lambda's request limit is 6 MB.
    max_body_bytes: int = Field(default=6_291_456, alias="MAX_BODY_BYTES", ge=1024, le=10_485_760)
    # Keep post_call_audio's decoded audio in the large-events bucket (`recording/`, the recording
    # retention) with a pointer record in the table; off: the audio is dropped.
    keep_audio: bool = Field(default=False, alias="ELEVENLABS_KEEP_AUDIO")
    # Decoded audio above this is not kept (answered 200, counted `audio_too_large`).
    max_audio_bytes: int = Field(default=4_718_592, alias="ELEVENLABS_MAX_AUDIO_BYTES", ge=1024, le=7_864_320)

    @field_validator("keep_audio")
    @classmethod
    def _audio_needs_the_bucket(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("large_events_bucket"):
            raise ValueError("keeping audio needs LARGE_EVENTS_BUCKET")
        return value

    def audio_store(self, events: Any) -> S3AudioStore | None:
        """Where kept audio goes (`events`: the function's DynamoEventStore); None when audio is dropped."""
        bodies = self.large_bodies() if self.keep_audio else None
        if bodies is None:
            return None
        from voicetrail.storage.audio import S3AudioStore

        return S3AudioStore(bodies, events)

    @field_validator("elevenlabs_secret_ref", mode="before")
    @classmethod
    def _elevenlabs_ref(cls, value: Any, info: ValidationInfo) -> Any:
        return _parse_ref(value, info)
