"""Posting to the real webhook handlers in-process (the Lambda entry points, loaded by tests.conftest)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tests.conftest import TWILIO_TOKEN, VAPI_SECRET, FakeContext, http_event
from tests.twilio_support import signed_form

BASE = "https://hooks.example.com"


def post_vapi(fn: ModuleType, body: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
    sent = headers or {"x-vapi-secret": VAPI_SECRET, "content-type": "application/json"}
    result: dict[str, Any] = fn.lambda_handler(http_event("/vapi/webhook", body, sent), FakeContext())
    return result


def post_twilio(fn: ModuleType, pairs: list[tuple[str, str]], path: str = "/twilio/status") -> dict[str, Any]:
    body, headers = signed_form(f"{BASE}{path}", pairs, TWILIO_TOKEN)
    result: dict[str, Any] = fn.lambda_handler(
        http_event(path, body, headers, base64_body=True), FakeContext()
    )
    return result
