"""The `voicetrail` command as users run it: sign, serve (over HTTP) and demo (what `make demo` runs)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES, ROOT
from voicetrail.providers.vapi.auth import AuthScheme, VapiAuthConfig, verify_request
from voicetrail_cli.dev.local import free_port
from voicetrail_cli.main import app

pytestmark = pytest.mark.e2e
VOICETRAIL = str(Path(sys.executable).parent / "voicetrail")


@pytest.mark.parametrize(
    ("args", "config"),
    [
        ([], VapiAuthConfig()),
        (["--scheme", "bearer"], VapiAuthConfig(scheme=AuthScheme.BEARER)),
        (
            ["--scheme", "hmac", "--signature-header", "x-vapi-signature", "--prefix", "sha256="],
            VapiAuthConfig(
                scheme=AuthScheme.HMAC, signature_header="x-vapi-signature", signature_prefix="sha256="
            ),
        ),
        (
            [
                "--scheme",
                "hmac",
                "--encoding",
                "base64",
                "--algorithm",
                "sha512",
                "--payload-format",
                "{body}",
            ],
            VapiAuthConfig(
                scheme=AuthScheme.HMAC,
                signature_encoding="base64",
                algorithm="sha512",
                payload_format="{body}",
            ),
        ),
    ],
)
def test_sign_prints_headers_the_verifier_accepts(args: list[str], config: VapiAuthConfig) -> None:
    payload = FIXTURES / "vapi" / "status-update.json"
    result = CliRunner().invoke(app, ["sign", str(payload), "--secret", "s3cret", *args])
    assert result.exit_code == 0, result.output
    headers = dict(line.split(": ", 1) for line in result.output.strip().splitlines() if ": " in line)
    verify_request(config, headers, payload.read_bytes(), ["s3cret"], now=time.time())


def test_sign_with_a_url_prints_only_the_command_on_stdout() -> None:
    payload = FIXTURES / "vapi" / "status-update.json"
    result = CliRunner().invoke(app, ["sign", str(payload), "--url", "http://127.0.0.1:1/vapi/webhook"])
    assert result.exit_code == 0, result.output
    (command,) = result.stdout.splitlines()
    words = shlex.split(command)
    assert words[0] == "curl" and "x-vapi-secret: local-vapi-secret" in words
    assert result.stderr.startswith("x-vapi-secret: ")  # the headers, for a person to read


def test_serve_answers_over_http_until_stopped() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            VOICETRAIL,
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--parameter-overrides",
            "VapiAuthScheme=bearer",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "160"},
    )
    try:
        body = (FIXTURES / "vapi" / "status-update.json").read_bytes()
        url = f"http://127.0.0.1:{port}/vapi/webhook"
        deadline = time.time() + 60
        while True:
            try:
                response = httpx.post(
                    url, content=body, headers={"authorization": "Bearer local-vapi-secret"}, timeout=10
                )
                break
            except httpx.TransportError:
                assert time.time() < deadline, "voicetrail serve did not start"
                time.sleep(0.3)
        assert response.status_code == 200
        assert (
            httpx.post(url, content=body, headers={"authorization": "Bearer x"}, timeout=10).status_code
            == 401
        )
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert "/vapi/webhook" in output
    assert "Vapi auth: bearer" in output  # the banner says what the functions really accept


def test_demo_replays_a_call_and_finds_no_pii_in_storage() -> None:
    result = subprocess.run(
        [VOICETRAIL, "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "PII found in stored items: none" in result.stdout
    assert "401" in result.stdout


@pytest.mark.parametrize("command", [["serve"], ["purge"], ["calls", "list"], []])
def test_piped_help_cuts_no_option_name(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    result = subprocess.run(
        [sys.executable, "-m", "voicetrail_cli.main", *command, "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert "…" not in result.stdout and "Usage:" in result.stdout
    if command == ["serve"]:
        assert "--parameter-overrides" in result.stdout


def test_version_from_the_installed_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "voicetrail_cli.main", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.startswith("voicetrail ") and result.stderr == ""
