"""HTTP client for the Rodin texture-only API. Knows nothing of Blender.

Every call is blocking: run it on a worker thread. Retries only where a retry is safe, and
never spends credits twice: a submit is retried only when the request surely did not leave.
"""

import email.utils
import functools
import io
import ipaddress
import math
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from . import contract
from .errors import (
    AuthenticationError,
    Cancelled,
    DownloadError,
    InvalidInput,
    InvalidRequest,
    NetworkError,
    RateLimited,
    RedirectRefused,
    RequestTimeout,
    RodinError,
    ServiceError,
    WrongAddress,
    error_for_code,
)
from .files import ProgressCallback, safe_file_name, unique_file_names, write_stream
from .models import (
    ResultFile,
    StatusReport,
    SubmittedTask,
    TextureRequest,
    job_state,
)

DEFAULT_MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
# How often a retry wait looks at the client's close event while it waits on a cancel event.
WAIT_SLICE = 0.1
# Characters of a 5xx body kept in the error message.
ERROR_BODY_CHARS = 300
USER_AGENT = "rodin-texture-blender/0.1"
# The user name and password a URL may carry ("http://user:secret@proxy:3128"): never shown.
URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@'\"<>]*@")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry what is safe to retry."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    default_retry_after: float = 5.0
    max_retry_after: float = 300.0

    def backoff(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


# ---------------------------------------------------------------------------------------------
# The client


@dataclass
class ClientSettings:
    """Connection settings; the key is kept out of ``repr`` so it cannot leak into logs."""

    api_key: str = field(repr=False)
    base_url: str = contract.DEFAULT_BASE_URL
    ca_bundle: str | None = None
    proxy_url: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    upload_read_timeout: float = 180.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class RodinClient:
    """Blocking client for one account. Thread-safe; ``close()`` interrupts waits and retries."""

    def __init__(
        self,
        settings: ClientSettings,
        request_gate: Callable[[threading.Event], None] | None = None,
        retry_notice: Callable[[RodinError, float], None] | None = None,
    ):
        """``request_gate`` is called before every API request (retries too) and may block:
        the job layer's request budget. It gets the client's close event so it can give up.
        ``retry_notice(error, seconds)`` is told, on the calling thread, of each wait before a
        retry."""
        check_api_key(settings.api_key)
        check_url_scheme("base_url", settings.base_url)
        self.settings = settings
        self._request_gate = request_gate
        self._retry_notice = retry_notice
        self._base_url = settings.base_url.rstrip("/")
        self._closed = threading.Event()
        # An explicit auth on each session, so requests never puts a .netrc login in its place.
        self._api = self._new_session()
        self._api.auth = _BearerAuth(settings.api_key.strip())
        # Result links go to a file host: never with the key, not even a netrc login.
        self._files = self._new_session()
        self._files.auth = _no_auth
        self._connection = self._connection_options()

    def __repr__(self):
        return f"RodinClient(base_url={without_credentials(self._base_url)!r})"

    def close(self):
        self._closed.set()
        self._api.close()
        self._files.close()

    # --- the calls ---

    def submit(
        self, request: TextureRequest, *, progress: ProgressCallback | None = None
    ) -> SubmittedTask:
        """Start a texture task (0.5 credits). Validates first, so a mistake costs nothing."""
        image_type = request.validate()
        fields: dict[str, str | tuple] = dict(request.form_fields())
        fields["image"] = (
            safe_file_name(request.image_path.name, "image"),
            request.image_path.read_bytes(),
            contract.IMAGE_MIME_TYPES[image_type],
        )
        fields["model"] = (
            safe_file_name(request.model_path.name, "model.glb"),
            request.model_path.read_bytes(),
            contract.MODEL_MIME_TYPES.get(
                request.model_path.suffix.lower(), "application/octet-stream"
            ),
        )
        body, content_type = urllib3.encode_multipart_formdata(fields)
        answer = self._call(
            "POST",
            contract.SUBMIT_ENDPOINT,
            idempotent=False,
            body=lambda: {
                "data": _ProgressReader(body, progress),
                "headers": {"Content-Type": content_type},
            },
            timeout=(self.settings.connect_timeout, self.settings.upload_read_timeout),
        )
        jobs = answer.get("jobs") if isinstance(answer.get("jobs"), dict) else {}
        task_uuid, subscription_key = answer.get("uuid"), jobs.get("subscription_key")
        if (
            not isinstance(task_uuid, str)
            or not task_uuid
            or not isinstance(subscription_key, str)
            or not subscription_key
        ):
            raise ServiceError(
                "the service accepted the task but sent no task id or subscription key"
            )
        consumed = answer.get("consumed")
        return SubmittedTask(
            task_uuid=task_uuid,
            subscription_key=subscription_key,
            job_uuids=tuple(str(uuid) for uuid in jobs.get("uuids") or ()),
            submit_time=str(answer.get("submit_time") or ""),
            consumed=float(consumed) if isinstance(consumed, int | float) else None,
        )

    def status(self, subscription_key: str) -> StatusReport:
        answer = self._call(
            "POST", contract.STATUS_ENDPOINT, json={"subscription_key": subscription_key}
        )
        jobs = answer.get("jobs")
        if not isinstance(jobs, list):
            raise ServiceError("the status answer has no job list")
        return StatusReport(tuple(job_state(job) for job in jobs))

    def list_results(self, task_uuid: str) -> list[ResultFile]:
        """Fresh signed links to the task's files (they expire after about 10 minutes)."""
        answer = self._call("POST", contract.DOWNLOAD_ENDPOINT, json={"task_uuid": task_uuid})
        entries = answer.get("list")
        if not isinstance(entries, list):
            raise ServiceError("the download answer has no file list")
        entries = [
            entry
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("url"), str)
        ]
        names = [str(entry.get("name") or "") for entry in entries]
        local_names = unique_file_names(safe_file_name(name) for name in names)
        return [
            ResultFile(url=entry["url"], name=name, file_name=local_name)
            for entry, name, local_name in zip(entries, names, local_names, strict=True)
        ]

    def balance(self) -> float:
        answer = self._call("GET", contract.BALANCE_ENDPOINT)
        value = answer.get("balance")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ServiceError("the balance answer has no number")
        return float(value)

    def download(
        self,
        result: ResultFile,
        folder: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> Path:
        """Stream one result file into ``folder`` under its safe name; return its path.

        ``cancel`` stops it at once, in a retry wait too. The body is counted after decoding:
        a compressed answer is held to ``max_bytes`` by what it expands to. A link or redirect
        that is not https (or plain http to this machine) is ``InvalidInput``, never fetched.
        """
        destination = Path(folder) / result.file_name
        response = self._get_file(result.url, cancel)
        with response:
            if response.status_code in (401, 403, 404, 410):
                raise DownloadError(
                    f"the link to {result.file_name} was refused (HTTP {response.status_code}): "
                    "it has probably expired",
                    http_status=response.status_code,
                )
            if response.status_code >= 300:
                raise DownloadError(
                    f"{result.file_name}: HTTP {response.status_code}",
                    http_status=response.status_code,
                )
            # requests decodes gzip and deflate: a Content-Length then counts encoded bytes.
            encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() and not encoded else None
            try:
                write_stream(
                    response.iter_content(DOWNLOAD_CHUNK_BYTES),
                    destination,
                    total=total,
                    max_bytes=max_bytes,
                    progress=progress,
                    cancel=cancel or self._closed,
                )
            except requests.RequestException as exc:
                raise DownloadError(
                    f"{result.file_name} was cut short: {type(exc).__name__}"
                ) from None
        return destination

    # --- plumbing ---

    def _get_file(self, url: str, cancel: threading.Event | None) -> requests.Response:
        """GET a result link, following redirects here rather than in requests: each hop is
        checked by ``check_url_scheme`` before any connection, and none carries credentials
        (requests re-applies a .netrc login on every redirect)."""
        for hop in range(MAX_REDIRECTS + 1):
            check_url_scheme("url" if hop == 0 else "redirect", url)
            # The file host is not the API: its requests do not count against the API's budget.
            response = self._send_with_retries(
                functools.partial(
                    self._files.get,
                    url,
                    stream=True,
                    allow_redirects=False,
                    timeout=self._timeout(),
                    **self._connection,
                ),
                idempotent=True,
                gated=False,
                cancel=cancel,
            )
            if not response.is_redirect:
                return response
            response.close()
            url = urljoin(url, response.headers["Location"])
        raise DownloadError(f"the result link redirected more than {MAX_REDIRECTS} times")

    def _call(
        self,
        method: str,
        endpoint: str,
        *,
        idempotent: bool = True,
        body: Callable[[], dict] | None = None,
        timeout: tuple[float, float] | None = None,
        **arguments,
    ) -> dict:
        """One API call, retried where safe, decoded. ``body`` makes the request's body
        arguments afresh for each try (a streamed body is used up by the previous one).

        Redirects are never followed: the key would go with them, possibly to another host;
        ``_decode`` turns one into an error that names where it pointed.
        """

        def send():
            return self._api.request(
                method,
                self._url(endpoint),
                allow_redirects=False,
                timeout=timeout or self._timeout(),
                **(body() if body else {}),
                **arguments,
                **self._connection,
            )

        return self._decode(self._send_with_retries(send, idempotent=idempotent))

    def _url(self, endpoint: str) -> str:
        return f"{self._base_url}/{endpoint}"

    def _timeout(self) -> tuple[float, float]:
        return (self.settings.connect_timeout, self.settings.read_timeout)

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return session

    def _connection_options(self) -> dict:
        """Certificate bundle and proxy, given with each request: set on the session instead,
        requests lets REQUESTS_CA_BUNDLE and HTTPS_PROXY from the environment override them."""
        options = {}
        if self.settings.ca_bundle:
            options["verify"] = self.settings.ca_bundle
        if self.settings.proxy_url:
            options["proxies"] = {"http": self.settings.proxy_url, "https": self.settings.proxy_url}
        return options

    def _send_with_retries(
        self,
        send: Callable[[], requests.Response],
        *,
        idempotent: bool,
        gated: bool = True,
        cancel: threading.Event | None = None,
    ) -> requests.Response:
        """Send, retrying network errors, 5xx and 429 where safe. Returns any other response.

        ``idempotent=False`` (a submit): retried only after a 429 or when the connection was
        never made, because a request that reached the service may already have spent credits.
        ``cancel`` (or closing the client) ends a wait between tries at once.
        """
        policy = self.settings.retry
        for attempt in range(1, policy.attempts + 1):
            delay = policy.backoff(attempt)
            if gated and self._request_gate is not None:
                self._request_gate(self._closed)
            try:
                response = send()
            except requests.RequestException as exc:
                error = _network_error(exc)
                error.never_sent = _never_sent(exc)
                may_retry = idempotent or error.never_sent
            else:
                if response.status_code == 429:
                    delay = _retry_after(response, policy)
                    error = RateLimited(
                        f"rate limited by the service, retry in {delay:g} s",
                        code="RATE_LIMITED",
                        http_status=429,
                        retry_after=delay,
                    )
                    may_retry = True
                elif response.status_code >= 500:
                    # Scrubbed before the cut, so a key across the cut cannot leak in part.
                    text = self.scrub(response.text)[:ERROR_BODY_CHARS]
                    error = ServiceError(
                        f"HTTP {response.status_code}: {text}", http_status=response.status_code
                    )
                    may_retry = idempotent
                else:
                    return response
                response.close()
            if not may_retry or attempt == policy.attempts:
                raise error
            if self._retry_notice is not None:
                self._retry_notice(error, delay)
            self._wait(delay, cancel)
        raise AssertionError("unreachable")

    def _wait(self, seconds: float, cancel: threading.Event | None):
        """Sleep between tries; raise ``Cancelled`` at once when ``cancel`` is set, and within
        ``WAIT_SLICE`` when the client closes (threading cannot wait on two events at once)."""
        deadline = time.monotonic() + seconds
        events = [event for event in (self._closed, cancel) if event is not None]
        while not any(event.is_set() for event in events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            events[-1].wait(min(remaining, WAIT_SLICE) if cancel else remaining)
        raise Cancelled("the client was closed" if self._closed.is_set() else "cancelled")

    def _decode(self, response: requests.Response) -> dict:
        """The JSON body of an answer, or the typed error it carries (even with a 2xx status)."""
        if response.is_redirect:
            location = self.scrub(response.headers["Location"])
            raise RedirectRefused(
                f"the service redirected to {location!r} (HTTP {response.status_code}); "
                "redirects are not followed, so that the API key goes to the base URL only",
                http_status=response.status_code,
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        error = answer.get("error") if isinstance(answer, dict) else None
        if response.status_code in (404, 405) and error in contract.SUCCESS_ERROR_VALUES:
            raise WrongAddress(
                f"the Service URL looks wrong: {self.scrub(response.url)} answered "
                f"HTTP {response.status_code}",
                http_status=response.status_code,
            )
        if not isinstance(answer, dict):
            if response.status_code == 401:
                raise AuthenticationError(
                    "the API key was refused", code="UNAUTHORIZED", http_status=401
                )
            raise ServiceError(f"unreadable answer from the service (HTTP {response.status_code})")
        if error not in contract.SUCCESS_ERROR_VALUES:
            message = self.scrub(str(answer.get("message") or ""))
            raise error_for_code(self.scrub(str(error)), message, response.status_code)
        if response.status_code == 401:
            raise AuthenticationError(
                "the API key was refused", code="UNAUTHORIZED", http_status=401
            )
        if response.status_code >= 400:
            message = self.scrub(str(answer.get("message") or f"HTTP {response.status_code}"))
            raise InvalidRequest(message, http_status=response.status_code)
        return answer

    def scrub(self, text: str) -> str:
        """``text`` with the key and any URL's password removed: the service's answers (in case
        one echoes them), and whatever else reaches a job's state (a bug's exception text, too)."""
        return without_credentials(text.replace(self.settings.api_key.strip(), "***"))


def without_credentials(text: str) -> str:
    """``text`` with the user name and password of every URL in it left out (the service's,
    the proxy's, the file host's), wherever it is shown or stored."""
    return URL_CREDENTIALS.sub(r"\1", text)


def check_url_scheme(field_name: str, url: str):
    """HTTPS everywhere; plain HTTP only to this machine (the local emulator)."""
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return
    raise InvalidInput(
        field_name,
        f"{without_credentials(url)!r} must be an https:// address (plain http only for localhost)",
    )


def api_key_problem(key: str) -> str:
    """What is wrong with an API key, said without showing it (empty: nothing seen)."""
    key = key.strip()
    if not key:
        return "no API key: set it in the add-on preferences or RODIN_API_KEY"
    for position, character in enumerate(key, 1):
        if not "!" <= character <= "~":  # an HTTP header takes printable ASCII, no spaces
            name = unicodedata.name(character, f"U+{ord(character):04X}")
            return (
                f"character {position} of {len(key)} in the API key is {name}, which no key "
                "has (a key is printable ASCII without spaces): copy it again from Rodin"
            )
    return ""


def check_api_key(key: str) -> None:
    problem = api_key_problem(key)
    if problem:
        raise InvalidInput("api_key", problem)


# ---------------------------------------------------------------------------------------------
# Helpers


class _ProgressReader(io.BytesIO):
    """An in-memory request body that reports how much of it has been sent."""

    def __init__(self, data: bytes, progress: ProgressCallback | None):
        super().__init__(data)
        self._total = len(data)
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        if self._progress is not None and chunk:
            self._progress(self.tell(), self._total)
        return chunk


def _no_auth(request):
    return request


class _BearerAuth(requests.auth.AuthBase):
    """The API key as ``Authorization: Bearer``, kept out of ``repr``."""

    def __init__(self, key: str):
        self._key = key

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request


def _is_loopback(hostname: str | None) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname or "").is_loopback
    except ValueError:
        return False


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so the service cannot have seen it."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, urllib3.exceptions.ProxyError):  # the proxy itself was not reached
        reason = reason.original_error
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _network_error(exc: requests.RequestException) -> RodinError:
    if isinstance(exc, requests.Timeout):
        return RequestTimeout(f"the service did not answer in time ({type(exc).__name__})")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(
            "the secure connection failed (certificate not trusted); behind a company proxy, "
            "set its CA bundle in the add-on preferences"
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return NetworkError(
            "could not reach the proxy (the add-on preferences' Proxy, else the system's): "
            "check its address, or clear it to connect directly"
        )
    return NetworkError(f"could not reach the service ({type(exc).__name__})")


def _retry_after(response: requests.Response, policy: RetryPolicy) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):  # absent or malformed: the default back-off
            seconds = policy.default_retry_after
    if not math.isfinite(seconds):
        seconds = policy.default_retry_after
    return min(max(seconds, 0.0), policy.max_retry_after)
