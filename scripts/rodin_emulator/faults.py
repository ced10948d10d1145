"""Faults the emulator puts into its next answers on one endpoint, to test clients' handling."""

import json
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
    retry_after: float | str = 0.0
    seconds: float = 0.0
    fraction: float = 0.5
    location: str = ""
    offset: int = 0
    pieces: int = 4
    body: dict | None = None

    # Kinds that make sense on one endpoint only.
    ONLY_ON = {"truncate": "files", "gzip": "files", "chunked": "files", "empty_list": "download"}

    @classmethod
    def rate_limit(cls, retry_after: float | str = 1) -> "Fault":
        """HTTP 429 with a Retry-After header and a JSON error body. A number is sent as
        seconds; text is sent as it is, to test clients against a malformed header."""
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
    def redirect(cls, location: str = "", status: int = 302) -> "Fault":
        """A redirect to ``location``; empty: to the same path and query, as a relative
        ``Location`` (the next request there gets the normal answer, the fault being used)."""
        return cls("redirect", status=status, location=location)

    @classmethod
    def gzip(cls) -> "Fault":
        """Files only: the body gzip-compressed, with ``Content-Encoding: gzip`` and the
        compressed size as ``Content-Length``, as a CDN may send it."""
        return cls("gzip")

    @classmethod
    def chunked(cls, pieces: int = 4) -> "Fault":
        """Files only: the body streamed in this many pieces with no ``Content-Length``."""
        return cls("chunked", pieces=pieces)

    @classmethod
    def echo_key(cls, status: int = 500, offset: int = 0) -> "Fault":
        """The key of the request's Authorization header sent back as the error code and in the
        message, starting at character ``offset`` of the body (at least 13): a service that
        leaks what it was sent, to test that clients scrub it wherever it lands."""
        return cls("echo_key", status=status, offset=offset)

    @classmethod
    def answer(cls, body: dict, status: int = 201) -> "Fault":
        """This JSON body instead of the normal answer (e.g. a success missing its fields)."""
        return cls("answer", status=status, body=body)

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
        of a slow fault; truncate, gzip, chunked and empty_list are applied by their routes)."""
        if self.kind == "rate_limit":
            return rate_limited(self.retry_after)
        if self.kind in ("server_error", "app_error", "answer"):
            answer = jsonify(self.body or {"error": self.code, "message": self.message})
            answer.status_code = self.status
            return answer
        if self.kind == "redirect":
            return Response(status=self.status, headers={"Location": self.location or relative()})
        if self.kind == "echo_key":
            key = request.headers.get("Authorization", "").removeprefix("Bearer ")
            # json.dumps keeps this order: the message's text starts after '{"message": "'.
            filler = "." * max(0, self.offset - len('{"message": "'))
            text = json.dumps({"message": f"{filler}{key} is not a valid key", "error": key})
            return Response(text, status=self.status, mimetype="application/json")
        if self.kind == "slow":
            time.sleep(self.seconds)
        if self.kind == "disconnect":
            # Writing the answer to a shut socket fails, and werkzeug drops the connection.
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return Response(b"")
        return None


def rate_limited(retry_after: float | str) -> Response:
    """HTTP 429 with a Retry-After header (seconds, or text as given) and a JSON error body."""
    value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
    answer = jsonify(
        error="RATE_LIMITED", message=f"Too many requests, retry after {value} seconds."
    )
    answer.status_code = 429
    answer.headers["Retry-After"] = value
    return answer


def relative() -> str:
    """This request's path and query, as a relative reference."""
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


KINDS = (
    "rate_limit",
    "server_error",
    "app_error",
    "slow",
    "disconnect",
    "truncate",
    "empty_list",
    "redirect",
    "gzip",
    "chunked",
    "echo_key",
    "answer",
)
