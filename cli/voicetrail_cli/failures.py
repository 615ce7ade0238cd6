"""Ordinary mistakes become one line on stderr and a non-zero exit code; a traceback only with --debug.

`VoicetrailGroup` is the click group of the `voicetrail` command: every subcommand (and its argument
parsing) runs inside its `invoke`, so the translation holds for `voicetrail ...` and for CliRunner tests
alike. `explain` maps an exception (or the boto/OS error it wraps) to a sentence that says what is wrong
and what to do; anything it does not know is reported by type, with a pointer to --debug.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

DEBUG_ENV = "VOICETRAIL_DEBUG"
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A mistake the user can fix: the message says what is wrong and what to do."""

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def debug_enabled(ctx: typer.Context | None = None) -> bool:
    if os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes"):
        return True
    root = ctx.find_root() if ctx is not None else None
    return bool(root is not None and isinstance(root.obj, dict) and root.obj.get("debug"))


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (`raise ... from None` still keeps __context__)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _client_error(exc: Any) -> str | None:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    operation = getattr(exc, "operation_name", "")
    if code == "ResourceNotFoundException":
        return (
            "the DynamoDB table does not exist in this region/endpoint: "
            "check --table (or VOICETRAIL_TABLE), --stack and --region"
        )
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"):
        return (
            "AWS rejected the credentials (expired or invalid): refresh them (aws sso login, aws configure)"
        )
    if code in ("AccessDeniedException", "AccessDenied"):
        return f"AWS denied {operation or 'the request'}: your role lacks the permission"
    if code == "ValidationError" and operation == "DescribeStacks":
        return "that CloudFormation stack does not exist in this region: check --stack and --region"
    return f"AWS answered {code or 'an error'} to {operation or 'a request'}"


def explain(exc: BaseException) -> str | None:
    """One line for a known mistake, None for a bug."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )
    from pydantic import ValidationError

    from voicetrail.errors import SecretUnavailableError, VoicetrailError

    for cause in _chain(exc):
        if isinstance(cause, CliError):
            return str(cause)
        if isinstance(cause, NoRegionError):
            return "no AWS region: pass --region or set AWS_REGION (a local stack: --dynamodb-endpoint)"
        if isinstance(cause, NoCredentialsError | PartialCredentialsError):
            return (
                "no AWS credentials: set AWS_PROFILE or run `aws configure`, "
                "or use --dynamodb-endpoint for a local stack"
            )
        if isinstance(cause, ProfileNotFound):
            return f"{cause}: check AWS_PROFILE"
        if isinstance(cause, EndpointConnectionError | ConnectTimeoutError):
            url = str(getattr(cause, "kwargs", {}).get("endpoint_url", "the endpoint"))
            if "amazonaws.com" in url:
                return f"cannot reach {url}: check your network or proxy, and --region"
            return f"cannot reach {url}: is it running (voicetrail serve) and is the address right?"
        described = _client_error(cause)
        if described:
            return described
        if isinstance(cause, SecretUnavailableError):
            return f"cannot read a secret ({cause}): check the *-ref option and your permissions"
        if isinstance(cause, ValidationError):
            errors = cause.errors()
            if not errors:
                return "invalid value"
            where = ".".join(str(p) for p in errors[0]["loc"]) or "value"
            return f"invalid {where}: {errors[0]['msg']}"
        if isinstance(cause, FileNotFoundError):
            parent = os.path.dirname(str(cause.filename or ""))
            if parent and not os.path.isdir(parent):  # a file to write into a folder that is not there
                return f"no such directory: {parent} (for {cause.filename}): create it or pick another path"
            return f"file not found: {cause.filename}"
        if isinstance(cause, IsADirectoryError | PermissionError):
            return f"cannot read {cause.filename}: {cause.strerror}"
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return "the port is already in use: pick another with --port (0 = any free port)"
        if isinstance(cause, VoicetrailError) and cause.status < 500:
            return str(cause)
    return None


def report(exc: BaseException, ctx: typer.Context | None) -> int:
    """Print the one line (or re-raise under --debug); the exit code."""
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, typer.Abort | KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        return 130
    if isinstance(exc, typer.TyperException):  # click's usage errors: a bad option value, a missing one
        if debug_enabled(ctx):
            raise exc
        sub = ctx.invoked_subcommand if ctx is not None else None
        where = f" (see `voicetrail {sub} --help`)" if sub else ""
        print(f"error: {exc.format_message()}{where}", file=sys.stderr)
        return int(exc.exit_code)
    if debug_enabled(ctx):
        raise exc
    line = explain(exc)
    if line is None:
        print(
            f"error: unexpected {type(exc).__name__}; `voicetrail --debug ...` shows the traceback",
            file=sys.stderr,
        )
        return EXIT_ERROR
    print(f"error: {line}", file=sys.stderr)
    return exc.exit_code if isinstance(exc, CliError) else EXIT_ERROR


class VoicetrailGroup(TyperGroup):
    def invoke(self, ctx: Any) -> Any:  # typer's click Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, SystemExit):
            raise
        except Exception as exc:  # translated into one line and an exit code
            raise typer.Exit(report(exc, ctx)) from None
