"""A fault-injecting loopback proxy for DynamoDB's JSON API (in front of moto's server or DynamoDB Local).

Pass its URL as the stack's DynamoDB endpoint (`LocalApi(dynamodb_endpoint=proxy.url)`). For each
data-plane request (PutItem, UpdateItem, GetItem, Query, TransactWriteItems...), with the configured
probabilities, it:

* throttles:      400 `ProvisionedThroughputExceededException` (nothing reaches the table);
* fails:          500 `InternalServerError` (nothing reaches the table);
* times out:      holds the connection for `stall_seconds` (longer than the client's read timeout) and
                  closes it; half of these forward the request first, so the write *did* happen and the
                  client cannot know (the ambiguous case idempotency must absorb).

Control-plane calls (CreateTable, DescribeTable, UpdateTimeToLive...) pass through untouched. It counts
every operation, its request size and what was injected, so it doubles as a meter (benchmarks/cost_model).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

CONTROL_PLANE = frozenset(
    {"CreateTable", "DescribeTable", "UpdateTimeToLive", "DescribeTimeToLive", "ListTables", "DeleteTable"}
)
_FORWARDED = ("content-type", "x-amz-target", "authorization", "x-amz-date", "x-amz-security-token")


@dataclass
class FaultRates:
    throttle: float = 0.0
    error: float = 0.0
    timeout: float = 0.0
    stall_seconds: float = 4.0  # > the service client's read timeout (3 s)
    operations: frozenset[str] | None = None  # None: every data-plane operation

    def choose(self, operation: str, rng: random.Random) -> str | None:
        if operation in CONTROL_PLANE:
            return None
        if self.operations is not None and operation not in self.operations:
            return None
        roll = rng.random()
        if roll < self.throttle:
            return "throttle"
        if roll < self.throttle + self.error:
            return "error"
        if roll < self.throttle + self.error + self.timeout:
            return "timeout-after-write" if rng.random() < 0.5 else "timeout"
        return None


@dataclass
class ProxyStats:
    operations: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    request_bytes: Counter[str] = field(default_factory=Counter)
    put_item_sizes: list[int] = field(default_factory=list)  # approximate DynamoDB item sizes (bytes)


def dynamodb_item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute name lengths + value sizes (UTF-8 strings, numbers ~ digits/2+1,
    binary as decoded bytes, +3 per map/list)."""
    import base64

    def value_size(value: dict[str, Any]) -> int:
        (kind, raw), *_ = value.items()
        if kind == "S":
            return len(str(raw).encode("utf-8"))
        if kind == "N":
            return len(str(raw).lstrip("-").replace(".", "")) // 2 + 1
        if kind == "B":
            return len(base64.b64decode(raw))
        if kind == "BOOL" or kind == "NULL":
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + value_size(v) for k, v in raw.items())
        if kind == "L":
            return 3 + sum(1 + value_size(v) for v in raw)
        if kind in ("SS", "NS", "BS"):
            return sum(len(str(x)) for x in raw)
        return len(json.dumps(raw))

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


class FaultProxy:
    def __init__(self, upstream: str, rates: FaultRates | None = None, *, seed: int | None = None) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rates = rates or FaultRates()
        self.stats = ProxyStats()
        self._rng = random.Random(seed)  # noqa: S311 - fault sampling, not crypto
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fault-proxy", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _decide(self, operation: str, body: bytes) -> str | None:
        with self._lock:
            self.stats.operations[operation] += 1
            self.stats.request_bytes[operation] += len(body)
            if operation == "PutItem":
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    self.stats.put_item_sizes.append(dynamodb_item_size(json.loads(body)["Item"]))
            fault = self.rates.choose(operation, self._rng)
            if fault:
                self.stats.injected[fault] += 1
            return fault

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str]:
        conn = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read(), response.getheader("content-type") or ""
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("x-amz-target", "")
                operation = target.rpartition(".")[2] or "unknown"
                fault = proxy._decide(operation, body)
                if fault == "throttle":
                    self._reply(400, "ProvisionedThroughputExceededException", "injected throttling")
                    return
                if fault == "error":
                    self._reply(500, "InternalServerError", "injected internal error")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() in _FORWARDED}
                if fault in ("timeout", "timeout-after-write"):
                    if fault == "timeout-after-write":
                        proxy._forward("POST", self.path, headers, body)
                    time.sleep(proxy.rates.stall_seconds)
                    self.close_connection = True
                    return
                status, payload, content_type = proxy._forward("POST", self.path, headers, body)
                self.send_response(status)
                self.send_header("content-type", content_type or "application/x-amz-json-1.0")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815

            def _reply(self, status: int, code: str, message: str) -> None:
                payload = json.dumps(
                    {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
                ).encode()
                self.send_response(status)
                self.send_header("content-type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-errortype", code)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
