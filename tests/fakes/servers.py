"""Fake Twilio (recording delete) and Vapi (call delete) APIs: real HTTP servers on 127.0.0.1 in a thread.

They check credentials like the real APIs (Twilio: Basic AccountSid:AuthToken; Vapi: Bearer key), keep
a set of existing resources, answer 204/200 for a delete, 404 for what is already gone, and can be told
to fail a resource with a queue of status codes (e.g. [503, 503]) to exercise retries.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Recordings/(RE[0-9a-f]{32})\.json$")
_VAPI_PATH = re.compile(r"^/call/([A-Za-z0-9\-]+)$")


class FakeApi:
    def __init__(self) -> None:
        self.existing: set[str] = set()
        self.fail: dict[str, list[int]] = defaultdict(list)
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.base_url = ""
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def authorized(self, headers: Any) -> bool:
        raise NotImplementedError

    def resource(self, path: str) -> str | None:
        raise NotImplementedError

    def deleted_body(self, resource: str) -> bytes:
        return b""

    def deleted_status(self) -> int:
        return 204

    def deletes(self, status: int | None = None) -> list[str]:
        return [p for m, p, s in self.requests if m == "DELETE" and (status is None or s == status)]

    def handle(self, method: str, path: str, headers: Any) -> tuple[int, bytes]:
        with self._lock:
            resource = self.resource(path)
            if method != "DELETE" or resource is None:
                status, body = 404, b'{"message":"not found"}'
            elif not self.authorized(headers):
                status, body = 401, b'{"message":"unauthorized"}'
            elif self.fail[resource]:
                status, body = self.fail[resource].pop(0), b'{"message":"injected failure"}'
            elif resource in self.existing:
                self.existing.discard(resource)
                status, body = self.deleted_status(), self.deleted_body(resource)
            else:
                status, body = 404, b'{"message":"not found"}'
            self.requests.append((method, path, status))
            return status, body

    @contextmanager
    def running(self) -> Iterator[FakeApi]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                status, body = api.handle(self.command, self.path.partition("?")[0], self.headers)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            do_DELETE = _any  # noqa: N815
            do_GET = _any  # noqa: N815
            do_POST = _any  # noqa: N815

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


class FakeTwilio(FakeApi):
    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("Authorization") == self._auth)

    def resource(self, path: str) -> str | None:
        match = _TWILIO_PATH.match(path)
        return match.group(2) if match and match.group(1) == self.account_sid else None


class FakeVapi(FakeApi):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self._auth = f"Bearer {api_key}"

    def authorized(self, headers: Any) -> bool:
        return bool(headers.get("Authorization") == self._auth)

    def resource(self, path: str) -> str | None:
        match = _VAPI_PATH.match(path)
        return match.group(1) if match else None

    def deleted_status(self) -> int:
        return 200

    def deleted_body(self, resource: str) -> bytes:
        return json.dumps({"id": resource, "status": "ended"}).encode()
