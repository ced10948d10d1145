"""Typed errors, so the interface can tell a user what to do, not only what went wrong.

Messages never carry the API key: the client sends it only in the request header, and scrubs
it from every code and message the service sends back before one goes into an error.
"""


class RodinError(Exception):
    """Base of every error this package raises.

    ``code`` is the service's error code where it sent one, ``hint`` what a user can do about it,
    ``retryable`` whether trying the same thing again later may succeed.
    """

    hint = ""
    retryable = False
    never_sent = False  # True when the request surely never reached the service

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status

    def __str__(self):
        return f"{self.code}: {self.message}" if self.code else self.message


class InvalidInput(RodinError):
    """A request the client refused to send: nothing reached the service, no credit spent."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class AuthenticationError(RodinError):
    hint = "Check the API key in the add-on preferences (or RODIN_API_KEY)."


class SubscriptionError(RodinError):
    hint = "The Rodin API needs an active Business subscription on this account."


class InsufficientFunds(RodinError):
    hint = "Add credits to the Rodin account, then retry."


class ParallelismLimit(RodinError):
    hint = "Too many tasks are running on this account; retry when one finishes."
    retryable = True


class ContentRejected(RodinError):
    hint = "The service rejected the reference image; try another image."


class InvalidRequest(RodinError):
    hint = "The service refused the request's fields; check the settings."


class TaskNotFound(RodinError):
    hint = (
        "The service no longer knows this task (results are kept 7 days): press Clear Job, "
        "then Generate again (a new task, 0.5 credits)."
    )


class GenerationFailed(RodinError):
    """The service ran the task and marked it Failed: no result will come."""

    hint = (
        "Generate again (a new task, 0.5 credits); if it fails again, try another reference "
        "image or prompt."
    )


class WrongAddress(RodinError):
    """The base URL answers, but not as the API: a page that is not there (HTTP 404/405)."""

    hint = (
        "Set the Service URL in the add-on's preferences (Advanced) to the API's address, "
        "ending in /api/v2; empty: the default."
    )


class RateLimited(RodinError):
    hint = "The service asked us to slow down; the request is retried after the wait."
    retryable = True

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RedirectRefused(RodinError):
    """The API answered with a redirect, which the client does not follow with the key."""

    hint = "The service address may have moved: set the new base URL in the preferences."


class ServiceError(RodinError):
    """A 5xx, an unreadable answer, or an application error code we do not know."""

    hint = "The Rodin service had a problem; retry later."
    retryable = True


class NetworkError(RodinError):
    hint = "Check the internet connection, proxy and firewall settings."
    retryable = True


class RequestTimeout(NetworkError):
    hint = "The service did not answer in time; retry later."


class DownloadError(RodinError):
    """A result file could not be fetched whole (expired link, cut short, too large)."""

    hint = "Download again: each try asks the service for fresh links."
    retryable = True


class Cancelled(RodinError):
    """The caller asked to stop (a cancelled download, a wait cut short at shutdown)."""


# Service error codes (old and new names) -> the error type that says what to do.
ERROR_TYPES_BY_CODE = {
    "UNAUTHORIZED": AuthenticationError,
    "USER_NOT_FOUND": AuthenticationError,
    "PERMISSION_DENIED": AuthenticationError,
    "NO_ACTIVE_SUBSCRIPTION": SubscriptionError,
    "API_NO_ACTIVE_SUBSCRIPTION": SubscriptionError,
    "SUBSCRIPTION_PLAN_TOO_LOW": SubscriptionError,
    "API_SUBSCRIPTION_PLAN_TOO_LOW": SubscriptionError,
    "GROUP_NOT_FOUND": SubscriptionError,
    "INSUFFICIENT_FUND": InsufficientFunds,
    "API_INSUFFICIENT_FUNDS": InsufficientFunds,
    "API_PARALLELISM_LIMIT_REACHED": ParallelismLimit,
    "IMAGE_CONTENT_VIOLATION": ContentRejected,
    "API_OBJECT_NOT_FOUND_ON_IMAGE": ContentRejected,
    "INVALID_REQUEST": InvalidRequest,
    "NO_SUCH_TASK": TaskNotFound,
}


def error_for_code(code: str, message: str, http_status: int | None = None) -> RodinError:
    """The typed error for a service error code; unknown codes keep their code and message."""
    error_type = ERROR_TYPES_BY_CODE.get(code, ServiceError)
    return error_type(message or code, code=code, http_status=http_status)
