"""API Gateway HTTP API (payload v2) <-> domain. The only module that knows the event's shape."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from voicetrail.errors import BadRequestError, HttpError


@dataclass(frozen=True)
class InboundRequest:
    """A webhook request as the domain sees it, whatever the transport."""

    method: str
    path: str
    raw_query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    # The public scheme + host (+ stage) the request reached, from API Gateway's own request context.
    origin: str = ""


@dataclass(frozen=True)
class Reply:
    """A webhook answer as the domain gives it, before it is serialized."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes the sender signed. HTTP APIs base64-encode non-text bodies (forms included)."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadRequestError("body is not a string")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequestError("body is not valid base64") from None
    return body.encode("utf-8", "surrogatepass")


def request_origin(event: Mapping[str, Any]) -> str:
    """`https://<domainName>[/<stage>]` as API Gateway saw it; "" when the event carries no domain.

    API Gateway sets `domainName` itself (a client cannot forge it the way it can a Host header), and only
    HTTPS reaches an HTTP API. A named stage prefixes the public path; `$default` does not.
    """
    context = event.get("requestContext") or {}
    domain = str(context.get("domainName") or "").strip()
    if not domain or "/" in domain:
        return ""
    stage = str(context.get("stage") or "$default")
    return f"https://{domain}" if stage == "$default" else f"https://{domain}/{stage}"


def inbound_request(event: Mapping[str, Any]) -> InboundRequest:
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return InboundRequest(
        method=str(http.get("method", "POST")).upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        raw_query=str(event.get("rawQueryString") or ""),
        headers=headers,
        body=raw_body(event),
        origin=request_origin(event),
    )


def json_body(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def error_reply(error: HttpError) -> Reply:
    return Reply(status=error.status, body=error.body, headers=error.headers)
