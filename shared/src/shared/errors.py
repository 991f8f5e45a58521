"""Error types raised anywhere in a service and rendered by the one error middleware.

Every error renders in docs/api.md's shape: {"success": false, "error", "message", "error_code",
"errors"?}, where `error` is the lower-case `error_code` (InvoiceFlow's key).
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import asyncpg
import redis.exceptions

# What a request meets while a dependency restarts or is out of reach (docs/api.md, "Errors"):
# answered 503 with Retry-After, the request safe to send again (with its Idempotency-Key).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08, and a connection lost mid-statement
    asyncpg.InterfaceError,  # the connection (or the pool) closed under the request
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutting down, starting up, cancelled
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections
    # An idle pooled connection the server terminated (a shutdown) whose FATAL message arrives
    # in the middle of the next statement: "cannot switch to state 12; another operation is
    # in progress" (seen under a PostgreSQL restart, tests/test_faults_stack.py).
    asyncpg.exceptions.InternalClientError,
    ConnectionError,  # refused, reset, aborted
    socket.gaierror,  # a name that does not resolve (a container being replaced)
    TimeoutError,  # a connect that never completes
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
# Other OSErrors of a connect: no route, or asyncpg's "Multiple exceptions" (no errno, no file)
# when every address of the host failed. A file's error (with its errno) is no outage.
_UNREACHABLE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT})
RETRY_AFTER_SECONDS = 2


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` says a dependency is restarting or out of reach, not that the request or
    the code is wrong."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    if isinstance(exc, OSError):
        return exc.errno in _UNREACHABLE or (exc.errno is None and exc.filename is None)
    return False


class ApiError(Exception):
    status = 500
    error_code = "INTERNAL_ERROR"
    default_message = "Server Error"
    default_headers: dict[str, str] = {}

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        error_code: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors
        self.headers = self.default_headers | (headers or {})
        if error_code:
            self.error_code = error_code
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "success": False,
            "error": self.error_code.lower(),
            "message": self.message,
            "error_code": self.error_code,
        }
        if self.errors:
            payload["errors"] = self.errors
        return payload


class BadRequest(ApiError):
    status, error_code, default_message = 400, "BAD_REQUEST", "Malformed request."


class Unauthorized(ApiError):
    status, error_code, default_message = 401, "UNAUTHORIZED", "Unauthenticated."


class TokenExpired(ApiError):
    status, error_code, default_message = 401, "TOKEN_EXPIRED", "The token has expired."


class Forbidden(ApiError):
    status, error_code, default_message = 403, "FORBIDDEN", "This action is unauthorized."


class CompanyAccessDenied(ApiError):
    status, error_code = 403, "COMPANY_ACCESS_DENIED"
    default_message = "You are not a member of this company."


class NotFound(ApiError):
    status, error_code, default_message = 404, "NOT_FOUND", "Not found."


class MethodNotAllowed(ApiError):
    status, error_code, default_message = 405, "METHOD_NOT_ALLOWED", "Method not allowed."


class Conflict(ApiError):
    status, error_code, default_message = 409, "CONFLICT", "Conflict."


class PreconditionFailed(ApiError):
    status, error_code = 412, "PRECONDITION_FAILED"
    default_message = "The resource has changed since it was read."


class PayloadTooLarge(ApiError):
    status, error_code = 413, "PAYLOAD_TOO_LARGE"
    default_message = "The request body is larger than 1 MiB."


class ValidationFailed(ApiError):
    status, error_code, default_message = 422, "VALIDATION_ERROR", "The given data was invalid."

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        first = next((msgs[0] for msgs in errors.values() if msgs), None)
        super().__init__(message or first, errors=errors)

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})


class RateLimited(ApiError):
    status, error_code, default_message = 429, "RATE_LIMITED", "Too Many Attempts."


class UpstreamError(ApiError):
    status, error_code, default_message = 502, "UPSTREAM_ERROR", "Bad gateway."


class ServiceUnavailable(ApiError):
    status, error_code = 503, "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable."
    default_headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class UpstreamTimeout(ApiError):
    status, error_code, default_message = 504, "UPSTREAM_TIMEOUT", "The upstream timed out."
