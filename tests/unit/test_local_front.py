"""`voicetrail serve`'s HTTP front: a bad Content-Length or a malformed invoke body gets a clear 4xx,
never a dropped connection (raw sockets on a loopback server bound to port 0)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from voicetrail_cli.dev.local import MAX_PAYLOAD, _LocalHttpServer, _make_handler

pytestmark = pytest.mark.unit


class StubApi:
    """What the front needs of LocalApi: routes and an invoke that records its events."""

    def __init__(self) -> None:
        self.invoked: list[tuple[str, dict[str, Any]]] = []

    def route(self, method: str, path: str) -> None:
        return None

    def invoke(self, function: str, event: dict[str, Any], timeout_s: float = 30) -> dict[str, Any]:
        self.invoked.append((function, event))
        return {"statusCode": 200, "body": "{}"}


@pytest.fixture
def front() -> Iterator[tuple[int, StubApi]]:
    api = StubApi()
    server = _LocalHttpServer(("127.0.0.1", 0), _make_handler(api))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], api
    finally:
        server.shutdown()
        server.server_close()


def exchange(port: int, raw: bytes) -> tuple[int, bytes]:
    """Send raw bytes, read the whole answer; (status, body). A dropped connection reads as status 0."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    if not answer:
        return 0, b""
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def request(path: str, length_headers: list[str], body: bytes = b"") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"Content-Length: {value}" for value in length_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    ("lengths", "status"),
    [
        (["abc"], 400),
        (["-1"], 400),
        (["1.5"], 400),
        (["\u0663".encode().decode("latin-1")], 400),  # a non-ASCII digit
        (["2", "3"], 400),  # two different lengths
        (["2, 3"], 400),
        ([str(MAX_PAYLOAD + 1)], 413),
        (["9" * 40], 413),
    ],
)
def test_a_bad_content_length_is_answered_never_dropped(
    front: tuple[int, StubApi], lengths: list[str], status: int
) -> None:
    port, _ = front
    got, body = exchange(port, request("/vapi/webhook", lengths, b"{}"))
    assert got == status
    assert json.loads(body)["message"]


def test_a_chunked_body_is_a_clear_400(front: tuple[int, StubApi]) -> None:
    port, _ = front
    raw = b"POST /vapi/webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    assert exchange(port, raw)[0] == 400


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"{" * 10, b"\xff\xfe"])
def test_a_malformed_local_invoke_body_is_a_400(front: tuple[int, StubApi], body: bytes) -> None:
    port, api = front
    got, answer = exchange(port, request("/_local/invoke/fn", [str(len(body))], body))
    assert got == 400 and b"JSON object" in answer
    assert api.invoked == []


def test_equal_repeated_lengths_and_a_good_invoke_still_work(front: tuple[int, StubApi]) -> None:
    port, api = front
    body = b'{"a": 1}'
    got, _ = exchange(port, request("/_local/invoke/fn", [str(len(body)), str(len(body))], body))
    assert got == 200 and api.invoked == [("fn", {"a": 1})]
