"""DynamoDB failures classified once: transient (a retry can succeed) or permanent (it never will).

Every DynamoDB adapter turns what boto3 raised into a domain error here and only here:

  transient  throttling, service errors, timeouts, connection errors, and anything unrecognised
             -> StoreUnavailableError (503 + Retry-After): the sender retries, nothing is acknowledged
  permanent  the request itself is invalid: ValidationException (a key over its size limit, an item over
             400 KB, a number DynamoDB cannot hold, an empty key), SerializationException, a client-side
             parameter error, or an item that cannot even be encoded (a lone surrogate, NaN)
             -> StoreRejectedError (422): a retry would fail the same way, so the sender is never told to

An unrecognised code counts as transient on purpose: access or configuration faults (AccessDenied, a missing
table) are fixed by a deploy, after which the sender's retry succeeds; treating them as permanent would drop
messages that a retry would have stored. The code lists come from DynamoDB's API reference ("Common errors"
and each operation's "Errors" section) and botocore's exception classes.
"""

from __future__ import annotations

from enum import StrEnum

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from voicetrail.errors import StoreRejectedError, StoreUnavailableError


class Failure(StrEnum):
    """What a retry of the same request would do. Also a metric dimension (a closed set)."""

    TRANSIENT = "transient"
    PERMANENT = "permanent"


TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
        "TransactionConflictException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
PERMANENT_CODES = frozenset(
    {
        "ValidationException",
        "SerializationException",
        "ItemCollectionSizeLimitExceededException",
    }
)
# Raised while an item is being built or encoded, before any request: the same input fails the same way.
_ENCODING_ERRORS = (UnicodeError, ValueError, OverflowError, TypeError, RecursionError)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def classify(exc: BaseException) -> Failure:
    """Transient or permanent, for any error a DynamoDB call (or building its request) can raise."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        return Failure.PERMANENT if code in PERMANENT_CODES else Failure.TRANSIENT
    if isinstance(exc, ParamValidationError):
        return Failure.PERMANENT
    if isinstance(exc, BotoCoreError):
        return Failure.TRANSIENT  # timeouts, connection resets, an unreachable endpoint, credentials
    if isinstance(exc, _ENCODING_ERRORS):
        return Failure.PERMANENT
    return Failure.TRANSIENT


def _name(exc: BaseException) -> str:
    return error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__


def store_error(exc: BaseException, operation: str) -> StoreUnavailableError | StoreRejectedError:
    """The domain error for a failed DynamoDB call; its detail names the operation and the error class,
    never a key or a value (the request may carry caller content)."""
    detail = f"{operation} failed: {_name(exc)}"
    if classify(exc) is Failure.PERMANENT:
        return StoreRejectedError(detail)
    return StoreUnavailableError(detail)


STORE_ERRORS = (ClientError, BotoCoreError)
