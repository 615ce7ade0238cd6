"""Secret references, resolved through Powertools Parameters with caching.

A reference is `<source>:<name>`:
  secretsmanager:<secret id or ARN>   (production default)
  ssm:<parameter name>                (SecureString, decrypted)
  env:<VARIABLE>                      (local runs only: needs VOICETRAIL_ALLOW_ENV_SECRETS=true)

A secret value may hold several active secrets for rotation: a JSON list of strings,
a JSON object whose string (or list) values are the secrets, or one plain string.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from voicetrail.errors import ConfigurationError, SecretUnavailableError

SecretSource = Literal["secretsmanager", "ssm", "env"]
_SOURCES: tuple[SecretSource, ...] = ("secretsmanager", "ssm", "env")
ALLOW_ENV_SECRETS_VAR = "VOICETRAIL_ALLOW_ENV_SECRETS"


@dataclass(frozen=True)
class SecretRef:
    source: SecretSource
    name: str

    @classmethod
    def parse(cls, value: str, *, allow_env: bool | None = None) -> SecretRef:
        source, sep, name = value.partition(":")
        if not sep or not name or source not in _SOURCES:
            raise ConfigurationError(
                "secret reference must look like secretsmanager:<id>, ssm:<name> or env:<VAR>"
            )
        if allow_env is None:
            allow_env = os.environ.get(ALLOW_ENV_SECRETS_VAR, "").lower() == "true"
        if source == "env" and not allow_env:
            raise ConfigurationError(
                f"env: secret references are for local runs only (set {ALLOW_ENV_SECRETS_VAR}=true)"
            )
        return cls(source=source, name=name)


def parse_secret_values(raw: str) -> tuple[str, ...]:
    """Turn a stored secret into the tuple of currently active secrets (rotation)."""
    text = raw.strip()
    values: list[str] = []
    if text[:1] in "[{":
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            values = [v for v in decoded if isinstance(v, str)]
        elif isinstance(decoded, dict):
            for v in decoded.values():
                if isinstance(v, str):
                    values.append(v)
                elif isinstance(v, list):
                    values.extend(x for x in v if isinstance(x, str))
        else:
            values = [text]
    else:
        values = [text]
    active = tuple(v for v in (s.strip() for s in values) if v)
    return active


Fetcher = Callable[[SecretRef, int], str]


def _powertools_fetch(ref: SecretRef, max_age: int) -> str:
    if ref.source == "env":
        return os.environ.get(ref.name, "")
    # Imported lazily: Parameters pulls boto3 providers that env-held (local) secrets never need.
    from voicetrail.aws import parameters_provider

    if ref.source == "secretsmanager":
        return str(parameters_provider("secretsmanager").get(ref.name, max_age=max_age))
    return str(parameters_provider("ssm").get(ref.name, max_age=max_age, decrypt=True))


class SecretResolver:
    """Resolves a SecretRef to its active values; caching is Powertools' (max_age seconds)."""

    def __init__(self, ref: SecretRef, *, max_age: int = 300, fetch: Fetcher = _powertools_fetch) -> None:
        self.ref = ref
        self.max_age = max_age
        self._fetch = fetch

    def values(self) -> tuple[str, ...]:
        try:
            raw = self._fetch(self.ref, self.max_age)
        except Exception as exc:  # any provider failure: we cannot authenticate, the sender must retry
            raise SecretUnavailableError(f"secret fetch failed ({type(exc).__name__})") from None
        active = parse_secret_values(raw or "")
        if not active:
            # An empty secret would make every comparison meaningless: fail closed.
            raise SecretUnavailableError("secret is empty")
        return active
