"""Authentication of Vapi server messages, on the raw request bytes.

Vapi's real schemes (see docs/vapi-auth.md):
  shared-secret  the legacy `x-vapi-secret` header (or a Bearer credential with a custom header, prefix off)
  bearer         `Authorization: Bearer <token>` (header name configurable)
  hmac           HMAC over a payload format such as `{timestamp}.{body}` with a configurable algorithm,
                 signature/timestamp headers, hex/base64 encoding and optional prefix

Every path fails closed with AuthenticationError, whatever the shape of the input: a header of the wrong
length, bad hex, bad base64, non-ASCII bytes or a non-numeric timestamp are all 401, never an exception.
Several secrets may be active at once (rotation); each is compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voicetrail.errors import AuthenticationError, AuthFailure, ConfigurationError


class AuthScheme(StrEnum):
    SHARED_SECRET = "shared-secret"  # noqa: S105 - a scheme name, not a secret
    BEARER = "bearer"
    HMAC = "hmac"


_PLACEHOLDER = re.compile(r"\{([a-z-]+)\}")
_SUPPORTED_PLACEHOLDERS = frozenset({"timestamp", "body", "method"})
# Timestamps above this are milliseconds (Vapi documents neither unit; both are accepted).
_MS_THRESHOLD = 100_000_000_000


class VapiAuthConfig(BaseModel):
    """How this deployment authenticates Vapi. Mirrors Vapi's credential settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: AuthScheme = AuthScheme.SHARED_SECRET
    secret_header: str = "x-vapi-secret"  # noqa: S105 - a header name
    bearer_header: str = "authorization"
    bearer_prefix: bool = True
    algorithm: Literal["sha256", "sha512", "sha1"] = "sha256"
    signature_header: str = "x-signature"
    timestamp_header: str = "x-timestamp"
    payload_format: str = "{timestamp}.{body}"
    signature_encoding: Literal["hex", "base64"] = "hex"
    signature_prefix: str = ""
    secret_is_base64: bool = False
    replay_window_seconds: int = Field(default=300, ge=1, le=86_400)

    @field_validator("secret_header", "bearer_header", "signature_header", "timestamp_header")
    @classmethod
    def _lower_header(cls, value: str) -> str:
        # API Gateway HTTP APIs deliver lower-case header names.
        return value.strip().lower()

    @field_validator("payload_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        unknown = set(_PLACEHOLDER.findall(value)) - _SUPPORTED_PLACEHOLDERS
        if unknown or "{body}" not in value:
            raise ValueError("payload_format must contain {body} and only {timestamp}, {body}, {method}")
        return value

    @property
    def signs_timestamp(self) -> bool:
        return "{timestamp}" in self.payload_format


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        # Callers normally pass lower-cased headers; tolerate mixed case from other sources.
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def _secret_bytes(secret: str, config: VapiAuthConfig) -> bytes:
    if config.secret_is_base64:
        try:
            return base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError("a configured HMAC secret is not valid base64") from None
    return secret.encode("utf-8")


def _any_equal(candidate: bytes, expected: Sequence[bytes]) -> bool:
    # Compare against every secret, without short-circuiting, so timing does not reveal which one matched.
    matched = False
    for value in expected:
        matched |= hmac.compare_digest(candidate, value)
    return matched


def signing_payload(config: VapiAuthConfig, body: bytes, timestamp: str | None, method: str) -> bytes:
    parts: list[bytes] = []
    position = 0
    for match in _PLACEHOLDER.finditer(config.payload_format):
        parts.append(config.payload_format[position : match.start()].encode())
        name = match.group(1)
        if name == "body":
            parts.append(body)
        elif name == "timestamp":
            parts.append((timestamp or "").encode())
        else:
            parts.append(method.upper().encode())
        position = match.end()
    parts.append(config.payload_format[position:].encode())
    return b"".join(parts)


def compute_signature(
    config: VapiAuthConfig, secret: str, body: bytes, timestamp: str | None, method: str
) -> bytes:
    payload = signing_payload(config, body, timestamp, method)
    return hmac.new(_secret_bytes(secret, config), payload, getattr(hashlib, config.algorithm)).digest()


def _decode_signature(token: str, config: VapiAuthConfig) -> bytes | None:
    if config.signature_prefix:
        if not token.startswith(config.signature_prefix):
            return None
        token = token[len(config.signature_prefix) :]
    try:
        if config.signature_encoding == "hex":
            return bytes.fromhex(token)
        return base64.b64decode(token, validate=True)
    except (ValueError, binascii.Error):
        return None


def _check_timestamp(raw: str, now: float, window: int) -> None:
    try:
        value = float(raw.strip())
    except ValueError:
        raise AuthenticationError(AuthFailure.MALFORMED) from None
    if not math.isfinite(value) or value <= 0:
        raise AuthenticationError(AuthFailure.MALFORMED)
    seconds = value / 1000 if value >= _MS_THRESHOLD else value
    if seconds < now - window:
        raise AuthenticationError(AuthFailure.STALE)
    if seconds > now + window:
        raise AuthenticationError(AuthFailure.FUTURE)


def verify_request(
    config: VapiAuthConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    method: str = "POST",
) -> None:
    """Return quietly if the request is authentic, else raise AuthenticationError (401)."""
    if not secrets:
        # Never reached with a SecretResolver (it refuses empty secrets); kept as a fail-closed guard.
        raise AuthenticationError(AuthFailure.INVALID)
    if config.scheme is AuthScheme.HMAC:
        _verify_hmac(config, headers, body, secrets, now=now, method=method)
        return
    header = config.secret_header if config.scheme is AuthScheme.SHARED_SECRET else config.bearer_header
    provided = _header(headers, header)
    if provided is None or not provided.strip():
        raise AuthenticationError(AuthFailure.MISSING)
    token = provided.strip()
    if config.scheme is AuthScheme.BEARER and config.bearer_prefix:
        scheme, _, token = token.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(AuthFailure.MALFORMED)
        token = token.strip()
    candidate = token.encode("utf-8", "surrogateescape")
    if not _any_equal(candidate, [s.encode("utf-8") for s in secrets]):
        raise AuthenticationError(AuthFailure.INVALID)


def _verify_hmac(
    config: VapiAuthConfig,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    method: str,
) -> None:
    signature_header = _header(headers, config.signature_header)
    if signature_header is None or not signature_header.strip():
        raise AuthenticationError(AuthFailure.MISSING)
    timestamp = _header(headers, config.timestamp_header)
    if timestamp is not None and timestamp.strip():
        _check_timestamp(timestamp, now, config.replay_window_seconds)
        timestamp = timestamp.strip()
    elif config.signs_timestamp:
        raise AuthenticationError(AuthFailure.MISSING)
    else:
        timestamp = None
    # A sender may list several signatures (its own key rotation): any valid one is enough.
    candidates = [
        c for c in (_decode_signature(t, config) for t in signature_header.split()) if c is not None
    ]
    if not candidates:
        raise AuthenticationError(AuthFailure.MALFORMED)
    expected = [compute_signature(config, secret, body, timestamp, method) for secret in secrets]
    matched = False
    for candidate in candidates:
        matched |= _any_equal(candidate, expected)
    if not matched:
        raise AuthenticationError(AuthFailure.INVALID)


def sign_request(
    config: VapiAuthConfig,
    body: bytes,
    secret: str,
    *,
    timestamp: float | None = None,
    method: str = "POST",
) -> dict[str, str]:
    """Headers a genuine Vapi delivery would carry under `config` (for tests, curl and the simulator)."""
    if config.scheme is AuthScheme.SHARED_SECRET:
        return {config.secret_header: secret}
    if config.scheme is AuthScheme.BEARER:
        return {config.bearer_header: f"Bearer {secret}" if config.bearer_prefix else secret}
    headers: dict[str, str] = {}
    stamp: str | None = None
    if timestamp is not None:
        stamp = str(int(timestamp))
        headers[config.timestamp_header] = stamp
    digest = compute_signature(config, secret, body, stamp, method)
    encoded = digest.hex() if config.signature_encoding == "hex" else base64.b64encode(digest).decode()
    headers[config.signature_header] = f"{config.signature_prefix}{encoded}"
    return headers
