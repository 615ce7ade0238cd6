"""Powertools APIGatewayHttpResolver glue shared by the HTTP functions.

Domain errors become HTTP answers here and only here (via voicetrail.errors.to_http_error).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from voicetrail.errors import HttpError
from voicetrail.transport.http import InboundRequest, Reply, inbound_request, json_body
from voicetrail.transport.routing import logged_http_error


def _response(status: int, body: object, headers: dict[str, str]) -> Response[str]:
    text = "" if status == 204 else json_body(body)
    return Response(status_code=status, content_type="application/json", body=text, headers=headers)


def reply_response(reply: Reply) -> Response[str]:
    return _response(reply.status, reply.body, dict(reply.headers))


def error_response(error: HttpError) -> Response[str]:
    return _response(error.status, error.body, error.headers)


def current_request(app: APIGatewayHttpResolver) -> InboundRequest:
    return inbound_request(app.current_event.raw_event)


def install_error_handlers(app: APIGatewayHttpResolver, logger: Logger) -> None:
    @app.exception_handler(Exception)
    def _error(exc: Exception) -> Response[str]:
        return error_response(logged_http_error(exc, logger))

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return _response(404, {"error": "not_found", "message": "no such route"}, {})
