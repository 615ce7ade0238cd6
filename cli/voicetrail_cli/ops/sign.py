"""`voicetrail sign`: the headers Vapi, Retell, ElevenLabs or Twilio would send for a payload."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from voicetrail_cli.failures import CliError


def sign(
    payload: Annotated[
        Path, typer.Argument(help="Body to sign ('-' for stdin): JSON, or form params for --twilio.")
    ],
    secret: Annotated[str, typer.Option(help="The secret (or token).")] = "local-vapi-secret",  # noqa: S107
    scheme: Annotated[str, typer.Option(help="shared-secret | bearer | hmac")] = "shared-secret",
    algorithm: Annotated[str, typer.Option(help="HMAC algorithm: sha256 | sha512 | sha1")] = "sha256",
    signature_header: Annotated[str, typer.Option()] = "x-signature",
    timestamp_header: Annotated[str, typer.Option()] = "x-timestamp",
    payload_format: Annotated[str, typer.Option()] = "{timestamp}.{body}",
    encoding: Annotated[str, typer.Option(help="hex | base64")] = "hex",
    prefix: Annotated[str, typer.Option(help="Signature prefix, e.g. sha256=")] = "",
    url: Annotated[
        str, typer.Option(help="Print a curl command for this URL (--twilio: the URL signed).")
    ] = "",
    twilio: Annotated[
        bool,
        typer.Option("--twilio", help="Sign a Twilio callback (X-Twilio-Signature) with --secret as token."),
    ] = False,
    provider: Annotated[
        str,
        typer.Option(
            help="vapi | retell (X-Retell-Signature, --secret is the webhook API key) | "
            "elevenlabs (ElevenLabs-Signature, --secret is the webhook secret)"
        ),
    ] = "vapi",
) -> None:
    """Print the headers Vapi (or Retell, ElevenLabs, Twilio) would send for a payload (for curl testing).

    With --url, stdout holds only the curl command (the headers go to stderr), so `voicetrail sign ... |
    sh` runs the request and nothing else.
    """
    body = sys.stdin.buffer.read() if str(payload) == "-" else payload.read_bytes()
    if twilio:
        _sign_twilio(body, secret, url, payload)
        return
    if provider in PROVIDER_SIGNERS:
        secret = PROVIDER_LOCAL_KEYS[provider] if secret == "local-vapi-secret" else secret  # noqa: S105
        _print_signed(PROVIDER_SIGNERS[provider](body, secret), url, payload)
        return
    if provider != "vapi":
        raise CliError(f"invalid provider: {provider} (vapi, retell or elevenlabs)")
    from voicetrail.providers.vapi.auth import VapiAuthConfig, sign_request

    config = VapiAuthConfig.model_validate(
        {
            "scheme": scheme,
            "algorithm": algorithm,
            "signature_header": signature_header,
            "timestamp_header": timestamp_header,
            "payload_format": payload_format,
            "signature_encoding": encoding,
            "signature_prefix": prefix,
        }
    )
    _print_signed(sign_request(config, body, secret, timestamp=time.time()), url, payload)


def _sign_retell(body: bytes, key: str) -> dict[str, str]:
    from voicetrail.providers.retell.signature import sign as sign_retell

    return sign_retell(body, key, timestamp_ms=int(time.time() * 1000))


def _sign_elevenlabs(body: bytes, key: str) -> dict[str, str]:
    from voicetrail.providers.elevenlabs.signature import sign as sign_elevenlabs

    return sign_elevenlabs(body, key, timestamp=int(time.time()))


PROVIDER_SIGNERS: dict[str, Callable[[bytes, str], dict[str, str]]] = {
    "retell": _sign_retell,
    "elevenlabs": _sign_elevenlabs,
}
# The keys `voicetrail serve` gives the local functions (voicetrail_cli.dev.local.LocalSecrets).
PROVIDER_LOCAL_KEYS = {"retell": "local-retell-key", "elevenlabs": "local-elevenlabs-secret"}


def _print_signed(headers: dict[str, str], url: str, payload: Path) -> None:
    """With --url, stdout holds only the curl command: the headers go to stderr."""
    for name, value in headers.items():
        print(f"{name}: {value}", file=sys.stderr if url else sys.stdout)
    if url:
        flags = " ".join(f"-H {shlex.quote(f'{k}: {v}')}" for k, v in headers.items())
        print(
            f"curl -sS -X POST {shlex.quote(url)} -H 'content-type: application/json' {flags} "
            f"--data-binary {shlex.quote(f'@{payload}')}"
        )


def _sign_twilio(body: bytes, token: str, url: str, payload: Path) -> None:
    """X-Twilio-Signature by twilio's own RequestValidator: the URL + sorted POST params, HMAC-SHA1."""
    from urllib.parse import parse_qsl, urlencode

    from twilio.request_validator import RequestValidator

    if not url:
        raise CliError("--twilio needs --url: the exact URL Twilio calls (it is part of the signature)")
    text = body.decode("utf-8").strip()
    params: dict[str, str]
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            raise CliError(f"{payload} is not JSON nor form parameters") from None
        params = {str(k): str(v) for k, v in decoded.items()}
    else:
        params = dict(parse_qsl(text, keep_blank_values=True))
    if not params:
        raise CliError(f"{payload}: no callback parameters (give form params a=1&b=2 or a JSON object)")
    signature = RequestValidator(token).compute_signature(url, params)
    print(f"X-Twilio-Signature: {signature}", file=sys.stderr)  # stdout: the command alone
    form = urlencode(params)
    print(
        f"curl -sS -X POST {shlex.quote(url)} -H 'content-type: application/x-www-form-urlencoded' "
        f"-H {shlex.quote(f'X-Twilio-Signature: {signature}')} --data {shlex.quote(form)}"
    )
