"""A lean API Gateway HTTP API (payload v2) dispatcher for latency-critical functions.

The Powertools resolver's package import costs ~74 ms of cold start here (its __init__ loads every
resolver, AppSync and asyncio included), 0.43x the boto3 floor, for a function with one route. This does
the same three jobs for such a function: route on method + path, map domain errors to HTTP through
`voicetrail.errors.to_http_error` (the one mapping), and shape the proxy response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from voicetrail.errors import UNEXPECTED_ERROR, HttpError, VoicetrailError, to_http_error
from voicetrail.transport.http import InboundRequest, Reply, error_reply, inbound_request, json_body

Route = Callable[[InboundRequest], Reply]
NOT_FOUND = HttpError(
    404, {"error": "not_found", "message": "no such route"}, {"Content-Type": "application/json"}
)


class _Log(Protocol):
    def error(self, msg: object, *args: object, **kwargs: Any) -> None: ...

    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...


def logged_http_error(exc: Exception, logger: _Log) -> HttpError:
    """The HTTP answer to any exception a request raised, logged without request content."""
    if isinstance(exc, VoicetrailError):
        error = to_http_error(exc)
        if error.status >= 500:
            logger.error("request failed", extra={"error": exc.code, "detail": str(exc)})
        elif error.status != 401:  # 401s are logged with their reason where they happen
            logger.info("request refused", extra={"error": exc.code, "status": error.status})
        return error
    # Only the type: messages of library exceptions can quote input (pydantic does).
    logger.error("unexpected error", extra={"error_type": type(exc).__name__})
    return UNEXPECTED_ERROR


def proxy_response(reply: Reply) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", **dict(reply.headers)}
    body = "" if reply.status == 204 else json_body(reply.body)
    return {"statusCode": reply.status, "headers": headers, "body": body, "isBase64Encoded": False}


def dispatch(
    event: Mapping[str, Any], routes: Mapping[tuple[str, str], Route], logger: _Log
) -> dict[str, Any]:
    try:
        request = inbound_request(event)
        route = routes.get((request.method, request.path))
        if route is None:
            return proxy_response(error_reply(NOT_FOUND))
        return proxy_response(route(request))
    except Exception as exc:
        return proxy_response(error_reply(logged_http_error(exc, logger)))
