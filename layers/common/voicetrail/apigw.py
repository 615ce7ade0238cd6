"""Powertools APIGatewayHttpResolver glue shared by the HTTP functions.

Domain errors become HTTP answers here and only here (via voicetrail.errors.to_http_error).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from voicetrail.errors import UNEXPECTED_ERROR, HttpError, VoicetrailError, to_http_error
from voicetrail.http import InboundRequest, Reply, inbound_request, json_body


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
    @app.exception_handler(VoicetrailError)
    def _domain_error(exc: VoicetrailError) -> Response[str]:
        error = to_http_error(exc)
        if error.status >= 500:
            logger.error("request failed", extra={"error": exc.code, "detail": str(exc)})
        elif error.status != 401:  # 401s are logged with their reason where they happen
            logger.info("request refused", extra={"error": exc.code, "status": error.status})
        return error_response(error)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        # Only the type: messages of library exceptions can quote input (pydantic does).
        logger.error("unexpected error", extra={"error_type": type(exc).__name__})
        return error_response(UNEXPECTED_ERROR)

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return _response(404, {"error": "not_found", "message": "no such route"}, {})
