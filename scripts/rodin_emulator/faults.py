"""Faults the emulator puts into its next answers on one endpoint, to test clients' handling."""

import socket
import time
from dataclasses import dataclass

from flask import Response, jsonify, request

ENDPOINTS = ("rodin_texture_only", "status", "download", "check_balance", "files")


@dataclass(frozen=True)
class Fault:
    """One injected fault; make them with the class methods."""

    kind: str
    status: int = 0
    code: str = ""
    message: str = ""
    retry_after: float = 0.0
    seconds: float = 0.0
    fraction: float = 0.5

    # Kinds that make sense on one endpoint only.
    ONLY_ON = {"truncate": "files", "empty_list": "download"}

    @classmethod
    def rate_limit(cls, retry_after: float = 1) -> "Fault":
        """HTTP 429 with a Retry-After header (seconds) and a JSON error body."""
        return cls("rate_limit", status=429, retry_after=retry_after)

    @classmethod
    def server_error(
        cls,
        status: int = 500,
        message: str = "Unexpected token 'u', \"undefined\" is not valid JSON",
    ) -> "Fault":
        """A 5xx with ``{"error": "UNKNOWN", "message": message}``: by default the JavaScript
        parse message a malformed field can produce on the real service."""
        return cls("server_error", status=status, code="UNKNOWN", message=message)

    @classmethod
    def app_error(cls, code: str, message: str, status: int = 201) -> "Fault":
        """An application error body ``{"error": code, "message": message}``, often with 2xx."""
        return cls("app_error", status=status, code=code, message=message)

    @classmethod
    def slow(cls, seconds: float) -> "Fault":
        """The normal answer, after a delay."""
        return cls("slow", seconds=seconds)

    @classmethod
    def disconnect(cls) -> "Fault":
        """The connection is closed without any HTTP answer."""
        return cls("disconnect")

    @classmethod
    def truncate(cls, fraction: float = 0.5) -> "Fault":
        """Files only: the full Content-Length header, but only this fraction of the body."""
        return cls("truncate", fraction=fraction)

    @classmethod
    def empty_list(cls) -> "Fault":
        """Download only: ``{"list": []}`` whatever the task's state."""
        return cls("empty_list")

    @classmethod
    def from_json(cls, data: dict) -> "Fault":
        """A fault from ``{"kind": "rate_limit", "args": {"retry_after": 2}}`` (control route)."""
        kind = data.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        return getattr(cls, kind)(**data.get("args", {}))

    def check_endpoint(self, endpoint: str):
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {', '.join(ENDPOINTS)}")
        if self.ONLY_ON.get(self.kind, endpoint) != endpoint:
            raise ValueError(f"a {self.kind} fault applies to {self.ONLY_ON[self.kind]} only")

    def response(self) -> Response | None:
        """The answer that replaces the normal one, or None to answer normally (after the delay
        of a slow fault; truncate and empty_list are applied by their routes)."""
        if self.kind == "rate_limit":
            return rate_limited(self.retry_after)
        if self.kind in ("server_error", "app_error"):
            answer = jsonify(error=self.code, message=self.message)
            answer.status_code = self.status
            return answer
        if self.kind == "slow":
            time.sleep(self.seconds)
        if self.kind == "disconnect":
            # Writing the answer to a shut socket fails, and werkzeug drops the connection.
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return Response(b"")
        return None


def rate_limited(retry_after: float) -> Response:
    """HTTP 429 with a Retry-After header (seconds) and a JSON error body."""
    answer = jsonify(
        error="RATE_LIMITED", message=f"Too many requests, retry after {retry_after:g} seconds."
    )
    answer.status_code = 429
    answer.headers["Retry-After"] = f"{retry_after:g}"
    return answer


KINDS = ("rate_limit", "server_error", "app_error", "slow", "disconnect", "truncate", "empty_list")
