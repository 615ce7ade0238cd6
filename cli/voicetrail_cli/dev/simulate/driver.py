"""The simulator's signing and HTTP driver (thin): httpx and a thread pool, one sender per call; every
attempt signed afresh (new HMAC timestamp), 5xx/429/connection errors retried with backoff like a sender."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voicetrail_cli.dev.simulate.plan import (
    FORGED_MARKER,
    VAPI_PATH,
    CallPlan,
    SimDelivery,
)

if TYPE_CHECKING:
    import httpx

    from voicetrail.providers.vapi.auth import VapiAuthConfig


# ---- signing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """Signs a delivery like Vapi / Twilio would (or forges it, as the delivery asks)."""

    auth: VapiAuthConfig
    vapi_secret: str
    twilio_token: str
    twilio_base_url: str  # exactly what is configured in Twilio (the service's TWILIO_WEBHOOK_BASE_URL)

    def sign(self, delivery: SimDelivery, body: bytes) -> tuple[bytes, dict[str, str]]:
        if delivery.route == VAPI_PATH:
            return self._vapi(delivery, body)
        return self._twilio(delivery, body)

    def _vapi(self, delivery: SimDelivery, body: bytes) -> tuple[bytes, dict[str, str]]:
        from voicetrail.providers.vapi.auth import sign_request

        headers = {"content-type": "application/json"}
        forgery = delivery.forgery
        if forgery == "missing-credential":
            return body, headers
        secret = "not-the-secret-" + self.vapi_secret[::-1] if forgery == "wrong-secret" else self.vapi_secret
        headers.update(sign_request(self.auth, body, secret, timestamp=time.time()))
        if forgery == "tampered":
            body = body.replace(FORGED_MARKER.encode(), b"FORGED DELIVERX")
        return body, headers

    def _twilio(self, delivery: SimDelivery, body: bytes) -> tuple[bytes, dict[str, str]]:
        from twilio.request_validator import RequestValidator

        form = dict(delivery.form or ())
        token = (
            "wrong-" + self.twilio_token if delivery.forgery == "twilio-wrong-token" else self.twilio_token
        )
        signature = RequestValidator(token).compute_signature(self.twilio_base_url + delivery.route, form)
        if delivery.forgery == "twilio-tampered":
            body = body.replace(b"CallStatus=busy", b"CallStatus=completed")
        return body, {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": str(signature),
            "i-twilio-idempotency-token": uuid.uuid4().hex,
        }


# ---- HTTP driver ------------------------------------------------------------------------------------------


@dataclass
class Attempt:
    status: int | None  # None: connection error / timeout
    seconds: float


@dataclass
class DeliveryResult:
    delivery: SimDelivery
    attempts: list[Attempt]
    error_bodies: list[str]

    @property
    def final(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


@dataclass
class HttpDriver:
    base_url: str
    signer: Signer
    concurrency: int = 16
    max_attempts: int = 8
    backoff_seconds: float = 0.05
    max_backoff_seconds: float = 2.0
    timeout_seconds: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    transport: Any = None
    _results: list[DeliveryResult] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _client(self) -> httpx.Client:
        import httpx

        limits = httpx.Limits(
            max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency * 2
        )
        return httpx.Client(
            base_url=self.base_url, timeout=self.timeout_seconds, limits=limits, transport=self.transport
        )

    def send(self, client: httpx.Client, delivery: SimDelivery, rng: random.Random) -> DeliveryResult:
        import httpx

        raw = delivery.body()
        result = DeliveryResult(delivery, [], [])
        for attempt in range(self.max_attempts):
            body, headers = self.signer.sign(delivery, raw)  # re-signed per attempt, like a sender
            start = time.perf_counter()
            status: int | None
            try:
                response = client.post(delivery.route, content=body, headers=headers)
                status = response.status_code
                if status >= 400:
                    result.error_bodies.append(response.text[:2000])
            except httpx.HTTPError:
                status = None
            result.attempts.append(Attempt(status, time.perf_counter() - start))
            if not _retryable(status) or (delivery.kind == "forged" and status is not None):
                break
            if attempt + 1 < self.max_attempts:
                delay = min(self.max_backoff_seconds, self.backoff_seconds * (2**attempt))
                self.sleep(delay * (0.5 + rng.random()))
        return result

    def _run_call(
        self, client: httpx.Client, call: CallPlan, side: ThreadPoolExecutor
    ) -> list[DeliveryResult]:
        rng = random.Random(call.call_id)  # noqa: S311
        out: list[DeliveryResult] = []
        for step in call.steps:
            if len(step) == 1:
                out.append(self.send(client, step[0], rng))
                continue
            futures = [
                side.submit(self.send, client, d, random.Random(d.label))  # noqa: S311
                for d in step[1:]
            ]
            out.append(self.send(client, step[0], rng))
            out.extend(f.result() for f in futures)
        return out

    def run(self, calls: Sequence[CallPlan], *, pace: Callable[[], None] | None = None) -> RunStats:
        start = time.perf_counter()
        results: list[DeliveryResult] = []
        with (
            self._client() as client,
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="sim-call") as pool,
            ThreadPoolExecutor(max(2, self.concurrency // 4), thread_name_prefix="sim-dup") as side,
        ):
            futures = []
            for call in calls:
                if pace is not None:
                    pace()
                futures.append(pool.submit(self._run_call, client, call, side))
            for future in futures:
                results.extend(future.result())
        return RunStats.from_results(results, time.perf_counter() - start)


@dataclass
class RunStats:
    deliveries: int
    requests: int
    elapsed_s: float
    statuses: Counter[int | None]
    finals: Counter[int | None]
    latencies_s: list[float]
    forged_accepted: int
    genuine_failed: int  # genuine deliveries whose final status was not the expected one
    status_5xx: int
    status_500: int
    status_5xx_final: int
    connection_errors: int
    error_bodies: list[str]
    kinds: Counter[str]

    @classmethod
    def from_results(cls, results: Sequence[DeliveryResult], elapsed: float) -> RunStats:
        statuses: Counter[int | None] = Counter()
        finals: Counter[int | None] = Counter()
        latencies: list[float] = []
        bodies: list[str] = []
        forged_ok = genuine_failed = final_5xx = 0
        for r in results:
            for a in r.attempts:
                statuses[a.status] += 1
                latencies.append(a.seconds)
            finals[r.final] += 1
            bodies.extend(r.error_bodies)
            final = r.final
            if r.delivery.kind == "forged":
                forged_ok += final is not None and 200 <= final < 300
            elif final not in r.delivery.expect_status:
                genuine_failed += 1
            final_5xx += final is None or final >= 500
        return cls(
            deliveries=len(results),
            requests=sum(statuses.values()),
            elapsed_s=elapsed,
            statuses=statuses,
            finals=finals,
            latencies_s=latencies,
            forged_accepted=forged_ok,
            genuine_failed=genuine_failed,
            status_5xx=sum(n for s, n in statuses.items() if s is not None and s >= 500),
            status_500=statuses.get(500, 0),
            status_5xx_final=final_5xx,
            connection_errors=statuses.get(None, 0),
            error_bodies=bodies,
            kinds=Counter(r.delivery.kind for r in results),
        )

    def percentile_ms(self, pct: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] * 1000

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0
