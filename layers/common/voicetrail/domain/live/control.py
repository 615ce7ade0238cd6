"""Live Call Control: POSTs to `call.monitor.controlUrl` (say, end-call, transfer).

The control URL is a bearer-less capability: whoever holds it can end or transfer the call. It is
never logged, stored, put in an error or a metric; only the action type, attempt count and status code
are. The host must be on an allow-list (Vapi's by default; loopback only in local/test environments),
so a forged payload cannot turn the webhook into a request forwarder.

httpx is imported on first use, never at module import: it stays off the vapi_webhook cold-start path.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger

from voicetrail.infra.observability import MetricsRecorder

if TYPE_CHECKING:
    import httpx

_LOCAL_ENVS = frozenset({"local", "test"})


class ControlError(Exception):
    """A control request was not accepted. The message is fixed text (never the URL)."""


@dataclass(frozen=True)
class ControlOutcome:
    """How a Live Call Control request went."""

    ok: bool
    attempts: int
    status: int | None = None


class CallController(Protocol):
    def send(self, control_url: str, payload: Mapping[str, Any]) -> ControlOutcome: ...


def say(content: str, *, end_call_after: bool = False, interrupt: bool = True) -> dict[str, Any]:
    return {
        "type": "say",
        "content": content,
        "endCallAfterSpoken": end_call_after,
        "interruptAssistantEnabled": interrupt,
    }


def end_call() -> dict[str, Any]:
    return {"type": "end-call"}


def transfer(destination: Mapping[str, Any], content: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": "transfer", "destination": dict(destination)}
    if content:
        payload["content"] = content
    return payload


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    """Which control URLs we are willing to call."""

    suffixes: tuple[str, ...] = ("vapi.ai",)
    loopback_only: bool = False

    @classmethod
    def from_settings(cls, hosts: str, environment: str) -> HostPolicy:
        suffixes = tuple(h.strip().lower().lstrip(".") for h in hosts.split(",") if h.strip())
        return cls(suffixes=suffixes, loopback_only=environment in _LOCAL_ENVS)

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        if not host or parts.username or parts.password:
            return False
        if _is_loopback(host):
            return parts.scheme in ("http", "https") and (
                self.loopback_only or any(s in {"127.0.0.1", "localhost"} for s in self.suffixes)
            )
        if self.loopback_only or parts.scheme != "https":
            return False
        return any(host == s or host.endswith("." + s) for s in self.suffixes)


class HttpCallController:
    """Sends control messages with tight timeouts and a bounded retry on 5xx / connection errors."""

    def __init__(
        self,
        *,
        logger: Logger,
        metrics: MetricsRecorder,
        hosts: HostPolicy | None = None,
        timeout_seconds: float = 2.0,
        retries: int = 2,
        backoff_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
        transport: Any = None,
    ) -> None:
        self._log = logger
        self._metrics = metrics
        self._hosts = hosts or HostPolicy()
        self._timeout = timeout_seconds
        self._retries = retries
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._transport = transport
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                timeout=httpx.Timeout(self._timeout, connect=min(1.0, self._timeout)),
                follow_redirects=False,
                transport=self._transport,
                headers={"content-type": "application/json", "user-agent": "voicetrail-live/1"},
            )
        return self._client

    def send(self, control_url: str, payload: Mapping[str, Any]) -> ControlOutcome:
        action = str(payload.get("type", "other"))
        if not self._hosts.allows(control_url):
            self._metrics.count("LiveControlRefused", source="vapi", action=action)
            self._log.warning("control url refused by host policy", extra={"action": action})
            raise ControlError("control url not allowed")
        import httpx

        status: int | None = None
        attempts = 0
        for attempt in range(self._retries + 1):
            attempts = attempt + 1
            try:
                response = self._http().post(control_url, json=dict(payload))
                status = response.status_code
            except httpx.HTTPError as exc:
                status = None
                self._log.warning(
                    "control request failed",
                    extra={"action": action, "attempt": attempts, "error_type": type(exc).__name__},
                )
            else:
                if status < 500:
                    break
                self._log.warning(
                    "control request answered 5xx",
                    extra={"action": action, "attempt": attempts, "status": status},
                )
            if attempt < self._retries:
                self._sleep(self._backoff * (2**attempt))
        ok = status is not None and 200 <= status < 300
        self._metrics.count("LiveControlSent", source="vapi", action=action, outcome="ok" if ok else "failed")
        self._log.info("control request", extra={"action": action, "attempts": attempts, "status": status})
        if not ok:
            raise ControlError(f"control request not accepted ({status})")
        return ControlOutcome(ok=True, attempts=attempts, status=status)


class RecordingController:
    """Records control messages instead of sending them (unit tests, benchmarks)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def send(self, control_url: str, payload: Mapping[str, Any]) -> ControlOutcome:
        self.sent.append((control_url, dict(payload)))
        if self.fail:
            raise ControlError("control request not accepted (test)")
        return ControlOutcome(ok=True, attempts=1, status=200)

    def actions(self) -> list[str]:
        return [str(p.get("type")) for _, p in self.sent]
