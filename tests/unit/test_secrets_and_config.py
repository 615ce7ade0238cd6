"""Secret references, rotation formats, and the per-function settings models."""

from __future__ import annotations

import pytest

from tests.conftest import function_env
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.errors import ConfigurationError
from voicetrail.infra.secrets import SecretRef, parse_secret_values
from voicetrail.providers.vapi.auth import AuthScheme
from voicetrail.settings import PurgeSettings, TwilioStatusSettings, VapiWebhookSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain-secret", ("plain-secret",)),
        ("  padded  ", ("padded",)),
        ('["a", "b"]', ("a", "b")),
        ('{"current": "a", "previous": "b"}', ("a", "b")),
        ('{"current": "a", "older": ["b", "c"], "note": 5}', ("a", "b", "c")),
        ('{"current": ""}', ()),
        ("", ()),
        ("{not json", ("{not json",)),
    ],
)
def test_secret_values_support_rotation_formats(raw: str, expected: tuple[str, ...]) -> None:
    assert parse_secret_values(raw) == expected


@pytest.mark.parametrize("ref", ["", "nosource", "vault:x", "ssm:", "secretsmanager"])
def test_malformed_secret_refs_fail_at_configuration(ref: str) -> None:
    with pytest.raises(ConfigurationError):
        SecretRef.parse(ref, allow_env=True)


def test_env_secrets_are_refused_outside_local_runs() -> None:
    with pytest.raises(ConfigurationError):
        SecretRef.parse("env:VAPI_SECRET", allow_env=False)
    assert SecretRef.parse("ssm:/voicetrail/dev/vapi", allow_env=False).source == "ssm"


def test_vapi_settings_read_the_auth_scheme_and_retention_from_env() -> None:
    settings = VapiWebhookSettings.from_env(
        function_env(
            VAPI_AUTH_SCHEME="hmac",
            VAPI_SIGNATURE_HEADER="X-Vapi-Signature",
            VAPI_PAYLOAD_FORMAT="{body}",
            VAPI_SIGNATURE_PREFIX="",
            RETENTION_DAYS_CONTENT="7",
        )
    )
    assert settings.auth.scheme is AuthScheme.HMAC
    assert settings.auth.signature_header == "x-vapi-signature"
    assert settings.auth.payload_format == "{body}"
    assert settings.retention.days(RetentionClass.CONTENT) == 7


def test_invalid_settings_name_the_setting_but_not_its_value() -> None:
    env = function_env(VAPI_AUTH_SCHEME="telepathy", MAX_BODY_BYTES="-1")
    with pytest.raises(ConfigurationError) as caught:
        VapiWebhookSettings.from_env(env)
    assert "auth.scheme" in str(caught.value)
    assert "telepathy" not in str(caught.value)


def test_env_secret_without_local_opt_in_fails_the_cold_start() -> None:
    env = function_env()
    env.pop("VOICETRAIL_ALLOW_ENV_SECRETS")
    with pytest.raises(ConfigurationError):
        VapiWebhookSettings.from_env(env)


def test_twilio_base_url_drops_the_fragment_twilio_never_signs() -> None:
    # The settings read their own environment: the function no longer prepares it first.
    settings = TwilioStatusSettings.from_env(
        function_env(TWILIO_WEBHOOK_BASE_URL="https://x.example.com/#rc=3")
    )
    assert settings.public_base_url == "https://x.example.com"
    with pytest.raises(ConfigurationError):
        TwilioStatusSettings.from_env(function_env(TWILIO_WEBHOOK_BASE_URL="ftp://x.example.com"))


def test_purge_settings_load() -> None:
    assert PurgeSettings.from_env(function_env(PURGE_DRY_RUN="true")).dry_run is True


def test_redaction_policy_from_settings_kinds_and_placeholders() -> None:
    settings = VapiWebhookSettings.from_env(
        function_env(VOICETRAIL_REDACT_KINDS="pci", VOICETRAIL_REDACT_PLACEHOLDERS='{"card": "****"}')
    )
    policy = settings.redaction_policy()
    assert policy is not None
    assert "card" in policy.kinds and "name" not in policy.kinds
    assert policy.placeholders["card"] == "****"
    assert VapiWebhookSettings.from_env(function_env()).redaction_policy() is None


@pytest.mark.parametrize("bad", ['{"telepathy": "x"}', "not json", '["ssn"]'])
def test_bad_placeholder_settings_fail_the_cold_start(bad: str) -> None:
    with pytest.raises((ConfigurationError, ValueError)):
        VapiWebhookSettings.from_env(function_env(VOICETRAIL_REDACT_PLACEHOLDERS=bad)).redaction_policy()
