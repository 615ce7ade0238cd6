"""Domain errors and their one mapping to HTTP.

Every error message here is fixed text chosen by us: no payload, header value,
secret or caller content ever reaches an error body, a log line or a metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AuthFailure(StrEnum):
    """Why a request was not authenticated. Used as a metric dimension, so values are a closed set."""

    MISSING = "missing_credential"
    MALFORMED = "malformed_credential"
    INVALID = "invalid_credential"
    STALE = "stale_timestamp"
    FUTURE = "future_timestamp"


class VoicetrailError(Exception):
    """Base of all domain errors. `status` and `code` drive the HTTP answer."""

    status: int = 500
    code: str = "internal_error"
    public_message: str = "internal error"
    retry_after: int | None = None

    def __init__(self, detail: str | None = None) -> None:
        # `detail` is for our own logs and is also fixed text (never request content).
        super().__init__(detail or self.public_message)


class AuthenticationError(VoicetrailError):
    status = 401
    code = "unauthorized"
    public_message = "missing or invalid credentials"

    def __init__(self, reason: AuthFailure) -> None:
        super().__init__(reason.value)
        self.reason = reason


class BadRequestError(VoicetrailError):
    status = 400
    code = "bad_request"
    public_message = "malformed request"


class PayloadBoundsError(BadRequestError):
    """A body past one of transport.payload's bounds (nesting, numbers, JSON syntax). The public message
    names the bound, from a closed set of fixed reasons, so an integrator can fix the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.public_message = f"malformed request: {reason}"


class InvalidCallerIdError(BadRequestError):
    """Not a dialable number nor a SIP address. Messages never repeat the value (it may be PII)."""

    code = "invalid_phone"
    public_message = "phone must be a valid number in E.164 form (+14155550123) or a SIP address"


class PepperMismatchError(VoicetrailError):
    """The pepper given is not the one the stored caller hashes were made with: a lookup would find
    nothing and prove nothing, so nothing is erased or certified."""

    status = 409
    code = "pepper_mismatch"
    public_message = "the pepper does not match the deployment's: nothing was erased or certified"


class PayloadTooLargeError(VoicetrailError):
    status = 413
    code = "payload_too_large"
    public_message = "request body too large"


class UnsupportedMediaTypeError(VoicetrailError):
    status = 415
    code = "unsupported_media_type"
    public_message = "unsupported content type"


class WrongServerError(VoicetrailError):
    """A message meant for a dedicated server (a custom voice server's `voice-request`): voicetrail stored it
    but cannot give the answer it needs (raw audio). 422 tells Vapi the request itself is the problem."""

    status = 422
    code = "wrong_server"
    public_message = "this message type is for a dedicated server voicetrail does not provide"


class DependencyUnavailableError(VoicetrailError):
    """A dependency we need (store, secret store) failed: the sender must retry."""

    status = 503
    code = "temporarily_unavailable"
    public_message = "temporarily unavailable, retry"
    retry_after = 1


class StoreUnavailableError(DependencyUnavailableError):
    pass


class SecretUnavailableError(DependencyUnavailableError):
    pass


class StoreRejectedError(VoicetrailError):
    """The store refused the write for good (an invalid key, item or value: voicetrail.storage.failures).
    A retry would fail the same way, so the sender is told not to retry: 422, never 503."""

    status = 422
    code = "unstorable"
    public_message = "the message cannot be stored as sent; do not retry it unchanged"


class ConfigurationError(VoicetrailError):
    """The deployment is misconfigured. Raised at cold start, so it fails deploys, not requests."""


@dataclass(frozen=True)
class HttpError:
    """The HTTP answer to a domain error: status, a fixed JSON body, headers."""

    status: int
    body: dict[str, str]
    headers: dict[str, str]


def to_http_error(exc: VoicetrailError) -> HttpError:
    """The single place where a domain error becomes an HTTP answer."""
    headers = {"Content-Type": "application/json"}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    body = {"error": exc.code, "message": exc.public_message}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="voicetrail"'
    return HttpError(status=exc.status, body=body, headers=headers)


UNEXPECTED_ERROR = HttpError(
    status=500,
    body={"error": "internal_error", "message": "internal error, retry"},
    headers={"Content-Type": "application/json"},
)
