"""`voicetrail sign --provider retell|elevenlabs`: the printed header verifies (our verifier and the SDK)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest
from elevenlabs.webhooks_custom import WebhooksClient
from retell.lib import webhook_auth
from typer.testing import CliRunner

from voicetrail.providers.elevenlabs import signature as elevenlabs_signature
from voicetrail.providers.retell import signature as retell_signature
from voicetrail_cli.main import app

pytestmark = pytest.mark.unit

BODY = b'{"event":"call_ended","call":{"call_id":"abc123"}}'


def _headers(tmp_path: Path, *args: str) -> dict[str, str]:
    payload = tmp_path / "payload.json"
    payload.write_bytes(BODY)
    result = CliRunner().invoke(app, ["sign", str(payload), *args])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if ": " in line and not line.startswith("curl")]
    return dict(line.split(": ", 1) for line in lines)


def test_retell_signature_verifies_with_the_local_key_by_default(tmp_path: Path) -> None:
    headers = _headers(tmp_path, "--provider", "retell")
    retell_signature.verify(headers, BODY, ["local-retell-key"], now=time.time())
    sdk_verify = cast(Any, webhook_auth.symmetric["verify"])
    assert sdk_verify(BODY.decode(), "local-retell-key", headers["x-retell-signature"])


def test_elevenlabs_signature_verifies_with_the_given_secret(tmp_path: Path) -> None:
    headers = _headers(tmp_path, "--provider", "elevenlabs", "--secret", "wsec_123")
    elevenlabs_signature.verify(headers, BODY, ["wsec_123"], now=time.time())
    object.__new__(WebhooksClient).construct_event(BODY.decode(), headers["elevenlabs-signature"], "wsec_123")


def test_a_curl_line_is_printed_for_a_url(tmp_path: Path) -> None:
    payload = tmp_path / "p.json"
    payload.write_bytes(BODY)
    result = CliRunner().invoke(
        app, ["sign", str(payload), "--provider", "retell", "--url", "http://127.0.0.1:3000/retell/webhook"]
    )
    assert "curl -sS -X POST http://127.0.0.1:3000/retell/webhook" in result.output
    assert "-H 'x-retell-signature: v=" in result.output


def test_an_unknown_provider_is_a_clear_error(tmp_path: Path) -> None:
    payload = tmp_path / "p.json"
    payload.write_bytes(BODY)
    result = CliRunner().invoke(app, ["sign", str(payload), "--provider", "bland"])
    assert result.exit_code != 0
    assert "invalid provider: bland" in result.output
