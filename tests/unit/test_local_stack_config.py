"""The local stack configured like a deployment: parameter overrides, samconfig environments, SAM's
env-vars file, the public base URL for tunnels, the banner, and `sign --twilio`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator
from typer.testing import CliRunner

from voicetrail_cli.dev.local import LocalSecrets, local_environment
from voicetrail_cli.dev.serve import banner_lines
from voicetrail_cli.failures import CliError
from voicetrail_cli.main import app
from voicetrail_cli.ops.stackconfig import (
    StackSettings,
    config_env_overrides,
    parse_overrides,
    stack_settings,
)
from voicetrail_cli.ops.template import functions, load_template

pytestmark = pytest.mark.unit
TEMPLATE = load_template()
SPECS = {spec.name: spec for spec in functions(TEMPLATE)}


def environments(settings: StackSettings) -> dict[str, dict[str, str]]:
    return {
        name: local_environment(
            spec,
            endpoint="http://127.0.0.1:1",
            base_url="http://127.0.0.1:3000",
            local_secrets=LocalSecrets(vapi="v", twilio="t", pepper="p"),
            table="voicetrail-local",
            settings=settings,
        )
        for name, spec in SPECS.items()
    }


def test_parameter_overrides_reach_the_functions_and_the_banner() -> None:
    settings = stack_settings(
        template=TEMPLATE, parameter_overrides=["VapiAuthScheme=hmac VapiHmacAlgorithm=sha512"]
    )
    envs = environments(settings)
    assert (
        envs["vapi_webhook"]["VAPI_AUTH_SCHEME"] == "hmac"
        and envs["vapi_webhook"]["VAPI_HMAC_ALGORITHM"] == "sha512"
    )
    banner = "\n".join(banner_lines(envs, LocalSecrets(vapi="v", twilio="t")))
    assert "Vapi auth: [bold]hmac[/] - HMAC-SHA512" in banner and "x-vapi-secret" not in banner
    default = "\n".join(banner_lines(environments(StackSettings()), LocalSecrets()))
    assert "shared secret in x-vapi-secret" in default
    # the local pepper is fixed and printed with the reference the operator commands read
    assert "HASH_PEPPER_REF=env:VOICETRAIL_LOCAL_HASH_PEPPER" in default and LocalSecrets().pepper in default


def test_config_env_reads_samconfig_like_sam() -> None:
    dev = config_env_overrides("dev")
    assert dev["RetentionDaysAudit"] == "30" and dev["PurgeSchedule"] == "rate(1 hour)"
    envs = environments(
        stack_settings(template=TEMPLATE, config_env="dev", parameter_overrides=["LogLevel=INFO"])
    )
    assert envs["retention_purge"]["RETENTION_DAYS_AUDIT"] == "30"
    assert envs["vapi_webhook"]["POWERTOOLS_LOG_LEVEL"] == "INFO"  # the command line wins over samconfig
    assert envs["vapi_webhook"]["VOICETRAIL_ENV"] == "dev"


def test_env_vars_file_as_in_sam(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text(
        json.dumps(
            {
                "Parameters": {"VAPI_REPLAY_WINDOW_SECONDS": "60", "NOT_DECLARED": "x"},
                "VapiWebhookFunction": {"VAPI_AUTH_SCHEME": "bearer"},
            }
        )
    )
    envs = environments(stack_settings(template=TEMPLATE, env_vars=path))
    assert envs["vapi_webhook"]["VAPI_AUTH_SCHEME"] == "bearer"
    assert envs["vapi_webhook"]["VAPI_REPLAY_WINDOW_SECONDS"] == "60"
    assert all("NOT_DECLARED" not in env for env in envs.values())  # SAM sets declared variables only


def test_a_public_base_url_is_what_twilio_signatures_cover() -> None:
    envs = environments(stack_settings(template=TEMPLATE, public_base_url="https://abc.ngrok.app/"))
    assert envs["twilio_status"]["TWILIO_WEBHOOK_BASE_URL"] == "https://abc.ngrok.app"
    assert (
        environments(StackSettings())["twilio_status"]["TWILIO_WEBHOOK_BASE_URL"] == "http://127.0.0.1:3000"
    )
    with pytest.raises(CliError, match="give the URL Twilio calls"):
        stack_settings(template=TEMPLATE, public_base_url="abc.ngrok.app")


def test_overrides_parse_like_sam() -> None:
    assert parse_overrides(['A=1 B="x y"', "C=2"]) == {"A": "1", "B": "x y", "C": "2"}
    with pytest.raises(CliError, match="'y' is not Key=Value"):
        parse_overrides(["B=x y"])


def test_sign_twilio_matches_twilios_validator(tmp_path: Path) -> None:
    form = tmp_path / "callback.txt"
    form.write_text("CallSid=CA123&CallStatus=completed&From=%2B14155550123")
    url = "https://abc.ngrok.app/twilio/status"
    result = CliRunner().invoke(app, ["sign", str(form), "--twilio", "--secret", "tok", "--url", url])
    assert result.exit_code == 0, result.output
    signature = result.stderr.splitlines()[0].removeprefix("X-Twilio-Signature: ")
    (command,) = result.stdout.splitlines()  # stdout: the curl command alone, safe to pipe to a shell
    assert shlex.split(command)[:4] == [
        "curl",
        "-sS",
        "-X",
        "POST",
    ] and f"X-Twilio-Signature: {signature}" in shlex.split(command)
    params = {"CallSid": "CA123", "CallStatus": "completed", "From": "+14155550123"}
    assert RequestValidator("tok").validate(url, params, signature)
    assert not RequestValidator("other").validate(url, params, signature)
