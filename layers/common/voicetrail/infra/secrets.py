"""Secret references, resolved through Powertools Parameters with caching.

A reference is `<source>:<name>`:
  secretsmanager:<secret id or ARN>   (production default)
  ssm:<parameter name>                (SecureString, decrypted)
  env:<VARIABLE>                      (local runs only: needs VOICETRAIL_ALLOW_ENV_SECRETS=true)

A secret value may hold several active secrets for rotation: a JSON list of strings,
a JSON object whose string (or list) values are the secrets, or one plain string.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from voicetrail.errors import ConfigurationError, SecretUnavailableError

SecretSource = Literal["secretsmanager", "ssm", "env"]
_SOURCES: tuple[SecretSource, ...] = ("secretsmanager", "ssm", "env")
ALLOW_ENV_SECRETS_VAR = "VOICETRAIL_ALLOW_ENV_SECRETS"


@dataclass(frozen=True)
class SecretRef:
    """Where a secret is kept: `secretsmanager:<name>`, `ssm:<name>` or (local runs) `env:<VAR>`."""

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


class Fetcher(Protocol):
    """(reference, max_age seconds) -> the stored value; `force=True` reads the store past the cache and
    caches the result for max_age. Fakes that take no `force` still resolve, but never refresh."""

    def __call__(self, ref: SecretRef, max_age: int, /, *, force: bool = ...) -> str: ...


# After an authentication failure the cached secret is re-read at most this often (per process): a rotation
# is picked up on the first request signed with the new secret, and forged requests cannot hammer the store.
REFRESH_INTERVAL_SECONDS = 30.0


def _powertools_fetch(ref: SecretRef, max_age: int, /, *, force: bool = False) -> str:
    if ref.source == "env":
        return os.environ.get(ref.name, "")
    # Imported lazily: Parameters pulls boto3 providers that env-held (local) secrets never need.
    from voicetrail.infra.aws import parameters_provider

    # Powertools keeps a cached value until the expiry set when it was stored: only force_fetch skips it.
    if ref.source == "secretsmanager":
        return str(parameters_provider("secretsmanager").get(ref.name, max_age=max_age, force_fetch=force))
    return str(parameters_provider("ssm").get(ref.name, max_age=max_age, decrypt=True, force_fetch=force))


class SecretResolver:
    """Resolves a SecretRef to its active values; caching is Powertools' (max_age seconds).

    `refresh()` re-reads the store past the cache, once per `refresh_interval`: callers use it after an
    authentication failure, so a rotated secret is used at once rather than after up to `max_age` of 401s.
    """

    def __init__(
        self,
        ref: SecretRef,
        *,
        max_age: int = 300,
        fetch: Fetcher = _powertools_fetch,
        refresh_interval: float = REFRESH_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ref = ref
        self.max_age = max_age
        self.refresh_interval = refresh_interval
        self._fetch = fetch
        self._clock = clock
        self._last_refresh: float | None = None
        self._last_values: tuple[str, ...] = ()
        self._fresh_until = float("-inf")  # when the value this process last read expires
        self._lock = threading.Lock()
        self._prefetching: threading.Thread | None = None
        self._fetched = threading.Event()  # set when a background read is over (or none is running)
        self._fetched.set()

    def values(self) -> tuple[str, ...]:
        self._fetched.wait()  # a background read's value is then in Powertools' cache
        self._last_values = self._read(self.max_age)
        self._fresh_until = self._clock() + self.max_age
        return self._last_values

    def prefetch(self, then: Callable[[tuple[str, ...]], None] | None = None) -> None:
        """Start reading the store in the background when this process holds no fresh value.

        A webhook that needs two secrets (its own and the pepper) thus waits for one round trip after a
        cold start, not two. `values()` waits for the read (not for `then`) and then uses Powertools'
        cache; a failed read is simply done again there, where it raises as usual. `then` runs in the
        background after the read, with the values read; its failures are ignored, so a caller must
        `settle()` and then do again what `then` did not finish.
        """
        if self.ref.source == "env" or self._clock() < self._fresh_until:
            return
        if self._fetch is _powertools_fetch:
            # The client is built here, in the request's thread: only the network wait runs in the
            # background. Two threads building botocore clients would contend for the GIL, which on a
            # fast network costs more than the round trip saved.
            from voicetrail.infra.aws import parameters_provider

            parameters_provider(self.ref.source)
        with self._lock:
            if self._prefetching is not None:
                return
            self._fetched.clear()
            self._prefetching = threading.Thread(
                target=self._warm, args=(then,), name="secret-prefetch", daemon=True
            )
            self._prefetching.start()

    @contextlib.contextmanager
    def reading_ahead(self, then: Callable[[tuple[str, ...]], None] | None = None) -> Iterator[None]:
        """`prefetch(then)` on entry, `settle()` on exit (a request's whole span)."""
        self.prefetch(then)
        try:
            yield
        finally:
            self.settle()

    def settle(self) -> None:
        """Wait for a background read and its `then` to end (before a response, so that Lambda never
        freezes one half done)."""
        with self._lock:
            worker, self._prefetching = self._prefetching, None
        if worker is not None:
            worker.join()

    def _warm(self, then: Callable[[tuple[str, ...]], None] | None) -> None:
        # Failures are not reported here: values() reads again and raises there, the caller redoes `then`.
        active: tuple[str, ...] = ()
        try:
            with contextlib.suppress(Exception):
                active = parse_secret_values(self._fetch(self.ref, self.max_age) or "")
        finally:
            self._fetched.set()
        if active and then is not None:
            with contextlib.suppress(Exception):
                then(active)

    def refresh(self) -> tuple[str, ...] | None:
        """The store's current values when they differ from the last ones used; else None.

        None too when a refresh ran less than `refresh_interval` ago or the store cannot be read: the
        caller then keeps its original answer (an authentication failure stays a failure).
        """
        now = self._clock()
        if self._last_refresh is not None and now - self._last_refresh < self.refresh_interval:
            return None
        self._last_refresh = now
        try:
            fresh = self._read(self.max_age, force=True)
        except SecretUnavailableError:
            return None
        if fresh == self._last_values:
            return None
        self._last_values = fresh
        return fresh

    def _read(self, max_age: int, *, force: bool = False) -> tuple[str, ...]:
        try:
            raw = self._fetch(self.ref, max_age, force=True) if force else self._fetch(self.ref, max_age)
        except Exception as exc:  # any provider failure: we cannot authenticate, the sender must retry
            raise SecretUnavailableError(f"secret fetch failed ({type(exc).__name__})") from None
        active = parse_secret_values(raw or "")
        if not active:
            # An empty secret would make every comparison meaningless: fail closed.
            raise SecretUnavailableError("secret is empty")
        return active
